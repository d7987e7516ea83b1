// The broker's event loop on io_uring (liburing), one of the two EventLoops
// (broker/event_loop.h). Single-threaded: every callback runs on the thread
// that calls run(), which owns all broker state.
//
// Operations submitted while the thread acts as a guest
// (broker/guest_identity.h) run with that guest's credentials: the ring
// registers them as a personality for the one SQE, since io-wq workers would
// otherwise run it with whatever the submitting thread holds later.
//
// Readiness uses one-shot polls re-armed after each event rather than
// multishot polls: arming a poll checks the fd's state immediately, so
// wakeups the kernel coalesced cannot leave a notification unread, and the
// re-arm SQE goes out in the same io_uring_enter as the wait (no extra syscall).
#pragma once

#include <liburing.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "broker/event_loop.h"
#include "sys/sys_error.h"

namespace wwjail {

// io_uring cannot be set up here; what() names the cause
// (broker/io_uring_refusal.h), error() is io_uring_setup's errno.
class RingUnavailable : public SetupError {
 public:
  explicit RingUnavailable(int err);
  int error() const { return err_; }

 private:
  int err_;
};

class RingLoop final : public EventLoop {
 public:
  // Throws RingUnavailable when the kernel refuses the ring.
  explicit RingLoop(unsigned entries = 256);
  ~RingLoop() override;
  RingLoop(const RingLoop&) = delete;
  RingLoop& operator=(const RingLoop&) = delete;

  void watch_readable(int fd, std::function<bool(uint32_t revents)> cb) override;
  void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) override;
  void connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
               std::function<void(int)> done) override;
  void sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
               std::function<void(int)> done) override;

  void run(const std::function<bool()>& stop) override;
  const char* name() const override { return "io_uring"; }
  size_t in_flight() const { return ops_.size(); }
  unsigned setup_flags() const { return setup_flags_; }

 private:
  struct Op {
    std::function<void(int res)> on_complete;
    std::string path;
    open_how how{};
    sockaddr_storage addr{};
    std::shared_ptr<OwnedMessage> message;
    std::shared_ptr<void> keep;
    int personality = 0;  // registered for this op; unregistered on completion
  };
  // The personality for an op submitted now (0: the ring's own).
  int personality_for_caller();
  io_uring_sqe* next_sqe();
  void arm_poll(int fd, std::shared_ptr<std::function<bool(uint32_t)>> cb);
  uint64_t add_op(std::unique_ptr<Op> op);
  template <class Prep>
  void submit_as_caller(std::unique_ptr<Op> op, Prep&& prep);

  io_uring ring_{};
  std::unordered_map<uint64_t, std::unique_ptr<Op>> ops_;
  uint64_t next_id_ = 1;
  unsigned setup_flags_ = 0;
};

}  // namespace wwjail
