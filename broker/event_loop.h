// The broker's event loop, as the run sees it: readiness watches, a run
// until told to stop, and the operations that can block (AsyncOps). Two
// implementations keep the same promise, one slow guest operation never
// stalls another guest's calls, and the same threading contract:
//  * every method is called on the loop's thread (the thread that calls
//    run()), except the AsyncOps of a loop whose submits_from_any_thread()
//    is true; the notify thread reaches the loop through AsyncHandoff;
//  * every callback (a watch's, an operation's completion) runs on that
//    thread, later, never inside the call that registered it;
//  * an operation submitted while the thread acts as a guest
//    (broker/guest_identity.h) is performed with that guest's credentials.
//
// RingLoop (broker/ring_loop.h) is io_uring; EpollLoop (broker/epoll_loop.h)
// is epoll plus a pool of worker threads, for where io_uring cannot be set
// up: refused by a container's seccomp profile (Docker >= 25, Podman and
// Kubernetes' RuntimeDefault answer ENOSYS), disabled by the
// kernel.io_uring_disabled sysctl (Linux 6.6, EPERM), or a kernel too old
// for the ring's setup flags (EINVAL).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>

#include <spdlog/spdlog.h>

#include "broker/async_ops.h"

namespace wwjail {

class EventLoop : public AsyncOps {
 public:
  // Calls `cb(revents)` (poll(2) bits) each time `fd` is readable, until cb
  // returns false. The fd must stay open while it is watched.
  virtual void watch_readable(int fd, std::function<bool(uint32_t revents)> cb) = 0;
  // Runs until `stop()` returns true (checked after every batch of events).
  virtual void run(const std::function<bool()>& stop) = 0;
  // "io_uring" or "epoll", for the logs.
  virtual const char* name() const = 0;
  // Whether openat2, connect and sendmsg may be called from any thread
  // (their completions still run on the loop's thread).
  virtual bool submits_from_any_thread() const { return false; }
};

// Which loop to use: WWJAIL_EVENT_LOOP=io_uring|epoll|auto (auto when unset).
enum class LoopChoice { kAuto, kIoUring, kEpoll };
// Parses the variable's value (nullptr: unset). Throws SetupError.
LoopChoice parse_loop_choice(const char* value);

// io_uring when it can be set up (or when `choice` demands it: a failure
// then throws SetupError naming the real cause), epoll otherwise; says at
// debug level which loop runs and why.
std::unique_ptr<EventLoop> make_event_loop(spdlog::logger& log,
                                           LoopChoice choice = parse_loop_choice(std::getenv("WWJAIL_EVENT_LOOP")));

}  // namespace wwjail
