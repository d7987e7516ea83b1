#include "broker/decision_log.h"

#include <algorithm>
#include <cstring>

#include "broker/guest_proc.h"
#include "broker/log_json.h"
#include "policy/policy_learner.h"

namespace wwjail {
namespace {

// "policy.toml:12" out of an origin "policy.toml:12 read /srv", or "".
std::string policy_location(std::string_view origin) {
  auto space = origin.find(' ');
  std::string_view head = origin.substr(0, space);
  auto colon = head.rfind(':');
  if (head.empty() || head.front() == '-' || colon == std::string_view::npos || colon + 1 == head.size()) return "";
  for (char c : head.substr(colon + 1)) {
    if (c < '0' || c > '9') return "";
  }
  return std::string(head);
}

const char* errno_name(int err) {
  switch (err) {
    case 0: return nullptr;
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return nullptr;
  }
}

// The parenthesis a text line ends with, for a deny or audit.
std::string refusal_text(const DecisionEvent& e) {
  std::string grant = e.storage ? std::string(e.missing_kind) + " on " + std::string(e.missing_target)
                                : "--" + std::string(e.missing_kind) + " " + std::string(e.missing_target);
  std::string need = e.storage ? "need " + std::string(e.need) + "; " : std::string();
  switch (e.hint) {
    case DecisionHint::kAbsent:
      return need + "missing grant: " + grant + "; absent: grant ?" + std::string(e.missing_target) +
             " if it is optional";
    case DecisionHint::kExecutable:
      return need + "missing grant: " + grant + ", an executable (read, if it is only looked at)";
    case DecisionHint::kAddressProbe:
      return "not granted: " + grant +
             "; a UDP connect sends nothing, glibc's getaddrinfo makes one to sort its answers: grant it only "
             "if the program sends datagrams there";
    case DecisionHint::kNone: break;
  }
  return need + "missing grant: " + grant;
}

pid_t tgid_from_proc(pid_t tid) { return guest_proc::tgid_of(tid); }

// 10, 100, 1000, ...: the counts a repeated denial is reported at.
bool is_power_of_ten(uint64_t n) {
  if (n < 10) return false;
  while (n % 10 == 0) n /= 10;
  return n == 1;
}

}  // namespace

std::string_view decision_kind_name(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::kAllow: return "allow";
    case DecisionKind::kAudit: return "audit";
    case DecisionKind::kDeny: return "deny";
  }
  return "?";
}

std::string_view decision_hint_name(DecisionHint hint) {
  switch (hint) {
    case DecisionHint::kNone: return "";
    case DecisionHint::kAbsent: return "absent";
    case DecisionHint::kExecutable: return "executable";
    case DecisionHint::kAddressProbe: return "address-probe";
  }
  return "";
}

MissingGrant missing_storage_grant(std::string_view path, Need need) {
  switch (need) {
    case Need::kStat:
    case Need::kRead: return {"read", path};
    case Need::kWrite: return {"write", path};
    case Need::kExec: return {"exec", path};
    case Need::kCreate:
    case Need::kRemove: {
      // The entry lives in its parent directory: that is what to grant.
      auto slash = path.rfind('/');
      if (slash == std::string_view::npos) return {"write", path};
      return {"write", path.substr(0, slash == 0 ? 1 : slash)};
    }
  }
  return {"read", path};
}

DecisionLog::DecisionLog(std::shared_ptr<spdlog::logger> out, LogOptions options, DecisionObserver* observer,
                         DecisionObserver* watcher)
    : out_(std::move(out)),
      options_(std::move(options)),
      records_allowed_(options_.log_allowed || options_.audit || observer),
      observer_(observer),
      watcher_(watcher) {
  if (!options_.tgid_of) options_.tgid_of = tgid_from_proc;
}

DecisionLog::~DecisionLog() { finish(); }

void DecisionLog::record(const DecisionEvent& e) {
  switch (e.kind) {
    case DecisionKind::kAllow: allow_.fetch_add(1, std::memory_order_relaxed); break;
    case DecisionKind::kAudit: audit_count_.fetch_add(1, std::memory_order_relaxed); break;
    case DecisionKind::kDeny: deny_.fetch_add(1, std::memory_order_relaxed); break;
  }
  if (observer_) observer_->observe(e);
  if (watcher_) watcher_->observe(e);
  bool wanted = e.kind == DecisionKind::kDeny || (e.kind == DecisionKind::kAudit && !options_.quiet_audit) ||
                (e.kind == DecisionKind::kAllow && options_.log_allowed);
  if (!wanted || !out_) return;
  auto level = e.kind == DecisionKind::kAllow || e.minor ? spdlog::level::info : spdlog::level::warn;
  if (!out_->should_log(level)) return;
  if (e.kind != DecisionKind::kAllow && repeated(e, level)) return;
  write(level, e);
}

bool DecisionLog::repeated(const DecisionEvent& e, spdlog::level::level_enum level) {
  std::string key;
  for (std::string_view part : {e.syscall, e.need, e.target, e.missing_kind, e.missing_target, e.reason,
                                decision_kind_name(e.kind), decision_hint_name(e.hint)}) {
    key.append(part);
    key.push_back('\0');
  }
  std::unique_lock lock(repeats_mu_);
  if (auto it = repeats_.find(key); it != repeats_.end()) {
    Repeat& r = it->second;
    ++r.count;
    // Reported at 10, 100, 1000, ...: the log never hides a flood.
    if (is_power_of_ten(r.count)) {
      r.reported = r.count;
      DecisionEvent shown = r.event;
      auto shown_level = r.level;
      uint64_t count = r.count;
      lock.unlock();
      write(shown_level, shown, count);
    }
    return true;
  }
  if (repeats_.size() >= options_.repeat_entries || repeat_bytes_ + key.size() > options_.repeat_bytes) return false;
  repeat_bytes_ += key.size();
  auto [it, inserted] = repeats_.emplace(std::move(key), Repeat{});
  // The remembered event's strings point into the key (a node's key never moves).
  std::string_view k = it->first;
  auto next = [&k] {
    auto end = k.find('\0');
    std::string_view part = k.substr(0, end);
    k.remove_prefix(end + 1);
    return part;
  };
  Repeat& r = it->second;
  r.event = e;
  r.event.syscall = next();
  r.event.need = next();
  r.event.target = next();
  r.event.missing_kind = next();
  r.event.missing_target = next();
  r.event.reason = next();
  r.event.grant = nullptr;
  r.event.net_grant = nullptr;
  r.level = level;
  r.order = repeats_.size();
  return false;
}

void DecisionLog::finish() {
  std::vector<Repeat> totals;
  {
    std::lock_guard lock(repeats_mu_);
    if (finished_) return;
    finished_ = true;
    for (auto& [key, r] : repeats_) {
      if (r.count != r.reported) totals.push_back(r);
      r.reported = r.count;
    }
  }
  std::sort(totals.begin(), totals.end(), [](const Repeat& a, const Repeat& b) { return a.order < b.order; });
  for (const auto& r : totals) write(r.level, r.event, r.count, /*final=*/true);
}

void DecisionLog::write(spdlog::level::level_enum level, const DecisionEvent& e, uint64_t count, bool final) {
  if (!out_) return;
  if (options_.json) {
    out_->log(level, "{}", json_line(e, level, count, final));
    return;
  }
  if (!count) {
    out_->log(level, "{}", text_line(e, /*with_pid=*/true));
    return;
  }
  // N counts the first line too; the last one of a denial is its total.
  out_->log(level, "repeated: {}: seen {} times{}", text_line(e, false), count,
            final ? " in this run" : " so far");
}

std::string DecisionLog::text_line(const DecisionEvent& e, bool with_pid) const {
  std::string line;
  switch (e.kind) {
    case DecisionKind::kAllow: line = "allowed"; break;
    case DecisionKind::kAudit: line = "would deny"; break;
    case DecisionKind::kDeny: line = "denied"; break;
  }
  if (with_pid) {
    pid_t tgid = e.tgid ? e.tgid : e.tid ? options_.tgid_of(e.tid) : 0;
    line += " pid=" + std::to_string(tgid > 0 ? tgid : e.tid);
    if (tgid > 0 && tgid != e.tid) line += " tid=" + std::to_string(e.tid);
  }
  line += " " + std::string(e.syscall) + " " + std::string(e.target);
  if (e.kind == DecisionKind::kAllow) {
    const std::string* origin = e.grant ? &e.grant->origin : e.net_grant ? &e.net_grant->origin : nullptr;
    line += " (" + std::string(e.need) + (origin ? "; granted by " + *origin : "") + ")";
  } else if (!e.missing_kind.empty()) {
    line += " (" + refusal_text(e) + ")";
  } else if (!e.reason.empty()) {
    line += " (" + std::string(e.reason) + ")";
  }
  // Targets are guest-chosen and origins name policy paths: one line, every
  // byte visible, so a newline in a path cannot forge another decision.
  return escape_visibly(line);
}

std::string DecisionLog::json_line(const DecisionEvent& e, spdlog::level::level_enum level, uint64_t count,
                                   bool final) const {
  nlohmann::json j = json_event(count ? "repeated" : "decision", level, options_.context);
  if (count) {
    j["count"] = count;
    j["final"] = final;
  } else {
    pid_t tgid = e.tgid ? e.tgid : e.tid ? options_.tgid_of(e.tid) : 0;
    j["tgid"] = tgid > 0 ? tgid : 0;
    j["tid"] = e.tid;
  }
  j["syscall"] = std::string(e.syscall);
  j["target"] = std::string(e.target);
  j["need"] = std::string(e.need);
  j["decision"] = std::string(decision_kind_name(e.kind));
  if (const char* name = errno_name(e.err)) {
    j["errno"] = name;
  } else if (e.err) {
    j["errno"] = std::strerror(e.err);
  } else {
    j["errno"] = nullptr;
  }
  if (!e.missing_kind.empty()) {
    j["missing_kind"] = std::string(e.missing_kind);
    j["missing_target"] = std::string(e.missing_target);
  }
  if (e.hint != DecisionHint::kNone) j["hint"] = std::string(decision_hint_name(e.hint));
  if (!e.reason.empty()) j["reason"] = std::string(e.reason);
  const std::string* origin = e.grant ? &e.grant->origin : e.net_grant ? &e.net_grant->origin : nullptr;
  if (origin && e.kind == DecisionKind::kAllow) {
    j["grant"] = *origin;
    std::string where = policy_location(*origin);
    if (!where.empty()) j["policy"] = where;
  }
  return json_text(j);
}

DecisionLog::Counts DecisionLog::counts() const {
  return {allow_.load(), audit_count_.load(), deny_.load()};
}

void DecisionLog::summary(std::string_view mode, int guest_status_code) {
  if (!out_) return;
  Counts c = counts();
  if (options_.json) {
    nlohmann::json j = json_event("summary", spdlog::level::warn, options_.context);
    j["mode"] = std::string(mode);
    j["allow"] = c.allow;
    j["audit"] = c.audit;
    j["deny"] = c.deny;
    j["exit"] = guest_status_code;
    out_->log(spdlog::level::warn, "{}", json_text(j));
  } else {
    out_->log(spdlog::level::warn, "{}: {} allowed, {} would have been denied, {} denied; guest exit status {}",
              mode, c.allow, c.audit, c.deny, guest_status_code);
  }
}

}  // namespace wwjail
