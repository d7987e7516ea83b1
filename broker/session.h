// The session of one guest tree: the broker's side of the seccomp
// notifications. It owns the notify channel, the broker's event loop, the
// guest-memory reader, whose credentials the broker acts with, the decision
// log and the syscall handlers, and serves notifications on the notify
// thread while the loop runs on the calling thread (broker/notify_thread.h
// says which thread owns what). Built while the guest child sets itself up
// (shim/guest_launch.h, PendingLaunch), before its listener exists, notify
// thread included; serve() takes the listener. The session must be gone
// before the broker forks again (a relaunch): its thread must not cross.
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>

#include "broker/async_handoff.h"
#include "broker/decision_log.h"
#include "broker/grant_roots.h"
#include "broker/guest_identity.h"
#include "broker/guest_memory.h"
#include "broker/log_sinks.h"
#include "broker/notify_channel.h"
#include "broker/notify_thread.h"
#include "broker/event_loop.h"
#include "broker/syscall_handlers.h"
#include "policy/jail_spec.h"

namespace wwjail {

// What only the launch knows.
struct LaunchFacts {
  int landlock_abi = 0;
  pid_t tree_root = 0;         // the reaper: every guest descends from it
  uint64_t kept_capabilities = 0;  // the mask the guest keeps
};

class Session {
 public:
  // `spec` and `roots` must outlive the session, and so must `observer`
  // (a learner) and `watcher` (the control plane's feed) where given.
  Session(const JailSpec& spec, const GrantRoots& roots, const LaunchFacts& facts, LogSinks& logs,
          DecisionObserver* observer, DecisionObserver* watcher = nullptr);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The loop the session's asynchronous work runs on; the supervisor
  // watches its descriptors there too.
  EventLoop& loop() { return *loop_; }

  // Takes the guest's listener, lets the notify thread serve it, calls `release`
  // (the guest may exec), and runs the loop until `done` or the notify
  // thread fails; then calls `failed` and throws SysError, the guests no
  // longer being served. Once per session.
  void serve(UniqueFd notify_fd, const std::function<void()>& release, const std::function<bool()>& done,
             const std::function<void()>& failed);

  // After a run whose guest ran: the totals of repeated denials, then (in
  // audit and learn) the summary line.
  void finish(int exit_status);

  // The decisions so far (any thread).
  DecisionLog::Counts counts() const { return decisions_.counts(); }

 private:
  const JailSpec& spec_;
  spdlog::logger& log_;
  KernelNotifyChannel channel_;
  // The broker's event loop (io_uring, or epoll with workers where io_uring
  // is refused): created here, and only here.
  std::unique_ptr<EventLoop> loop_;
  ProcessVmMemory memory_;
  GuestIdentities identities_;
  AsyncHandoff async_;
  DecisionLog decisions_;
  SyscallHandlers handlers_;
  // Started with the session, served once serve() has the listener; last,
  // so that it stops before anything it uses goes.
  std::optional<NotifyThread> notifier_;
};

}  // namespace wwjail
