#include "broker/guest_memory.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "broker/guest_identity.h"

namespace wwjail {
namespace {
constexpr uint64_t kPage = 4096;
}

// Guest memory is the broker's to read, whoever it acts for: process_vm_*
// checks ptrace access, which a guest identity (a guest that dropped to
// another uid, or holds no capability) would not pass.
int ProcessVmMemory::read(pid_t pid, uint64_t addr, void* buf, size_t len) {
  if (len == 0) return 0;
  AsBroker broker;
  if (addr == 0) return EFAULT;
  iovec local{buf, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(len)) return 0;
  return n < 0 && errno != EFAULT ? (errno == ESRCH ? ESRCH : EFAULT) : EFAULT;
}

int ProcessVmMemory::write(pid_t pid, uint64_t addr, const void* buf, size_t len) {
  if (len == 0) return 0;
  AsBroker broker;
  if (addr == 0) return EFAULT;
  iovec local{const_cast<void*>(buf), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  ssize_t n = ::process_vm_writev(pid, &local, 1, &remote, 1, 0);
  return n == static_cast<ssize_t>(len) ? 0 : EFAULT;
}

int ProcessVmMemory::read_string(pid_t pid, uint64_t addr, size_t max, std::string& out) {
  out.clear();
  if (addr == 0) return EFAULT;
  AsBroker broker;
  char chunk[kPage];
  while (out.size() < max) {
    // Never cross a page boundary in one read: the next page may be unmapped
    // even though the string ends before it.
    size_t len = kPage - (addr % kPage);
    len = std::min(len, max - out.size());
    if (int err = read(pid, addr, chunk, len); err != 0) return err;
    if (const void* nul = std::memchr(chunk, 0, len)) {
      out.append(chunk, static_cast<const char*>(nul) - chunk);
      return 0;
    }
    out.append(chunk, len);
    addr += len;
  }
  return ENAMETOOLONG;
}

}  // namespace wwjail
