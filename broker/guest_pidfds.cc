#include "broker/guest_pidfds.h"

#include <fcntl.h>

#include <cerrno>

#include "sys/kernel_abi.h"

namespace wwjail {

UniqueFd GuestPidfds::open_thread(pid_t tid) {
  // n.tid() is a thread id: PIDFD_THREAD (O_EXCL, Linux 6.9) opens any
  // thread. Without it a non-leader thread fails (EINVAL on older kernels,
  // ENOENT on newer ones), so an older kernel gets the plain call.
  UniqueFd pidfd(kernel::pidfd_open(tid));
  if (!pidfd.valid() && (errno == EINVAL || errno == ENOENT)) pidfd.reset(kernel::pidfd_open(tid, O_EXCL));
  if (!pidfd.valid()) errno = ESRCH;
  return pidfd;
}

int GuestPidfds::take_fd(pid_t tid, int fd) {
  if (tid <= 0) {
    errno = ESRCH;
    return -1;
  }
  std::lock_guard lock(mutex_);
  Slot* slot = nullptr;
  for (auto& s : slots_) {
    if (s.tid == tid && s.pidfd.valid()) slot = &s;
  }
  if (slot) {
    int out = kernel::pidfd_getfd(slot->pidfd.get(), fd);
    if (out >= 0 || errno != ESRCH) return out;
    // That thread is gone: the tid may be another's now.
    slot->pidfd.reset();
    slot->tid = 0;
  } else {
    slot = &slots_[next_];
    next_ = (next_ + 1) % kSlots;
  }
  UniqueFd pidfd = open_thread(tid);
  if (!pidfd.valid()) return -1;
  int out = kernel::pidfd_getfd(pidfd.get(), fd);
  int err = errno;
  slot->tid = tid;
  slot->pidfd = std::move(pidfd);
  errno = err;
  return out;
}

}  // namespace wwjail
