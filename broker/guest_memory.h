// Reading and writing guest memory. Every read is a copy the broker owns:
// handlers decide on the copy and never read the same guest bytes twice.
// After reading, the caller must confirm the notification is still pending
// (NotifyChannel::id_valid) before acting on what it read, because the pid
// may have been reused by then.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace wwjail {

class GuestMemory {
 public:
  virtual ~GuestMemory() = default;
  // Copies `len` bytes of the memory of thread `tid` (its process's memory).
  // Returns 0 or an errno (EFAULT for a bad pointer).
  virtual int read(pid_t tid, uint64_t addr, void* buf, size_t len) = 0;
  virtual int write(pid_t tid, uint64_t addr, const void* buf, size_t len) = 0;
  // Copies a NUL-terminated string of at most `max` bytes including the NUL.
  // Returns 0, EFAULT, or ENAMETOOLONG.
  virtual int read_string(pid_t tid, uint64_t addr, size_t max, std::string& out) = 0;
};

// process_vm_readv / process_vm_writev. Reads strings page by page so a
// path that ends just before an unmapped page is still read correctly.
class ProcessVmMemory final : public GuestMemory {
 public:
  int read(pid_t pid, uint64_t addr, void* buf, size_t len) override;
  int write(pid_t pid, uint64_t addr, const void* buf, size_t len) override;
  int read_string(pid_t pid, uint64_t addr, size_t max, std::string& out) override;
};

}  // namespace wwjail
