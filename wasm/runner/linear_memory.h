// The guest's linear memory as the WASI host sees it: every pointer a module
// passes is checked against the memory's size before it is touched, and
// nothing is read or written outside [0, size).
#pragma once

#include <sys/uio.h>
#include <wasm-rt.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "wasm/runner/wasi_abi.h"

namespace wwjail {

class LinearMemory {
 public:
  void bind(wasm_rt_memory_t* memory) { memory_ = memory; }

  // False when [ptr, ptr+len) is outside the memory (or none is bound yet).
  bool in_bounds(uint32_t ptr, uint64_t len) const {
    // From the page count: `size` is 32 bits and reads 0 at exactly 4 GiB.
    return memory_ && static_cast<uint64_t>(ptr) + len <= uint64_t{memory_->pages} * 65536;
  }
  // The host address of `ptr`; only after in_bounds said yes.
  uint8_t* at(uint32_t ptr) const { return memory_->data + ptr; }

  template <typename T>
  bool store(uint32_t ptr, T value) {
    if (!in_bounds(ptr, sizeof value)) return false;
    std::memcpy(at(ptr), &value, sizeof value);  // both little-endian
    return true;
  }
  template <typename T>
  bool load(uint32_t ptr, T& value) const {
    if (!in_bounds(ptr, sizeof value)) return false;
    std::memcpy(&value, at(ptr), sizeof value);
    return true;
  }

  // The iovecs at `iovs` as host iovecs; false if any lies outside memory.
  bool iovecs(uint32_t iovs, uint32_t count, std::vector<struct iovec>& out) const;
  // A path argument; EINVAL for embedded NULs, EFAULT outside memory.
  wasi::Errno path_arg(uint32_t ptr, uint32_t len, std::string& out) const;
  // argv/environ: the pointer array at `ptrs`, the strings at `buf`.
  wasi::Errno put_strings(const std::vector<std::string>& items, uint32_t ptrs, uint32_t buf);
  // argv/environ's sizes: how many strings, and their bytes with the NULs.
  wasi::Errno put_string_sizes(const std::vector<std::string>& items, uint32_t count_out, uint32_t size_out);

 private:
  wasm_rt_memory_t* memory_ = nullptr;
};

}  // namespace wwjail
