// Metadata: stat family, access, readlink, statfs, chmod/chown, truncate,
// utimes, xattrs. Landlock does not check these, so the broker always
// performs them on an O_PATH descriptor opened beneath the grant, and writes
// results into guest memory itself.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <cerrno>
#include <climits>
#include <optional>
#include <array>
#include <algorithm>
#include <string>
#include <vector>

#include "broker/guest_identity.h"
#include "broker/guest_proc.h"
#include "broker/handlers/steps.h"
#include "broker/handlers/handlers.h"
#include "sys/self_fd.h"

namespace wwjail {
namespace {

// Device nodes are granted for their data (/dev/null, /dev/zero), never
// for their inode: a root guest's chmod 000 /dev/null, chown, utimes or
// trusted.* xattr would change the host's device for everyone.
bool is_device(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
}
constexpr const char* kDeviceMeta = "metadata of a device node is never written, whatever the grant";

constexpr size_t kXattrNameMax = 255;
constexpr size_t kXattrSizeMax = 65536;

// readlink of the guest's own /proc entries that programs use to find
// themselves: /proc/PID/exe, /proc/PID/cwd, /proc/PID/fd/N. Only the text is
// returned; nothing is opened through them.
bool own_proc_link(const std::string& path, pid_t pid) {
  std::string prefix = "/proc/" + std::to_string(pid) + "/";
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  std::string rest = path.substr(prefix.size());
  if (rest == "exe" || rest == "cwd") return true;
  if (rest.compare(0, 3, "fd/") != 0 || rest.size() == 3) return false;
  return rest.find_first_not_of("0123456789", 3) == std::string::npos;
}

// The path argument, when the call has one (fstat has none).
Expected<std::string, Verdict> path_operand(const Call& n, uint64_t addr, bool has_path) {
  if (!has_path) return std::string();
  return n.read_path(addr);
}

// A descriptor the guest holds, duplicated, and the write grant its path
// needs (objects private to the guest have none to check).
Expected<NamedFd, Verdict> held_for_write(Call& n, const Services& s, int fd) {
  auto dup = dup_guest_fd_named(n, fd);
  if (!dup) return dup;
  std::string path = decidable_path(dup->fd.get(), dup->name);
  ResolvedPath r{path, true, decide(n, s, path, Need::kWrite)};
  if (!path.empty() && !r.decision.allowed) return fail(deny(n, s, r, Need::kWrite));
  return dup;
}

// fstat of a descriptor the guest holds: performed on our duplicate.
// Descriptors from checked opens (and the stdio it was started with) may be
// stat'ed freely; an O_PATH descriptor was opened by CONTINUE and could name
// anything a racing thread swapped in, so its path is checked.
Expected<UniqueFd, Verdict> held_for_stat(Call& n, const Services& s, int fd) {
  auto target = dup_guest_fd(n, fd);
  if (!target) return target;
  std::string name, path;
  if ((::fcntl(target->get(), F_GETFL) & O_PATH) && guest_proc::fd_target(::getpid(), target->get(), name) == 0)
    path = decidable_path(target->get(), name);
  if (!path.empty()) {
    ResolvedPath r{path, true, decide(n, s, path, Need::kStat)};
    if (!r.decision.allowed) return fail(deny(n, s, r, Need::kStat));
  }
  return target;
}

// The stat buffer of `target`, written to the guest's `buf`.
Verdict write_stat(Call& n, int target, uint64_t buf, int flags, bool statx_call, unsigned statx_mask) {
  if (statx_call) {
    struct statx stx{};
    int sync = flags & AT_STATX_SYNC_TYPE;
    if (::statx(target, "", AT_EMPTY_PATH | sync, statx_mask, &stx) != 0) return Verdict::error(errno);
    if (auto put = n.write(buf, &stx, sizeof stx); !put) return std::move(put).error();
  } else {
    struct stat st{};
    if (::fstatat(target, "", &st, AT_EMPTY_PATH) != 0) return Verdict::error(errno);
    if (auto put = n.write(buf, &st, sizeof st); !put) return std::move(put).error();
  }
  return Verdict::value_of(0);
}

// What access(2) with `mode` needs of the object opened at `t`: the answer
// reflects the grants, not just the permission bits (a file the guest may
// only read is not writable for it).
Expected<void, Verdict> access_granted(Call& n, const Services& s, Target& t, int mode) {
  struct stat st{};
  if (::fstat(t.fd.get(), &st) != 0) return fail(errno);
  Need need = Need::kStat;
  if (mode & R_OK) need = Need::kRead;
  if ((mode & X_OK) && !S_ISDIR(st.st_mode)) need = Need::kExec;
  if (mode & W_OK) need = Need::kWrite;
  if (need == Need::kStat || (t.resolved.own_proc && need == Need::kRead)) return {};
  // Decided on what was opened, not on the name: a symlink the lookup
  // followed (a lexically granted name) leads to the path that counts.
  std::string where;
  if (int err = guest_proc::fd_target(::getpid(), t.fd.get(), where)) return fail(err);
  Decision d = decide(n, s, where, need);
  if (d.allowed) return {};
  t.resolved.path = where;
  t.resolved.decision = std::move(d);
  return fail(deny(n, s, t.resolved, need));
}

}  // namespace

Verdict on_stat(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t buf, int flags, bool statx_call,
                unsigned statx_mask) {
  auto raw = path_operand(n, path_addr, n.nr() != SYS_fstat);
  if (!raw) return std::move(raw).error();
  UniqueFd target;
  if (raw->empty() && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
    auto held = held_for_stat(n, s, dirfd);
    if (!held) return std::move(held).error();
    target = std::move(*held);
  } else {
    if (raw->empty() && (flags & AT_EMPTY_PATH)) *raw = ".";
    auto t = open_target(n, s, dirfd, *raw, !(flags & AT_SYMLINK_NOFOLLOW), Need::kStat);
    if (!t) return std::move(t).error();
    target = std::move(t->fd);
  }
  if (!n.pending()) return interrupted();
  return write_stat(n, target.get(), buf, flags, statx_call, statx_mask);
}

Verdict on_access(Call& n, const Services& s, int dirfd, uint64_t path_addr, int mode, int flags) {
  if (mode & ~(R_OK | W_OK | X_OK)) return Verdict::error(EINVAL);
  auto t = locate_target(n, s, dirfd, path_addr, !(flags & AT_SYMLINK_NOFOLLOW), Need::kStat);
  if (!t) return std::move(t).error();
  if (auto granted = access_granted(n, s, *t, mode); !granted) return std::move(granted).error();
  if (!n.pending()) return interrupted();
  // access(2) without AT_EACCESS checks the real ids, and the kernel
  // would take the broker's: so the real ids are made the file-system
  // ones here and the check is asked with AT_EACCESS.
  std::optional<ActingAs> real_ids;
  if (auto who = ActingAs::current(); who && !(flags & AT_EACCESS)) real_ids.emplace(who->for_access());
  if (::faccessat(t->fd.get(), "", mode, AT_EMPTY_PATH | AT_EACCESS) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict on_readlink(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t buf, uint64_t size) {
  if (static_cast<int64_t>(size) <= 0) return Verdict::error(EINVAL);
  auto raw = n.read_path(path_addr);
  if (!raw) return std::move(raw).error();
  if (raw->empty()) return Verdict::error(ENOENT);
  char out[PATH_MAX];
  ssize_t len;
  std::string own;
  if (raw->front() == '/' && own_proc_link(own = guest_proc::rewrite_proc_self(*raw, n.tid()), n.tid())) {
    AsBroker broker;  // the guest's own link, read by the broker (ptrace access)
    len = ::readlink(own.c_str(), out, sizeof out);
  } else {
    auto t = open_target(n, s, dirfd, *raw, false, Need::kStat);
    if (!t) return std::move(t).error();
    len = ::readlinkat(t->fd.get(), "", out, sizeof out);
  }
  if (len < 0) return Verdict::error(errno);
  size_t copy = std::min<size_t>(static_cast<size_t>(len), size);
  if (!n.pending()) return interrupted();
  if (auto put = n.write(buf, out, copy); !put) return std::move(put).error();
  return Verdict::value_of(static_cast<int64_t>(copy));
}

Verdict on_statfs(Call& n, const Services& s, uint64_t path_addr, uint64_t buf) {
  auto t = locate_target(n, s, AT_FDCWD, path_addr, true, Need::kStat);
  if (!t) return std::move(t).error();
  struct statfs sfs{};
  if (::fstatfs(t->fd.get(), &sfs) != 0) return Verdict::error(errno);
  if (!n.pending()) return interrupted();
  if (auto put = n.write(buf, &sfs, sizeof sfs); !put) return std::move(put).error();
  return Verdict::value_of(0);
}

Verdict on_chmod(Call& n, const Services& s, int dirfd, uint64_t path_addr, mode_t mode) {
  auto t = locate_target(n, s, dirfd, path_addr, true, Need::kWrite);
  if (!t) return std::move(t).error();
  if (is_device(t->fd.get())) return deny_text(n, t->resolved.path, kDeviceMeta, EPERM);
  if (!n.pending()) return interrupted();
  return result_of(::chmod(self_fd_path(t->fd.get()).c_str(), mode & 07777));
}

Verdict on_chown(Call& n, const Services& s, int dirfd, uint64_t path_addr, uid_t uid, gid_t gid, int flags) {
  auto raw = n.read_path(path_addr);
  if (!raw) return std::move(raw).error();
  UniqueFd target;
  if (raw->empty() && (flags & AT_EMPTY_PATH)) {
    auto held = held_for_write(n, s, dirfd);
    if (!held) return std::move(held).error();
    target = std::move(held->fd);
  } else {
    auto t = open_target(n, s, dirfd, *raw, !(flags & AT_SYMLINK_NOFOLLOW), Need::kWrite);
    if (!t) return std::move(t).error();
    target = std::move(t->fd);
  }
  if (is_device(target.get())) return deny_text(n, "a device node", kDeviceMeta, EPERM);
  if (!n.pending()) return interrupted();
  return result_of(::fchownat(target.get(), "", uid, gid, AT_EMPTY_PATH));
}

Verdict on_fd_meta(Call& n, const Services& s) {
  // fchmod, fchown, fsetxattr, fremovexattr on a descriptor the guest holds:
  // a read-only grant must not become a metadata write. Decided on, and
  // performed on, our own duplicate of the descriptor.
  const auto* a = n.args();
  auto dup = dup_guest_fd_named(n, static_cast<int>(a[0]));
  if (!dup) return std::move(dup).error();
  if (is_device(dup->fd.get())) return deny_text(n, dup->name, kDeviceMeta, EPERM);
  // Objects with no path (pipes, sockets, unlinked files, memfds) are
  // private to the guest; anything with a path needs a write grant.
  std::string path = decidable_path(dup->fd.get(), dup->name);
  if (!path.empty()) {
    ResolvedPath r{path, true, decide(n, s, path, Need::kWrite)};
    if (!r.decision.allowed) return deny(n, s, r, Need::kWrite);
  }
  std::string name, value;
  if (n.nr() == SYS_fsetxattr || n.nr() == SYS_fremovexattr) {
    if (int err = n.memory().read_string(n.tid(), a[1], kXattrNameMax + 1, name))
      return Verdict::error(err == ENAMETOOLONG ? ERANGE : err);
    if (n.nr() == SYS_fsetxattr) {
      if (a[3] > kXattrSizeMax) return Verdict::error(E2BIG);
      value.resize(a[3]);
      if (auto got = n.read(a[2], value.data(), value.size()); !got) return std::move(got).error();
    }
  }
  if (!n.pending()) return interrupted();
  int fd = dup->fd.get();
  switch (n.nr()) {
    case SYS_fchmod: return result_of(::fchmod(fd, static_cast<mode_t>(a[1]) & 07777));
    case SYS_fchown: return result_of(::fchown(fd, static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2])));
    case SYS_fsetxattr:
      return result_of(::fsetxattr(fd, name.c_str(), value.data(), value.size(), static_cast<int>(a[4])));
    default: return result_of(::fremovexattr(fd, name.c_str()));
  }
}

Verdict on_truncate(Call& n, const Services& s, uint64_t path_addr, off_t length) {
  if (length < 0) return Verdict::error(EINVAL);
  auto t = locate_target(n, s, AT_FDCWD, path_addr, true, Need::kWrite);
  if (!t) return std::move(t).error();
  if (!n.pending()) return interrupted();
  return result_of(::truncate(self_fd_path(t->fd.get()).c_str(), length));
}

namespace {

// The times argument of utime (kind 0: utimbuf), utimes/futimesat (1:
// timeval[2]) or utimensat (2: timespec[2]), as timespecs; none when the
// guest passed NULL (now).
Expected<std::optional<std::array<timespec, 2>>, Verdict> copy_times(const Call& n, uint64_t addr, int kind) {
  if (!addr) return std::optional<std::array<timespec, 2>>();
  std::array<timespec, 2> ts{};
  if (kind == 0) {
    utimbuf ub{};
    if (auto got = n.read(addr, &ub, sizeof ub); !got) return fail(std::move(got).error());
    ts[0] = {ub.actime, 0};
    ts[1] = {ub.modtime, 0};
  } else if (kind == 1) {
    timeval tv[2]{};
    if (auto got = n.read(addr, tv, sizeof tv); !got) return fail(std::move(got).error());
    for (int i = 0; i < 2; ++i) ts[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
  } else if (auto got = n.read(addr, ts.data(), sizeof(timespec) * 2); !got) {
    return fail(std::move(got).error());
  }
  return std::optional<std::array<timespec, 2>>(ts);
}

}  // namespace

Verdict on_utimes(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t times_addr, int flags,
                  int kind) {
  auto copied = copy_times(n, times_addr, kind);
  if (!copied) return std::move(copied).error();
  const timespec* times = *copied ? (*copied)->data() : nullptr;
  if (kind == 2 && path_addr == 0) {
    // utimensat(fd, NULL, ...) is futimens: act on our duplicate.
    auto held = held_for_write(n, s, dirfd);
    if (!held) return std::move(held).error();
    if (is_device(held->fd.get())) return deny_text(n, held->name, kDeviceMeta, EPERM);
    if (!n.pending()) return interrupted();
    return result_of(::futimens(held->fd.get(), times));
  }
  bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
  auto t = locate_target(n, s, dirfd, path_addr, follow, Need::kWrite);
  if (!t) return std::move(t).error();
  if (is_device(t->fd.get())) return deny_text(n, t->resolved.path, kDeviceMeta, EPERM);
  if (!n.pending()) return interrupted();
  return result_of(follow ? ::utimensat(AT_FDCWD, self_fd_path(t->fd.get()).c_str(), times, 0)
                          : ::utimensat(t->fd.get(), "", times, AT_EMPTY_PATH));
}

namespace {

// What an xattr call is, from its number.
struct XattrCall {
  bool follow;
  bool writes;
  bool lists;
  bool removes;
};
XattrCall xattr_call(int nr) {
  return {nr == SYS_getxattr || nr == SYS_setxattr || nr == SYS_listxattr || nr == SYS_removexattr,
          nr == SYS_setxattr || nr == SYS_lsetxattr || nr == SYS_removexattr || nr == SYS_lremovexattr,
          nr == SYS_listxattr || nr == SYS_llistxattr, nr == SYS_removexattr || nr == SYS_lremovexattr};
}

// get/list: the answer copied into the guest's buffer.
Verdict read_xattr(Call& n, const XattrCall& x, const std::string& self, const std::string& name) {
  const auto* a = n.args();
  size_t size = std::min<uint64_t>(x.lists ? a[2] : a[3], kXattrSizeMax);
  std::vector<char> out(size);
  ssize_t rc = x.lists ? ::listxattr(self.c_str(), out.data(), size)
                       : ::getxattr(self.c_str(), name.c_str(), out.data(), size);
  if (rc < 0) return Verdict::error(errno);
  if (size > 0 && rc > 0) {
    if (auto put = n.write(x.lists ? a[1] : a[2], out.data(), static_cast<size_t>(rc)); !put)
      return std::move(put).error();
  }
  return Verdict::value_of(rc);
}

}  // namespace

Verdict on_xattr(Call& n, const Services& s) {
  const auto* a = n.args();
  XattrCall x = xattr_call(n.nr());
  Need need = x.writes ? Need::kWrite : Need::kStat;
  std::string name, value;
  if (!x.lists) {
    if (int err = n.memory().read_string(n.tid(), a[1], kXattrNameMax + 1, name))
      return Verdict::error(err == ENAMETOOLONG ? ERANGE : err);
  }
  if (x.writes && !x.removes) {
    if (a[3] > kXattrSizeMax) return Verdict::error(E2BIG);
    value.resize(a[3]);
    if (auto got = n.read(a[2], value.data(), value.size()); !got) return std::move(got).error();
  }
  auto t = locate_target(n, s, AT_FDCWD, a[0], x.follow, need);
  if (!t) return std::move(t).error();
  if (x.writes && is_device(t->fd.get())) return deny_text(n, t->resolved.path, kDeviceMeta, EPERM);
  if (!n.pending()) return interrupted();
  // Through our own descriptor's /proc/self/fd link, which names exactly the
  // object we opened beneath the grant.
  std::string self = self_fd_path(t->fd.get());
  if (!x.writes) return read_xattr(n, x, self, name);
  return result_of(x.removes ? ::removexattr(self.c_str(), name.c_str())
                             : ::setxattr(self.c_str(), name.c_str(), value.data(), value.size(),
                                          static_cast<int>(a[4])));
}

}  // namespace wwjail
