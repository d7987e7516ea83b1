// One notification being handled: the kernel's record of the call, the
// guest thread's memory, the decisions noted while handling it, and the
// way its answer reaches the kernel. Handlers get it by reference
// (broker/handlers/handlers.h); a completion that answers later (through the ring,
// maybe on another thread) takes the Call with it (defer()), so nothing
// about one call lives on a shared object.
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "broker/async_ops.h"
#include "broker/decision_log.h"
#include "broker/expected.h"
#include "broker/guest_memory.h"
#include "broker/guest_pidfds.h"
#include "broker/notify_channel.h"
#include "broker/verdict.h"
#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

// An allowed or audited decision a handler acted on, logged once the call
// is answered (denials are logged where they are made).
struct NotedDecision {
  std::string target;
  Need need = Need::kStat;
  bool storage = true;
  bool bind = false;
  DecisionKind kind = DecisionKind::kAllow;
  const Grant* grant = nullptr;
  const NetGrant* net_grant = nullptr;
  DecisionHint hint = DecisionHint::kNone;  // network audits: an address probe
};

// The grant a storage denial (or audit) advises, with the hint, looked up
// as the guest (handlers act as it). A shell's PATH search stats the
// program it goes on to run: exec is what it lacks.
struct StorageAdvice {
  MissingGrant grant;
  DecisionHint hint = DecisionHint::kNone;
};
StorageAdvice storage_advice(const std::string& path, Need need);

// Delivers a verdict to the kernel. kDeferred is delivered later by whoever
// completes it.
void deliver(NotifyChannel& channel, uint64_t id, Verdict verdict);

// What a call reaches beyond itself: the session's channel, the guest
// memory reader, the ring, the decision log and the guests' pidfds. All
// outlive every call.
struct CallLinks {
  NotifyChannel* channel = nullptr;
  GuestMemory* memory = nullptr;
  AsyncOps* async = nullptr;
  DecisionLog* decisions = nullptr;
  GuestPidfds* pidfds = nullptr;
};

class Call {
 public:
  Call(const seccomp_notif& n, CallLinks links) : notif_(n), links_(links) {}

  uint64_t id() const { return notif_.id; }
  // The calling thread (a thread id; guest_proc finds its process).
  pid_t tid() const { return static_cast<pid_t>(notif_.pid); }
  int nr() const { return notif_.data.nr; }
  uint32_t arch() const { return notif_.data.arch; }
  const __u64* args() const { return notif_.data.args; }

  GuestMemory& memory() const { return *links_.memory; }
  AsyncOps& async() const { return *links_.async; }
  DecisionLog& decisions() const { return *links_.decisions; }
  GuestPidfds& pidfds() const { return *links_.pidfds; }

  // A path argument, copied once (at most PATH_MAX); else its errno.
  Expected<std::string, Verdict> read_path(uint64_t addr) const;
  // Guest memory, read or written as a step: the errno becomes the answer.
  Expected<void, Verdict> read(uint64_t addr, void* out, size_t len) const;
  Expected<void, Verdict> write(uint64_t addr, const void* data, size_t len) const;

  // True while the notification is pending: call after the last read of
  // guest memory and before acting. Once it is not, the thread was
  // interrupted or is gone, and nothing may be done for it.
  bool pending() const { return links_.channel->id_valid(notif_.id); }

  // Keeps an allowed or audited decision for the log (once per target).
  void note(NotedDecision d);
  // Completes `ev` with this call's thread and syscall and logs it.
  void record(DecisionEvent& ev) const;
  // Logs `ev` as a denial and answers its errno.
  Verdict refuse(DecisionEvent ev) const;

  // Logs what was noted with `v`'s errno and returns `v` (the synchronous
  // path: the notify thread delivers it).
  Verdict answer(Verdict v);
  // For a deferred completion: answer(v), then delivers it.
  void finish(Verdict v);
  // The call to move into a deferred completion: what was noted so far is
  // logged now, as a deferred answer (a decision is logged when it is acted
  // on); the completion logs what it notes itself when it finishes.
  Call defer();

 private:
  seccomp_notif notif_;
  CallLinks links_;
  std::vector<NotedDecision> noted_;
};

// The name of x86_64 syscall `nr` for logs ("unknown syscall" if none).
const char* syscall_name(int nr);

}  // namespace wwjail
