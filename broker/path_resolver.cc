#include "broker/path_resolver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "broker/guest_proc.h"
#include "capabilities/path_text.h"
#include "sys/kernel_abi.h"
#include "sys/unique_fd.h"

namespace wwjail {
namespace {

constexpr int kMaxSymlinkHops = 40;

int read_link_at(int dirfd, const char* name, std::string& out) {
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return errno;
  if (n > PATH_MAX) return ENAMETOOLONG;
  out.assign(buf, static_cast<size_t>(n));
  return 0;
}

}  // namespace

int PathResolver::physical(std::string joined, bool follow_last, std::string& out) {
  for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
    // Split off the last component; "." / ".." / "" (trailing slash) mean the
    // whole path names a directory, which the kernel resolves for us.
    size_t slash = joined.find_last_of('/');
    std::string name = joined.substr(slash + 1);
    std::string parent = slash == 0 ? "/" : joined.substr(0, slash);
    bool whole_is_dir = name.empty() || name == "." || name == "..";
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_MAGICLINKS;
    UniqueFd dir(kernel::openat2(AT_FDCWD, (whole_is_dir ? joined : parent).c_str(), how));
    if (!dir.valid()) return errno;
    std::string dir_path;
    if (int err = read_link_at(AT_FDCWD, ("/proc/self/fd/" + std::to_string(dir.get())).c_str(), dir_path)) return err;
    if (whole_is_dir) {
      out = dir_path;
      return 0;
    }
    if (follow_last) {
      std::string target;
      int err = read_link_at(dir.get(), name.c_str(), target);
      if (err == 0) {
        if (target.empty()) return ENOENT;
        joined = path_text::join(dir_path, target);
        continue;
      }
      if (err != EINVAL && err != ENOENT) return err;
    }
    out = path_text::normalize(path_text::join(dir_path, name));
    return 0;
  }
  return ELOOP;
}

bool PathResolver::canonical_prefix(const std::string& lexical, std::string& out) {
  std::string head = lexical, tail;
  for (int depth = 0; depth < 64 && head != "/"; ++depth) {
    auto split = path_text::split_last(head);
    tail = tail.empty() ? split.name : split.name + "/" + tail;
    head = split.parent;
    std::string real;
    if (physical(head, true, real) == 0) {
      out = path_text::join(real, tail);
      return true;
    }
  }
  return false;
}

int PathResolver::resolve_absolute(std::string joined, bool follow_last, Need need, ResolvedPath& out) const {
  std::string lexical = path_text::normalize(joined);
  if (!path_text::has_dotdot(joined)) {
    Decision d = caps_.decide(lexical, need);
    // An audited decision is a denial by the grants: the physical path may
    // be granted after all (a symlink into a grant), so resolve it.
    // A link grant covers the link itself, never what a followed lookup
    // reaches through it.
    if (d.allowed && !d.audited && !(follow_last && d.grant && d.grant->link)) {
      out.path = std::move(lexical);
      out.physical = false;
      out.decision = std::move(d);
      return 0;
    }
  }
  std::string canonical;
  if (int err = physical(std::move(joined), follow_last, canonical)) {
    // Existence is only reported where the guest may look.
    Decision d = caps_.decide(lexical, Need::kStat);
    if (d.allowed && !d.audited) return err;
    // Through a symlinked directory (/lib -> usr/lib), the missing entry
    // lies where the part that exists really is: decide there.
    if (err == ENOENT || err == ENOTDIR) {
      std::string where;
      if (canonical_prefix(lexical, where) && where != lexical) {
        Decision real = caps_.decide(where, Need::kStat);
        if (real.allowed && !real.audited) return err;
      }
    }
    Decision denied = caps_.decide(lexical, need);
    if (denied.audited) {
      // Audit mode: the guest gets the real error; the decision that
      // would have denied it is reported alongside.
      out = {std::move(lexical), false, std::move(denied)};
      return err;
    }
    out = {std::move(lexical), false, std::move(denied)};
    return 0;
  }
  out.decision = caps_.decide(canonical, need);
  out.path = std::move(canonical);
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
  return resolve_absolute(guest_proc::rewrite_proc_self(std::move(joined), pid), follow_last, need, out);
}

}  // namespace wwjail
