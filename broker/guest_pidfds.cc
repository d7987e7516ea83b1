#include "broker/guest_pidfds.h"

#include <fcntl.h>

#include <cerrno>

#include "sys/kernel_abi.h"

namespace wwjail {

namespace {

// A pidfd for `tid`, or -1 with pidfd_open's errno.
int open_pidfd(pid_t tid) {
  // A notification names a thread: PIDFD_THREAD (O_EXCL, Linux 6.9) opens
  // any thread. Without it a non-leader thread fails (EINVAL on older
  // kernels, ENOENT on newer ones), so an older kernel gets the plain call.
  int fd = kernel::pidfd_open(tid);
  if (fd < 0 && (errno == EINVAL || errno == ENOENT)) fd = kernel::pidfd_open(tid, O_EXCL);
  return fd;
}

bool out_of_descriptors(int err) { return err == EMFILE || err == ENFILE; }

}  // namespace

// The cache must not be what leaves the broker short of descriptors: when
// it is, it lets go of what it holds (but `keep`) and the call tries again.
void GuestPidfds::release_all_but(const Slot* keep) {
  for (auto& s : slots_) {
    if (&s == keep) continue;
    s.pidfd.reset();
    s.tid = 0;
  }
}

int GuestPidfds::getfd(int pidfd, int fd, const Slot* keep) {
  int out = kernel::pidfd_getfd(pidfd, fd);
  if (out < 0 && out_of_descriptors(errno)) {
    release_all_but(keep);
    out = kernel::pidfd_getfd(pidfd, fd);
  }
  return out;
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
    int out = getfd(slot->pidfd.get(), fd, slot);
    if (out >= 0 || errno != ESRCH) return out;
    // That thread is gone: the tid may be another's now.
    slot->pidfd.reset();
    slot->tid = 0;
  } else {
    slot = &slots_[next_];
    next_ = (next_ + 1) % kSlots;
  }
  UniqueFd pidfd(open_pidfd(tid));
  if (!pidfd.valid() && out_of_descriptors(errno)) {
    release_all_but(nullptr);
    pidfd.reset(open_pidfd(tid));
  }
  if (!pidfd.valid()) {
    errno = ESRCH;
    return -1;
  }
  int out = getfd(pidfd.get(), fd, slot);
  int err = errno;
  slot->tid = tid;
  slot->pidfd = std::move(pidfd);
  errno = err;
  return out;
}

}  // namespace wwjail
