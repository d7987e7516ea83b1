#include "broker/path_resolver.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "broker/guest_proc.h"
#include "capabilities/path_text.h"

namespace wwjail {
namespace {

// The entries of /proc/PID (and of /proc/PID/task/TID) that describe that
// process alone, sorted. Everything else there is refused, even for the
// guest's own processes: net/ shows the host's sockets (every unix socket
// path, every connection and its owner), mounts, mountinfo and mountstats
// the host's mounts, and mem, pagemap and map_files the memory itself
// (ptrace's to read, and ptrace is refused to guests).
constexpr std::string_view kPerProcessEntries[] = {
    "attr",     "auxv",   "cgroup", "children", "cmdline",   "comm",          "coredump_filter", "cpuset",
    "cwd",      "environ", "exe",   "fd",       "fdinfo",    "io",            "limits",          "loginuid",
    "maps",     "numa_maps", "oom_adj", "oom_score", "oom_score_adj", "personality", "root",     "sched",
    "schedstat", "sessionid", "smaps", "smaps_rollup", "stack", "stat",       "statm",           "status",
    "syscall",  "task",   "timerslack_ns", "wchan"};

bool per_process_entry(std::string_view rest) {
  if (rest.starts_with("task/")) {
    size_t slash = rest.find('/', 5);
    if (slash == std::string_view::npos) return true;  // a thread's directory
    rest = rest.substr(slash + 1);
  }
  if (rest.empty()) return true;  // the process's directory
  std::string_view first = rest.substr(0, rest.find('/'));
  return std::binary_search(std::begin(kPerProcessEntries), std::end(kPerProcessEntries), first);
}

}  // namespace

const Grant& own_proc_grant() {
  static const Grant grant{.path = "/proc", .rights = kRead, .origin = "own process tree", .automatic = true};
  return grant;
}

std::shared_ptr<const OwnProcEntry> PathResolver::own_proc(const GuestThread& who, const std::string& path,
                                                          Need need) const {
  if (!own_proc_readable_ || (need != Need::kRead && need != Need::kStat)) return nullptr;
  auto entry = guest_proc::split_proc_pid(path);
  if (!entry || entry->pid <= 0 || !per_process_entry(entry->rest)) return nullptr;
  UniqueFd dir = guest_proc::pin_caller_or_descendant(entry->pid, who.tgid());
  if (!dir.valid()) return nullptr;
  return std::make_shared<const OwnProcEntry>(OwnProcEntry{std::move(dir), std::string(entry->rest)});
}

int PathResolver::physical(const GuestThread& who, const std::string& joined, bool follow_last, std::string& out,
                           Absence absence) const {
  WalkResult walked;
  ResolvedPath refused;  // the denial is the caller's to make, on its own need
  if (int err = walk_as_guest(who, joined, follow_last, walked)) {
    if (absence == Absence::kCallerDecides)
      return walked.left_by_dotdot.empty() && !path_text::has_dotdot(joined) ? err : EACCES;
    bool visible = !walked.path.empty() && may_look(who, walked.path) && passed_only_visible(who, walked, refused);
    return visible && guest_may_search(walked.stopped_in) ? err : EACCES;
  }
  if (walked.end != WalkEnd::kPath || !passed_only_visible(who, walked, refused)) return EACCES;
  out = std::move(walked.path);
  return 0;
}

bool guest_may_search(const UniqueFd& dir) {
  return dir.valid() && ::syscall(SYS_faccessat2, dir.get(), "", X_OK, AT_EMPTY_PATH | AT_EACCESS) == 0;
}

int PathResolver::failed_walk(const GuestThread& who, const std::string& lexical, int err, const WalkResult& walked,
                              Need need, ResolvedPath& out) const {
  // Existence is only reported where the guest may look, decided on where
  // the walk stopped (the text's ".." is not what the walk applied).
  if (!walked.path.empty() && may_look(who, walked.path) && passed_only_visible(who, walked, out))
    return guest_may_search(walked.stopped_in) ? err : EACCES;
  Decision denied = caps_.decide(lexical, need);
  if (denied.allowed && !denied.audited) {
    // The text names a grant, but the walk failed elsewhere: that place
    // is the one the guest was refused.
    std::string where = walked.path.empty() ? lexical : walked.path;
    denied = caps_.decide(where, Need::kStat);
    if (denied.allowed && !denied.audited) denied = Decision{.missing = "none can allow it"};
    out = {std::move(where), true, std::move(denied)};
    return 0;
  }
  // Audit mode: the guest gets the real error; the decision that would
  // have denied it is reported alongside.
  bool audited = denied.audited;
  out = {lexical, false, std::move(denied)};
  return audited ? err : 0;
}

bool PathResolver::stays_visible(const GuestThread& who, const WalkResult& walked) const {
  ResolvedPath refused;
  return passed_only_visible(who, walked, refused);
}

bool PathResolver::shows_own_proc(const GuestThread& who, const std::string& path) const {
  // /proc holds the guest's own entries: an ancestor of what it may read.
  if (own_proc_readable_ && path == "/proc") return true;
  return own_proc(who, path, Need::kStat) != nullptr;
}

bool PathResolver::may_look(const GuestThread& who, const std::string& path) const {
  Decision d = caps_.decide(path, Need::kStat);
  return (d.allowed && !d.audited) || shows_own_proc(who, path);
}

bool PathResolver::passed_only_visible(const GuestThread& who, const WalkResult& walked, ResolvedPath& out) const {
  for (const auto& dir : walked.left_by_dotdot) {
    Decision d = caps_.decide(dir, Need::kStat);
    // Audit mode (allowed and audited): let it through, as the grants' denial says.
    if (d.allowed || shows_own_proc(who, dir)) continue;
    out = {dir, true, std::move(d)};
    return false;
  }
  return true;
}

int PathResolver::resolve_absolute(const GuestThread& who, std::string joined, bool follow_last, Need need,
                                   ResolvedPath& out) const {
  std::string lexical = path_text::normalize(joined);
  if (!path_text::has_dotdot(joined) && !in_proc(lexical)) {
    Decision d = caps_.decide(lexical, need);
    // An audited decision is a denial by the grants: the physical path may
    // be granted after all (a symlink into a grant), so resolve it.
    // A link grant covers the link itself, never what a followed lookup
    // reaches through it. A grant that holds /proc (/ itself) is never
    // decided on text: the kernel would resolve /proc/self beneath it as
    // the broker.
    bool holds_proc = d.grant && path_text::is_within("/proc", d.grant->path);
    if (d.allowed && !d.audited && !holds_proc && !(follow_last && d.grant && d.grant->link)) {
      out.path = std::move(lexical);
      out.physical = false;
      out.decision = std::move(d);
      return 0;
    }
  }
  WalkResult walked;
  if (int err = walk_as_guest(who, joined, follow_last, walked)) return failed_walk(who, lexical, err, walked, need, out);
  // "X/.." tells whether X exists: only where the guest may look.
  if (!passed_only_visible(who, walked, out)) return 0;
  if (walked.end != WalkEnd::kPath) {
    // Never followed, in any mode: not a question the grants answer.
    out = {walked.path, true, Decision{}};
    out.decision.missing = "none can allow it";
    out.refusal = walked.end == WalkEnd::kUnnamedObject
                      ? "a link to an object with no path (" + walked.what + ")"
                      : "a link of another process, or of a kind never followed (" + walked.what + ")";
    return 0;
  }
  if (auto own = own_proc(who, walked.path, need)) {
    // Before the grants: an entry of the guest's own tree is opened through
    // its pin whatever else is granted.
    out = {std::move(walked.path), true, Decision{.allowed = true, .grant = &own_proc_grant()}};
    out.own_proc = std::move(own);
    return 0;
  }
  out.decision = caps_.decide(walked.path, need);
  out.path = std::move(walked.path);
  out.physical = true;
  return 0;
}

int PathResolver::resolve(pid_t pid, int dirfd, std::string_view raw, bool follow_last, Need need,
                          ResolvedPath& out) const {
  if (raw.empty()) return ENOENT;
  std::string joined;
  if (int err = guest_proc::absolute_path(pid, dirfd, raw, joined)) return err;
  return resolve_absolute(GuestThread(pid), std::move(joined), follow_last, need, out);
}

}  // namespace wwjail
