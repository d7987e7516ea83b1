// Pidfds of guest threads, kept between calls, for taking the guest's
// descriptors (pidfd_getfd). Opening a pidfd and closing it costs about
// 6 us on the development VM (pidfs makes a file and a dentry each time),
// more than three times the pidfd_getfd it serves; every call on a
// descriptor the broker handles (fstat when the broker mediates the stat
// family, fchmod, fchown, ...) needs one.
//
// Why a cached pidfd is as good as a fresh one: a pidfd names one thread
// (PIDFD_THREAD) for as long as it exists, and a live thread's tid is its
// own, so a cached pidfd whose thread lives is the thread that holds that
// tid now, which is what pidfd_open(tid) would give. When that thread is
// gone, pidfd_getfd says ESRCH and the slot is opened again for whoever holds
// the tid now: the same answer an uncached open gives, and as before the
// handler checks that the notification is still pending before it acts.
//
// Shared by the threads that handle calls (notify thread, event loop):
// one lock, held across the pidfd_getfd so that no slot is closed under it.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <mutex>

#include "sys/unique_fd.h"

namespace wwjail {

class GuestPidfds {
 public:
  GuestPidfds() = default;
  GuestPidfds(const GuestPidfds&) = delete;
  GuestPidfds& operator=(const GuestPidfds&) = delete;

  // A duplicate of descriptor `fd` of thread `tid` (close-on-exec), or -1
  // with errno: ESRCH when the thread is gone, else pidfd_getfd's.
  int take_fd(pid_t tid, int fd);

  // Few, so the broker's descriptors stay bounded; more than the threads
  // that usually make calls at once. When the broker runs out of
  // descriptors, the cache empties itself before it gives up.
  static constexpr size_t kSlots = 16;

 private:
  struct Slot {
    pid_t tid = 0;
    UniqueFd pidfd;
  };
  void release_all_but(const Slot* keep);
  int getfd(int pidfd, int fd, const Slot* keep);

  std::mutex mutex_;
  std::array<Slot, kSlots> slots_;
  size_t next_ = 0;  // the slot a new thread takes (round robin)
};

}  // namespace wwjail
