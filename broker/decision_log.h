// Every capability decision the broker makes, as an event: logged (text or
// one JSON object per line), counted for audit mode's summary, and handed
// to a learner when `wwjail learn` is recording.
//
// Denials are always logged (warning). Allowed decisions are recorded only
// when someone wants them: --log-level info or lower, audit mode (for its
// counts) or learn mode. Handlers ask records_allowed() first, so a quiet
// run pays nothing for them.
//
// Whatever bytes a guest put in a path, a text line stays one line with
// every control character, DEL and invalid UTF-8 byte escaped (\n, \x1b,
// \xff; a backslash as \\), and a JSON line stays valid JSON (invalid
// UTF-8 becomes U+FFFD; the event is never dropped).
#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

enum class DecisionKind : uint8_t {
  kAllow,  // a grant allowed it
  kAudit,  // the grants deny it; audit mode let it through
  kDeny,   // refused
};
std::string_view decision_kind_name(DecisionKind kind);  // "allow", "audit", "deny"

struct DecisionEvent {
  pid_t pid = 0;
  std::string_view syscall;
  std::string_view target;  // canonical path, or a network SPEC
  std::string_view need;    // "read", "create", "bind", "connect", ...
  DecisionKind kind = DecisionKind::kAllow;
  int err = 0;              // what the guest was answered, when it is an error
  std::string_view missing; // the grant that was missing (deny, audit)
  std::string_view reason;  // a refusal no grant could lift: why
  // The grant that allowed it (allow), or nullptr.
  const Grant* grant = nullptr;
  const NetGrant* net_grant = nullptr;
  // Storage decisions: what was needed (learners fold on it).
  bool storage = true;
  Need storage_need = Need::kStat;
};

// Receives every decision while `wwjail learn` records.
class DecisionObserver {
 public:
  virtual ~DecisionObserver() = default;
  virtual void observe(const DecisionEvent& e) = 0;
};

class DecisionLog {
 public:
  // `out`: where lines go (formatted already; see broker/log_sinks.h).
  // `log_allowed`: also log allowed decisions. `quiet_audit`: count audit
  // decisions without a line each (learn mode).
  DecisionLog(std::shared_ptr<spdlog::logger> out, bool json, bool log_allowed, bool audit = false,
              DecisionObserver* observer = nullptr, bool quiet_audit = false);

  // True when allowed decisions are wanted at all.
  bool records_allowed() const { return records_allowed_; }
  void record(const DecisionEvent& e);

  struct Counts {
    uint64_t allow = 0, audit = 0, deny = 0;
  };
  Counts counts() const;
  // The one line audit and learn runs end with; `mode` names the run.
  void summary(std::string_view mode, int guest_status_code);

 private:
  std::string text_line(const DecisionEvent& e) const;
  std::string json_line(const DecisionEvent& e) const;

  std::shared_ptr<spdlog::logger> out_;
  bool json_;
  bool log_allowed_;
  bool audit_;
  bool quiet_audit_;
  bool records_allowed_;
  DecisionObserver* observer_;
  std::atomic<uint64_t> allow_{0}, audit_count_{0}, deny_{0};
};

}  // namespace wwjail
