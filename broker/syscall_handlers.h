// The session's entry to the handlers: one notification in, its verdict
// out. Builds the Call (broker/call.h) and routes it by syscall number to
// its handler (broker/handlers/handlers.h), with the session's Services.
#pragma once

#include <linux/seccomp.h>
#include <spdlog/logger.h>

#include <memory>
#include <vector>

#include "broker/async_ops.h"
#include "broker/call.h"
#include "broker/decision_log.h"
#include "broker/grant_roots.h"
#include "broker/guest_memory.h"
#include "broker/notify_channel.h"
#include "broker/services.h"
#include "broker/verdict.h"
#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

// A notified syscall's handler, reading its arguments from the registers.
struct Route {
  int nr;
  Verdict (*handle)(Call& n, const Services& s, const __u64* args);
};
// Every route, sorted by number (checked once, at first use). A notified
// syscall missing here is refused with ENOSYS and logged, and a unit test
// (syscall_routes_test.cc) fails for every notified syscall of the
// filter's rules that has no route.
const std::vector<Route>& syscall_routes();
// The route of x86_64 syscall `nr`, or nullptr.
const Route* find_route(int nr);

class SyscallHandlers {
 public:
  // `net` nullptr: no network grant. `decisions` nullptr: decisions are
  // logged to `log` with the default options.
  SyscallHandlers(const StorageCaps& caps, const GrantRoots& roots, NotifyChannel& channel, GuestMemory& memory,
                  AsyncOps& async, spdlog::logger& log, HandlerOptions options, const NetCaps* net = nullptr,
                  DecisionLog* decisions = nullptr);

  // The verdict for one notification (kDeferred: its completion answers).
  Verdict handle(const seccomp_notif& n);
  // The identity a thread handling these calls rests in between them (the
  // guests' launch identity), or none when the broker never switches.
  std::optional<GuestIdentity> resting_identity() const;
  // Called by the handling thread itself once it has its own cwd and umask,
  // before it handles the first call.
  void set_private_fs(bool v) { services_.options.private_fs = v; }

  static const char* syscall_name(int nr) { return wwjail::syscall_name(nr); }
  // True when a handler takes syscall `nr` (x86_64 number).
  static bool has_route(int nr) { return find_route(nr) != nullptr; }

 private:
  Verdict dispatch(Call& n) const;

  std::unique_ptr<DecisionLog> own_decisions_;  // when the caller passed none
  GuestPidfds pidfds_;
  CallLinks links_;
  Services services_;
};

}  // namespace wwjail
