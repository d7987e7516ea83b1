// The seccomp user-notification fd behind a small interface, so handler logic
// is testable with a fake (tests/unit) and the kernel quirks live in one place.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <vector>

#include "sys/unique_fd.h"

namespace wwjail {

class NotifyChannel {
 public:
  virtual ~NotifyChannel() = default;
  // Receives one notification (blocking). False when it vanished before we
  // read it (the guest thread was killed: ENOENT) or the wait was
  // interrupted (EINTR): neither is an error.
  virtual bool receive(seccomp_notif& out) = 0;
  // Sends a response. A guest that died meanwhile (ENOENT) is ignored.
  virtual void respond(const seccomp_notif_resp& resp) = 0;
  // True while notification `id` is still pending: the guest thread is still
  // blocked in that syscall, so its pid and memory are still the ones we read.
  virtual bool id_valid(uint64_t id) = 0;
  // Installs `fd` in the guest (SECCOMP_IOCTL_NOTIF_ADDFD). With
  // SECCOMP_ADDFD_FLAG_SEND it also answers the notification with the new fd
  // number, atomically. Returns the guest's fd number or -errno.
  virtual int add_fd(const seccomp_notif_addfd& addfd) = 0;
};

// The real listener. Sizes buffers with SECCOMP_GET_NOTIF_SIZES, because the
// kernel's structs may be larger than the headers we were built with.
// Made before the guest's listener exists (the broker prepares its session
// while the guest child sets itself up) and given the listener once, with
// attach(), before anything is received.
class KernelNotifyChannel final : public NotifyChannel {
 public:
  KernelNotifyChannel();
  // Takes the guest's listener. Once only: a second one throws.
  void attach(UniqueFd fd);
  int fd() const { return fd_.get(); }
  // Linux 6.6: wake the broker on the CPU of the notifying thread.
  bool enable_sync_wakeup();

  bool receive(seccomp_notif& out) override;
  // True once no process uses the filter any more (the listener polls as
  // hung up): every receive would fail with ENOENT at once.
  bool guests_gone() const;
  void respond(const seccomp_notif_resp& resp) override;
  bool id_valid(uint64_t id) override;
  int add_fd(const seccomp_notif_addfd& addfd) override;

 private:
  UniqueFd fd_;
  std::vector<unsigned char> notif_buf_;  // receive() is called from one thread only
  size_t resp_size_ = 0;
};

}  // namespace wwjail
