// The notify thread: receives each notification with a blocking
// SECCOMP_IOCTL_NOTIF_RECV, runs its handler and answers it. A blocking
// receive is the shortest path from a guest's syscall to the broker: with
// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP the kernel switches straight to this
// thread on the guest's CPU, with no poll, no ring and no extra syscall.
//
// Threads and what they own:
//  * notify thread: receiving and answering notifications (the hot path);
//  * main thread: the event loop, io_uring or epoll (broker/event_loop.h:
//    signals, the reaper's status, async opens and their deferred answers);
//  * with the epoll loop, its worker threads (broker/blocking_pool.h):
//    only the blocking operations themselves, as the guest they serve.
// Both use the channel (its ioctls are thread-safe; each call has its own
// buffer), the handlers' immutable state (grants, pinned roots) and the
// logger (a thread-safe sink).
#pragma once

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "broker/notify_channel.h"
#include "broker/syscall_handlers.h"

namespace wwjail {

// Started before the guest's listener exists (while the guest child sets
// itself up, so that the thread's creation is off the path to the guest's
// exec); it receives nothing until serve() says the channel holds the
// listener.
class NotifyThread {
 public:
  NotifyThread(KernelNotifyChannel& channel, SyscallHandlers& handlers, spdlog::logger& log);
  ~NotifyThread();  // stops and joins, served or not

  // The channel holds the listener: receive and answer from now on.
  void serve();
  NotifyThread(const NotifyThread&) = delete;
  NotifyThread& operator=(const NotifyThread&) = delete;

  // True when the thread ended on its own (a broker error); the run must end.
  bool failed() const { return failed_.load(); }
  // Whether the thread got its own cwd and umask (unshare(CLONE_FS)).
  bool private_fs() const { return private_fs_.load(); }

 private:
  void run();

  KernelNotifyChannel& channel_;
  SyscallHandlers& handlers_;
  spdlog::logger& log_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> serving_{false};  // set by serve(), or by the destructor to end an unserved thread
  std::mutex exit_mutex_;
  std::condition_variable exit_cv_;
  bool exited_ = false;  // under exit_mutex_
  std::atomic<bool> failed_{false};
  std::atomic<bool> private_fs_{false};
  std::atomic<bool> fs_ready_{false};
  struct sigaction previous_wake_action_{};
  std::thread thread_;
};

}  // namespace wwjail
