#include "broker/decision_log.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "broker/log_sinks.h"
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
    default: return nullptr;
  }
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

DecisionLog::DecisionLog(std::shared_ptr<spdlog::logger> out, bool json, bool log_allowed, bool audit,
                         DecisionObserver* observer, bool quiet_audit)
    : out_(std::move(out)),
      json_(json),
      log_allowed_(log_allowed),
      audit_(audit),
      quiet_audit_(quiet_audit),
      records_allowed_(log_allowed || audit || observer),
      observer_(observer) {}

void DecisionLog::record(const DecisionEvent& e) {
  switch (e.kind) {
    case DecisionKind::kAllow: allow_.fetch_add(1, std::memory_order_relaxed); break;
    case DecisionKind::kAudit: audit_count_.fetch_add(1, std::memory_order_relaxed); break;
    case DecisionKind::kDeny: deny_.fetch_add(1, std::memory_order_relaxed); break;
  }
  if (observer_) observer_->observe(e);
  bool wanted = e.kind == DecisionKind::kDeny || (e.kind == DecisionKind::kAudit && !quiet_audit_) ||
                (e.kind == DecisionKind::kAllow && log_allowed_);
  if (!wanted || !out_) return;
  auto level = e.kind == DecisionKind::kAllow ? spdlog::level::info : spdlog::level::warn;
  out_->log(level, "{}", json_ ? json_line(e) : text_line(e));
}

std::string DecisionLog::text_line(const DecisionEvent& e) const {
  std::string line;
  switch (e.kind) {
    case DecisionKind::kAllow: line = "allowed"; break;
    case DecisionKind::kAudit: line = "would deny"; break;
    case DecisionKind::kDeny: line = "denied"; break;
  }
  line += " pid=" + std::to_string(e.pid) + " " + std::string(e.syscall) + " " + std::string(e.target);
  if (e.kind == DecisionKind::kAllow) {
    const std::string* origin = e.grant ? &e.grant->origin : e.net_grant ? &e.net_grant->origin : nullptr;
    line += " (" + std::string(e.need) + (origin ? "; granted by " + *origin : "") + ")";
  } else if (!e.missing.empty()) {
    line += " (" + (e.storage ? "need " + std::string(e.need) + "; " : std::string()) + "missing grant: " +
            std::string(e.missing) + ")";
  } else if (!e.reason.empty()) {
    line += " (" + std::string(e.reason) + ")";
  }
  // Targets are guest-chosen and origins name policy paths: one line, every
  // byte visible, so a newline in a path cannot forge another decision.
  return escape_visibly(line);
}

std::string DecisionLog::json_line(const DecisionEvent& e) const {
  nlohmann::json j;
  j["time"] = utc_timestamp();
  j["pid"] = e.pid;
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
  if (!e.missing.empty()) j["missing"] = std::string(e.missing);
  if (!e.reason.empty()) j["reason"] = std::string(e.reason);
  const std::string* origin = e.grant ? &e.grant->origin : e.net_grant ? &e.net_grant->origin : nullptr;
  if (origin && e.kind == DecisionKind::kAllow) {
    j["grant"] = *origin;
    std::string where = policy_location(*origin);
    if (!where.empty()) j["policy"] = where;
  }
  return j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

DecisionLog::Counts DecisionLog::counts() const {
  return {allow_.load(), audit_count_.load(), deny_.load()};
}

void DecisionLog::summary(std::string_view mode, int guest_status_code) {
  if (!out_) return;
  Counts c = counts();
  if (json_) {
    nlohmann::json j;
    j["time"] = utc_timestamp();
    j["summary"] = std::string(mode);
    j["allow"] = c.allow;
    j["audit"] = c.audit;
    j["deny"] = c.deny;
    j["exit"] = guest_status_code;
    out_->log(spdlog::level::warn, "{}", j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace));
  } else {
    out_->log(spdlog::level::warn, "{}: {} allowed, {} would have been denied, {} denied; guest exit status {}",
              mode, c.allow, c.audit, c.deny, guest_status_code);
  }
}

}  // namespace wwjail
