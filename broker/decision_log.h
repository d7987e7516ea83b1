// Every capability decision the broker makes, as an event: logged (text or
// one JSON object per line, schema in wwjail(1)), counted for audit mode's
// summary, and handed to a learner when `wwjail learn` is recording.
//
// Denials are always logged (warning; a UDP connect to the unspecified
// address, getaddrinfo's probe, at info). Allowed decisions are recorded only
// when someone wants them: --log-level info or lower, audit mode (for its
// counts) or learn mode. Handlers ask records_allowed() first, so a quiet
// run pays nothing for them.
//
// A denial (or audit) the run already logged, same syscall, need, target
// and missing grant, is counted instead of logged again: a "repeated" line
// carries the count when it reaches 10, 100, 1000, ... and, at finish(),
// the total of every one repeated since its last line. The table of
// denials seen is capped (LogOptions): past the cap each denial is logged
// as it comes, so a guest making millions of distinct denials costs
// bounded memory and loses no line.
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
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/log_sinks.h"
#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

enum class DecisionKind : uint8_t {
  kAllow,  // a grant allowed it
  kAudit,  // the grants deny it; audit mode let it through
  kDeny,   // refused
};
std::string_view decision_kind_name(DecisionKind kind);  // "allow", "audit", "deny"

// What the log adds to a denial's missing grant, found where the decision
// was made (JSON: "hint"; text: a clause in words).
enum class DecisionHint : uint8_t {
  kNone,
  kAbsent,      // the path does not exist: grant ?PATH if it is optional
  kExecutable,  // a stat or access of an executable file (a PATH search): exec is what running it needs
  kAddressProbe,  // a UDP connect that sends nothing (glibc's getaddrinfo sorting its answers)
};
std::string_view decision_hint_name(DecisionHint hint);  // "", "absent", "executable", "address-probe"

// The grant a storage denial lacks: the right and where to grant it
// (create and remove: write on the parent directory).
struct MissingGrant {
  std::string_view kind;    // "read", "write", "exec"
  std::string_view target;  // a view into `path`
};
MissingGrant missing_storage_grant(std::string_view path, Need need);

struct DecisionEvent {
  pid_t tid = 0;   // the calling thread
  pid_t tgid = 0;  // its process; 0: looked up (LogOptions::tgid_of) when a line is written
  std::string_view syscall;
  std::string_view target;  // canonical path, or a network SPEC
  std::string_view need;    // "read", "create", "bind", "connect", ...
  DecisionKind kind = DecisionKind::kAllow;
  int err = 0;              // what the guest was answered, when it is an error
  // Deny and audit: the grant that would have allowed it, typed: what to
  // grant ("read", "write", "exec", "bind", "connect") and on what.
  std::string_view missing_kind;
  std::string_view missing_target;
  DecisionHint hint = DecisionHint::kNone;
  // A denial logged at info, not warn: nothing a grant should be added for
  // (an address probe of [::] or 0.0.0.0, getaddrinfo's AI_PASSIVE answers).
  bool minor = false;
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

struct LogOptions {
  bool json = false;
  bool log_allowed = false;  // also log allowed decisions (--log-level info or lower)
  bool audit = false;        // audit or learn: count everything for the summary
  bool quiet_audit = false;  // count audit decisions without a line each (learn)
  LogContext context;        // run_id and program, on every JSON line
  // The repeated-denial table: past either cap, denials are logged each.
  size_t repeat_entries = 4096;
  size_t repeat_bytes = size_t{1} << 20;
  // The process of a thread (default: /proc/TID/status), asked only for
  // events written with tgid 0.
  std::function<pid_t(pid_t)> tgid_of;
};

class DecisionLog {
 public:
  // `out`: where lines go (formatted already; see broker/log_sinks.h).
  // `watcher` (the control plane's event feed) sees what is recorded
  // anyway, without asking for allowed decisions as `observer` does.
  explicit DecisionLog(std::shared_ptr<spdlog::logger> out, LogOptions options = {},
                       DecisionObserver* observer = nullptr, DecisionObserver* watcher = nullptr);
  ~DecisionLog();

  // True when allowed decisions are wanted at all.
  bool records_allowed() const { return records_allowed_; }
  // True when audit decisions get a line each (audit mode, not learn).
  bool writes_audit_lines() const { return options_.audit && !options_.quiet_audit; }
  void record(const DecisionEvent& e);

  struct Counts {
    uint64_t allow = 0, audit = 0, deny = 0;
  };
  Counts counts() const;
  // The one line audit and learn runs end with; `mode` names the run.
  void summary(std::string_view mode, int guest_status_code);
  // Writes the totals of denials repeated since their last line. Called at
  // the end of the run (and by the destructor if nobody did).
  void finish();

 private:
  struct Repeat {
    DecisionEvent event;  // its strings are views into the table's key
    spdlog::level::level_enum level = spdlog::level::warn;
    uint64_t count = 1;
    uint64_t reported = 1;  // the count the last line showed
    uint64_t order = 0;     // first seen as the order-th distinct denial
  };
  // True when `e` was logged before (then counted, maybe reported).
  bool repeated(const DecisionEvent& e, spdlog::level::level_enum level);
  void write(spdlog::level::level_enum level, const DecisionEvent& e, uint64_t count = 0, bool final = false);
  std::string text_line(const DecisionEvent& e, bool with_pid) const;
  std::string json_line(const DecisionEvent& e, spdlog::level::level_enum level, uint64_t count, bool final) const;

  std::shared_ptr<spdlog::logger> out_;
  LogOptions options_;
  bool records_allowed_;
  DecisionObserver* observer_;
  DecisionObserver* watcher_;
  std::atomic<uint64_t> allow_{0}, audit_count_{0}, deny_{0};
  std::mutex repeats_mu_;
  std::unordered_map<std::string, Repeat> repeats_;
  size_t repeat_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace wwjail
