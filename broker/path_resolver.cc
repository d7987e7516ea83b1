#include "broker/path_resolver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "broker/guest_proc.h"
#include "capabilities/path_text.h"

namespace wwjail {
namespace {

// Entries that give the process's memory itself: ptrace's to read, and
// ptrace is refused to guests, so no own-tree read reaches them.
bool memory_entry(std::string_view rest) {
  if (rest.starts_with("task/")) {
    size_t slash = rest.find('/', 5);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  std::string_view first = rest.substr(0, rest.find('/'));
  return first == "mem" || first == "pagemap" || first == "map_files";
}

}  // namespace

const Grant& own_proc_grant() {
  static const Grant grant{.path = "/proc", .rights = kRead, .origin = "own process tree", .automatic = true};
  return grant;
}

std::shared_ptr<const OwnProcEntry> PathResolver::own_proc(const std::string& path, Need need) const {
  if (tree_root_ <= 0 || (need != Need::kRead && need != Need::kStat)) return nullptr;
  auto entry = guest_proc::split_proc_pid(path);
  if (!entry || entry->pid <= 0 || memory_entry(entry->rest)) return nullptr;
  UniqueFd dir = guest_proc::pin_in_tree(entry->pid, tree_root_);
  if (!dir.valid()) return nullptr;
  return std::make_shared<const OwnProcEntry>(OwnProcEntry{std::move(dir), std::string(entry->rest)});
}

int PathResolver::physical(const GuestThread& who, const std::string& joined, bool follow_last, std::string& out) {
  WalkResult walked;
  if (int err = walk_as_guest(who, joined, follow_last, walked)) return err;
  if (walked.end != WalkEnd::kPath) return EACCES;
  out = std::move(walked.path);
  return 0;
}

bool PathResolver::canonical_prefix(const GuestThread& who, const std::string& lexical, std::string& out) {
  std::string head = lexical, tail;
  for (int depth = 0; depth < 64 && head != "/"; ++depth) {
    auto split = path_text::split_last(head);
    tail = tail.empty() ? split.name : split.name + "/" + tail;
    head = split.parent;
    std::string real;
    if (physical(who, head, true, real) == 0) {
      out = path_text::join(real, tail);
      return true;
    }
  }
  return false;
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
  if (int err = walk_as_guest(who, joined, follow_last, walked)) {
    // Existence is only reported where the guest may look.
    Decision d = caps_.decide(lexical, Need::kStat);
    if (d.allowed && !d.audited) return err;
    // Through a symlinked directory (/lib -> usr/lib), the missing entry
    // lies where the part that exists really is: decide there. A missing
    // entry of the guest's own tree in /proc is reported missing.
    std::string where;
    if ((err == ENOENT || err == ENOTDIR) && canonical_prefix(who, lexical, where)) {
      if (own_proc(where, Need::kStat)) return err;
      Decision real = caps_.decide(where, Need::kStat);
      if (where != lexical && real.allowed && !real.audited) return err;
    }
    Decision denied = caps_.decide(lexical, need);
    // Audit mode: the guest gets the real error; the decision that would
    // have denied it is reported alongside.
    bool audited = denied.audited;
    out = {std::move(lexical), false, std::move(denied)};
    return audited ? err : 0;
  }
  if (walked.end != WalkEnd::kPath) {
    // Never followed, in any mode: not a question the grants answer.
    out = {walked.path, true, Decision{}};
    out.decision.missing = "none can allow it";
    out.refusal = walked.end == WalkEnd::kUnnamedObject
                      ? "a link to an object with no path (" + walked.what + ")"
                      : "a link of another process, or of a kind never followed (" + walked.what + ")";
    return 0;
  }
  if (auto own = own_proc(walked.path, need)) {
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
  if (raw.front() == '/') {
    joined.assign(raw);
  } else {
    std::string base;
    if (int err = guest_proc::dir_path(pid, dirfd, base)) return err;
    joined = path_text::join(base, raw);
  }
  return resolve_absolute(GuestThread(pid), std::move(joined), follow_last, need, out);
}

}  // namespace wwjail
