#include "broker/handlers/steps.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "broker/guest_identity.h"
#include "broker/guest_proc.h"
#include "capabilities/path_text.h"
#include "sys/kernel_abi.h"
#include "sys/self_fd.h"

namespace wwjail {
namespace {

// The open_how for opening an allowed target with `flags`: openat2
// rejects flags open(2) would ignore (O_PATH takes only O_DIRECTORY,
// O_NOFOLLOW and O_CLOEXEC besides).
open_how how_for(uint64_t flags, mode_t mode) {
  open_how how{};
  how.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  return how;
}

// One attempt of open_beneath: by the grant that decided `r`.
int open_by_grant(const Services& s, const ResolvedPath& r, uint64_t flags, mode_t mode, uint64_t extra_resolve) {
  const Grant* g = r.decision.grant;
  open_how how = how_for(flags, mode);
  if (!g) {
    // Metadata on an ancestor of a grant: the path is a directory the
    // grant lies under; no symlink may be involved.
    how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
    return kernel::openat2(AT_FDCWD, r.path.c_str(), how);
  }
  if (!g->directory) {
    // A single-file grant: reopen the inode pinned at start-up.
    how.flags &= ~static_cast<uint64_t>(O_NOFOLLOW);
    return kernel::openat2(AT_FDCWD, self_fd_path(s.roots.fd_for(*g)).c_str(), how);
  }
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | extra_resolve | beneath_resolve(*g);
  return kernel::openat2(s.roots.fd_for(*g), path_text::relative_to(r.path, g->path).c_str(), how);
}

}  // namespace

Decision decide(Call& n, const Services& s, std::string_view path, Need need) {
  Decision d = s.caps.decide(path, need);
  note(n, s, path, need, d);
  return d;
}

void note(Call& n, const Services& s, std::string_view path, Need need, const Decision& d) {
  if (!d.allowed || !n.decisions().records_allowed()) return;
  if (d.audited && s.probed_quietly(path)) {
    // Probes the guest would be answered ENOENT for anyway are no denial.
    struct stat st;
    if (::lstat(std::string(path).c_str(), &st) != 0 && errno == ENOENT) return;
  }
  n.note({std::string(path), need, true, false, d.audited ? DecisionKind::kAudit : DecisionKind::kAllow, d.grant,
          nullptr});
}

Verdict deny(Call& n, const Services& s, const ResolvedPath& r, Need need) {
  if (!r.refusal.empty()) return deny_text(n, r.path, r.refusal);
  StorageAdvice a = storage_advice(r.path, need);
  if (a.hint == DecisionHint::kAbsent && s.probed_quietly(r.path)) {
    s.log.debug("pid={} {} {}: absent and not granted", n.tid(), syscall_name(n.nr()), r.path);
    return Verdict::error(ENOENT);
  }
  return n.refuse({.target = r.path, .need = need_name(need), .err = EACCES, .missing_kind = a.grant.kind,
                   .missing_target = a.grant.target, .hint = a.hint, .storage_need = need});
}

Verdict deny_text(Call& n, const std::string& what, const std::string& why, int err) {
  return n.refuse({.target = what, .need = "refused", .err = err, .reason = why, .storage = false});
}

Expected<ResolvedPath, Verdict> resolve(Call& n, const Services& s, int dirfd, std::string_view raw,
                                        bool follow_last, Need need) {
  ResolvedPath out;
  int err = s.resolver.resolve(n.tid(), dirfd, raw, follow_last, need, out);
  if (err == 0 || out.decision.audited) note(n, s, out.path, need, out.decision);
  if (err) return fail(err);
  return out;
}

Expected<ResolvedPath, Verdict> resolve_absolute(Call& n, const Services& s, std::string joined, bool follow_last,
                                                 Need need) {
  ResolvedPath out;
  int err = s.resolver.resolve_absolute(GuestThread(n.tid()), std::move(joined), follow_last, need, out);
  if (err == 0 || out.decision.audited) note(n, s, out.path, need, out.decision);
  if (err) return fail(err);
  return out;
}

Expected<ResolvedPath, Verdict> resolve_granted(Call& n, const Services& s, int dirfd, std::string_view raw,
                                                bool follow_last, Need need) {
  auto r = resolve(n, s, dirfd, raw, follow_last, need);
  if (r && !r->decision.allowed) return fail(deny(n, s, *r, need));
  return r;
}

Expected<ResolvedPath, Verdict> locate(Call& n, const Services& s, int dirfd, uint64_t addr, bool follow_last,
                                       Need need) {
  auto raw = n.read_path(addr);
  if (!raw) return fail(std::move(raw).error());
  return resolve(n, s, dirfd, *raw, follow_last, need);
}

Expected<ResolvedPath, Verdict> locate_granted(Call& n, const Services& s, int dirfd, uint64_t addr,
                                               bool follow_last, Need need) {
  auto raw = n.read_path(addr);
  if (!raw) return fail(std::move(raw).error());
  return resolve_granted(n, s, dirfd, *raw, follow_last, need);
}

Expected<UniqueFd, Verdict> open_beneath(Call& n, const Services& s, ResolvedPath& r, Need need, uint64_t flags,
                                         mode_t mode, uint64_t extra_resolve) {
  if (r.own_proc) return open_own_proc(*r.own_proc, flags);
  for (int attempt = 0; attempt < 2; ++attempt) {
    UniqueFd fd(open_by_grant(s, r, flags, mode, extra_resolve));
    if (fd.valid()) {
      if (foreign_proc_object(fd.get(), n.tid())) return fail(refuse_foreign_proc(n, r.path));
      return fd;
    }
    int err = errno;
    if (err != EXDEV || r.physical || attempt > 0) return fail(err);
    // A symlink inside the lexically chosen grant leads out of it: find
    // where it really goes and decide again.
    if (auto again = redecide_physical(n, s, r, need, r.path, "", !(flags & O_NOFOLLOW)); !again)
      return fail(std::move(again).error());
  }
  return fail(EXDEV);
}

Expected<Target, Verdict> open_target(Call& n, const Services& s, int dirfd, std::string_view raw, bool follow,
                                      Need need) {
  auto r = resolve_granted(n, s, dirfd, raw, follow, need);
  if (!r) return fail(std::move(r).error());
  auto fd = open_beneath(n, s, *r, need, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0);
  if (!fd) return fail(std::move(fd).error());
  return Target{std::move(*r), std::move(*fd)};
}

Expected<Target, Verdict> locate_target(Call& n, const Services& s, int dirfd, uint64_t addr, bool follow, Need need) {
  auto raw = n.read_path(addr);
  if (!raw) return fail(std::move(raw).error());
  return open_target(n, s, dirfd, *raw, follow, need);
}

Expected<std::string, Verdict> physical_path(const Call& n, const Services& s, const std::string& dir,
                                             bool follow_last) {
  std::string canonical;
  if (int err = s.resolver.physical(GuestThread(n.tid()), dir, follow_last, canonical)) return fail(err);
  return canonical;
}

Expected<void, Verdict> decide_again(Call& n, const Services& s, ResolvedPath& r, Need need, std::string path) {
  r.path = std::move(path);
  r.physical = true;
  r.decision = decide(n, s, r.path, need);
  if (r.decision.allowed) return {};
  (void)deny(n, s, r, need);  // logged; the answer stays EACCES (see the header)
  return fail(EACCES);
}

Expected<void, Verdict> redecide_physical(Call& n, const Services& s, ResolvedPath& r, Need need,
                                          const std::string& dir, const std::string& name, bool follow_last) {
  auto canonical = physical_path(n, s, dir, follow_last);
  if (!canonical) return fail(std::move(canonical).error());
  return decide_again(n, s, r, need, name.empty() ? std::move(*canonical) : path_text::join(*canonical, name));
}

Expected<ResolvedPath, Verdict> locate_entry(Call& n, const Services& s, int dirfd, uint64_t addr, Need need) {
  auto raw = n.read_path(addr);
  if (!raw) return fail(std::move(raw).error());
  if (raw->empty()) return fail(ENOENT);
  // The entry itself is never followed: resolve its parent physically.
  std::string joined;
  if (int err = guest_proc::absolute_path(n.tid(), dirfd, *raw, joined)) return fail(err);
  bool trailing = joined.size() > 1 && joined.back() == '/';
  while (joined.size() > 1 && joined.back() == '/') joined.pop_back();
  std::string name = joined.substr(joined.find_last_of('/') + 1);
  if (name == "." || name == "..") return fail(need == Need::kCreate ? EEXIST : EBUSY);
  // Noted like every other decision, so `learn` and the allowed-decision log
  // see creates and removes.
  auto r = resolve_absolute(n, s, joined, false, need);
  if (r) r->trailing_slash = trailing;
  return r;
}

Expected<Entry, Verdict> open_parent(Call& n, const Services& s, ResolvedPath& r, Need need) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto split = path_text::split_last(r.path);
    if (split.name.empty()) return fail(EBUSY);
    const Grant* g = r.decision.grant;
    if (!g || !g->directory) return fail(EACCES);  // create/remove are granted only in directory grants
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | beneath_resolve(*g);
    std::string rel = path_text::relative_to(split.parent, g->path);
    Entry e{UniqueFd(kernel::openat2(s.roots.fd_for(*g), rel.c_str(), how)), split.name};
    if (e.parent.valid()) {
      if (r.trailing_slash) e.name += '/';
      return e;
    }
    int err = errno;
    if (err != EXDEV || r.physical) return fail(err);
    // The parent is reached through a symlink that leaves the grant: decide
    // again on where the entry really is, with the same need.
    if (auto again = redecide_physical(n, s, r, need, split.parent, split.name, true); !again)
      return fail(std::move(again).error());
  }
  return fail(EXDEV);
}

Expected<Entry, Verdict> enter_parent(Call& n, const Services& s, int dirfd, uint64_t addr, Need need) {
  auto r = locate_entry(n, s, dirfd, addr, need);
  if (!r) return fail(std::move(r).error());
  if (!r->decision.allowed) return fail(deny(n, s, *r, need));
  auto entry = open_parent(n, s, *r, need);
  if (entry && !n.pending()) return fail(interrupted());
  return entry;
}

bool foreign_proc_object(int fd, pid_t tid) {
  struct statfs sfs;
  if (::fstatfs(fd, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC) return false;
  std::string path;
  if (guest_proc::fd_target(::getpid(), fd, path) != 0) return true;  // unnamed: on doubt, foreign
  if (!path.starts_with("/proc/")) return true;
  auto entry = guest_proc::split_proc_pid(path);
  if (!entry) return false;  // /proc/cpuinfo, /proc/sys/...: nobody's
  GuestThread who(tid);
  return entry->pid != who.tgid() && guest_proc::tgid_of(entry->pid) != who.tgid();
}

Expected<UniqueFd, Verdict> open_own_proc(const OwnProcEntry& e, uint64_t flags) {
  // Reads only (own_proc_grant has no other right); anything else is a bug.
  // (O_TMPFILE includes O_DIRECTORY's bit: compared whole.)
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) || (flags & O_TMPFILE) == O_TMPFILE)
    return fail(EACCES);
  // Below the pinned process, following nothing: the walk already resolved
  // every link, so a link met here is one it refused to follow. Opened as
  // the guest, so the kernel's own checks (ptrace access for maps, fd/)
  // are made for the guest.
  open_how how{};
  how.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd out(kernel::openat2(e.dir.get(), e.rest.empty() ? "." : e.rest.c_str(), how));
  if (!out.valid()) return fail(errno);
  return out;
}

Verdict refuse_foreign_proc(Call& n, const std::string& what) {
  return deny_text(n, what, "another process's /proc entry is never opened by the broker for a guest");
}

uint64_t beneath_resolve(const Grant& g) { return path_text::is_within("/proc", g.path) ? RESOLVE_NO_SYMLINKS : 0; }

std::string decidable_path(int dup, const std::string& name) {
  if (name.empty() || name.front() != '/') return "";
  struct stat st;
  if (::fstat(dup, &st) != 0 || st.st_nlink == 0) return "";
  return name;
}

Expected<NamedFd, Verdict> dup_guest_fd_named(const Call& n, int fd) {
  auto dup = dup_guest_fd(n, fd);
  if (!dup) return fail(std::move(dup).error());
  // The duplicate is the object we act on; it is named from our own table
  // so a dup2 in another guest thread cannot change what we decide about.
  NamedFd out{std::move(*dup), {}};
  if (int err = guest_proc::fd_target(::getpid(), out.fd.get(), out.name)) return fail(err);
  return out;
}

Expected<UniqueFd, Verdict> dup_guest_fd(const Call& n, int fd) {
  if (fd < 0) return fail(EBADF);
  AsBroker broker;  // pidfd_getfd checks ptrace access: the broker's, not the guest's
  UniqueFd out(n.pidfds().take_fd(n.tid(), fd));  // through the session's pidfds (broker/guest_pidfds.h)
  if (!out.valid()) return fail(errno == ESRCH ? ESRCH : errno == EBADF ? EBADF : EPERM);
  return out;
}

}  // namespace wwjail
