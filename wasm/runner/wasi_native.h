// The native side of WASI's values, shared by the host calls: Linux errno,
// file types, times and clocks in WASI's terms, and the one way a path is
// opened beneath a guest's directory.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "wasm/runner/wasi_abi.h"

namespace wwjail::wasi {

inline Errno last_error() { return from_errno(errno); }

// The WASI file type of `st`; for a socket, `fd` (when given) tells a
// datagram socket from a stream one.
Filetype filetype_of(const struct stat& st, int fd = -1);

inline uint64_t nanos(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
inline struct timespec to_timespec(uint64_t ns) {
  return {static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
}

// WASI's clock id as Linux's; false for an id WASI does not define.
bool clock_of(uint32_t id, clockid_t& out);

// WASI's fstflags as the two timespecs utimensat and futimens take; false
// when the flags contradict themselves or hold unknown bits.
bool times_of(uint64_t atim, uint64_t mtim, uint32_t flags, struct timespec ts[2]);

// openat2 beneath `dirfd`: "..", absolute paths and absolute symlinks fail
// with EXDEV (ENOTCAPABLE to the guest), magic links are not followed, and
// the result is close-on-exec. `mode` only counts with O_CREAT.
int openat2_beneath(int dirfd, const std::string& path, uint64_t flags, uint64_t mode);

}  // namespace wwjail::wasi
