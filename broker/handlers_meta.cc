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
#include <string>
#include <vector>

#include "broker/guest_proc.h"
#include "broker/syscall_handlers.h"
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

}  // namespace

Verdict SyscallHandlers::on_stat(Call& n, int dirfd, uint64_t path_addr, uint64_t buf, int flags,
                                 bool statx_call, unsigned statx_mask) {
  pid_t pid = static_cast<pid_t>(n.pid);
  std::string raw;
  if (n.data.nr != SYS_fstat) {
    if (int err = copy_path(n, path_addr, raw)) return Verdict::error(err);
  }
  UniqueFd target;
  if (raw.empty() && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
    // fstat of a descriptor the guest holds: performed on our duplicate.
    // Descriptors from checked opens (and the stdio it was started with) may
    // be stat'ed freely; an O_PATH descriptor was opened by CONTINUE and
    // could name anything a racing thread swapped in, so its path is checked.
    if (int err = dup_guest_fd(n, dirfd, target)) return Verdict::error(err);
    std::string name, path;
    if ((::fcntl(target.get(), F_GETFL) & O_PATH) && guest_proc::fd_target(::getpid(), target.get(), name) == 0)
      path = decidable_path(target.get(), name);
    if (!path.empty()) {
      ResolvedPath r{path, true, decide(n, path, Need::kStat)};
      if (!r.decision.allowed) return deny(n, r, Need::kStat);
    }
  } else {
    if (raw.empty() && (flags & AT_EMPTY_PATH)) raw = ".";
    ResolvedPath r;
    bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
    int err = resolve_noted(n, dirfd, raw, follow, Need::kStat, r);
    if (err) return Verdict::error(err);
    if (!r.decision.allowed) return deny(n, r, Need::kStat);
    if (int e = open_beneath(n, r, Need::kStat, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0, target))
      return Verdict::error(e);
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (statx_call) {
    struct statx stx{};
    int sync = flags & AT_STATX_SYNC_TYPE;
    if (::statx(target.get(), "", AT_EMPTY_PATH | sync, statx_mask, &stx) != 0) return Verdict::error(errno);
    if (int err = memory_.write(pid, buf, &stx, sizeof stx)) return Verdict::error(err);
  } else {
    struct stat st{};
    if (::fstatat(target.get(), "", &st, AT_EMPTY_PATH) != 0) return Verdict::error(errno);
    if (int err = memory_.write(pid, buf, &st, sizeof st)) return Verdict::error(err);
  }
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_access(Call& n, int dirfd, uint64_t path_addr, int mode, int flags) {
  if (mode & ~(R_OK | W_OK | X_OK)) return Verdict::error(EINVAL);
  std::string raw;
  if (int err = copy_path(n, path_addr, raw)) return Verdict::error(err);
  bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
  ResolvedPath r;
  if (int err = resolve_noted(n, dirfd, raw, follow, Need::kStat, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, Need::kStat);
  UniqueFd target;
  if (int e = open_beneath(n, r, Need::kStat, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0, target))
    return Verdict::error(e);
  // The answer reflects the grants, not just the permission bits: a file
  // the guest may only read is not writable for it.
  struct stat st{};
  if (::fstat(target.get(), &st) != 0) return Verdict::error(errno);
  Need need = Need::kStat;
  if (mode & R_OK) need = Need::kRead;
  if ((mode & X_OK) && !S_ISDIR(st.st_mode)) need = Need::kExec;
  if (mode & W_OK) need = Need::kWrite;
  if (need != Need::kStat && !(r.own_proc && need == Need::kRead)) {
    // Decided on what was opened, not on the name: a symlink the lookup
    // followed (a lexically granted name) leads to the path that counts.
    std::string where;
    if (int err = guest_proc::fd_target(::getpid(), target.get(), where)) return Verdict::error(err);
    Decision d = decide(n, where, need);
    if (!d.allowed) {
      r.path = where;
      r.decision = std::move(d);
      return deny(n, r, need);
    }
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // access(2) without AT_EACCESS checks the real ids, and the kernel
  // would take the broker's: so the real ids are made the file-system
  // ones here and the check is asked with AT_EACCESS.
  std::optional<ActingAs> real_ids;
  if (auto who = ActingAs::current(); who && !(flags & AT_EACCESS)) real_ids.emplace(who->for_access());
  if (::faccessat(target.get(), "", mode, AT_EMPTY_PATH | AT_EACCESS) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_readlink(Call& n, int dirfd, uint64_t path_addr, uint64_t buf,
                                     uint64_t size) {
  pid_t pid = static_cast<pid_t>(n.pid);
  if (static_cast<int64_t>(size) <= 0) return Verdict::error(EINVAL);
  std::string raw;
  if (int err = copy_path(n, path_addr, raw)) return Verdict::error(err);
  if (raw.empty()) return Verdict::error(ENOENT);
  char out[PATH_MAX];
  ssize_t len;
  std::string own;
  if (raw.front() == '/' && own_proc_link(own = guest_proc::rewrite_proc_self(raw, pid), pid)) {
    AsBroker broker;  // the guest's own link, read by the broker (ptrace access)
    len = ::readlink(own.c_str(), out, sizeof out);
  } else {
    ResolvedPath r;
    if (int err = resolve_noted(n, dirfd, raw, false, Need::kStat, r)) return Verdict::error(err);
    if (!r.decision.allowed) return deny(n, r, Need::kStat);
    UniqueFd target;
    if (int e = open_beneath(n, r, Need::kStat, O_PATH | O_NOFOLLOW, 0, 0, target)) return Verdict::error(e);
    len = ::readlinkat(target.get(), "", out, sizeof out);
  }
  if (len < 0) return Verdict::error(errno);
  size_t copy = std::min<size_t>(static_cast<size_t>(len), size);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (int err = memory_.write(pid, buf, out, copy)) return Verdict::error(err);
  return Verdict::value_of(static_cast<int64_t>(copy));
}

Verdict SyscallHandlers::on_statfs(Call& n, uint64_t path_addr, uint64_t buf) {
  ResolvedPath r;
  if (int err = locate(n, AT_FDCWD, path_addr, true, Need::kStat, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, Need::kStat);
  UniqueFd target;
  if (int e = open_beneath(n, r, Need::kStat, O_PATH, 0, 0, target)) return Verdict::error(e);
  struct statfs sfs{};
  if (::fstatfs(target.get(), &sfs) != 0) return Verdict::error(errno);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (int err = memory_.write(static_cast<pid_t>(n.pid), buf, &sfs, sizeof sfs)) return Verdict::error(err);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_chmod(Call& n, int dirfd, uint64_t path_addr, mode_t mode) {
  ResolvedPath r;
  if (int err = locate(n, dirfd, path_addr, true, Need::kWrite, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, Need::kWrite);
  UniqueFd target;
  if (int e = open_beneath(n, r, Need::kWrite, O_PATH, 0, 0, target)) return Verdict::error(e);
  if (is_device(target.get())) return deny_text(n, r.path, kDeviceMeta, EPERM);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (::chmod(self_fd_path(target.get()).c_str(), mode & 07777) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_chown(Call& n, int dirfd, uint64_t path_addr, uid_t uid, gid_t gid,
                                  int flags) {
  std::string raw;
  if (int err = copy_path(n, path_addr, raw)) return Verdict::error(err);
  UniqueFd target;
  if (raw.empty() && (flags & AT_EMPTY_PATH)) {
    std::string name;
    if (int err = dup_guest_fd(n, dirfd, target, name)) return Verdict::error(err);
    std::string path = decidable_path(target.get(), name);
    ResolvedPath r{path, true, decide(n, path, Need::kWrite)};
    if (!path.empty() && !r.decision.allowed) return deny(n, r, Need::kWrite);
  } else {
    bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
    ResolvedPath r;
    if (int err = resolve_noted(n, dirfd, raw, follow, Need::kWrite, r)) return Verdict::error(err);
    if (!r.decision.allowed) return deny(n, r, Need::kWrite);
    if (int e = open_beneath(n, r, Need::kWrite, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0, target))
      return Verdict::error(e);
  }
  if (is_device(target.get())) return deny_text(n, "a device node", kDeviceMeta, EPERM);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (::fchownat(target.get(), "", uid, gid, AT_EMPTY_PATH) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_fd_meta(Call& n) {
  // fchmod, fchown, fsetxattr, fremovexattr on a descriptor the guest holds:
  // a read-only grant must not become a metadata write. Decided on, and
  // performed on, our own duplicate of the descriptor.
  pid_t pid = static_cast<pid_t>(n.pid);
  const auto* a = n.data.args;
  UniqueFd dup;
  std::string target;
  if (int err = dup_guest_fd(n, static_cast<int>(a[0]), dup, target)) return Verdict::error(err);
  if (is_device(dup.get())) return deny_text(n, target, kDeviceMeta, EPERM);
  // Objects with no path (pipes, sockets, unlinked files, memfds) are
  // private to the guest; anything with a path needs a write grant.
  std::string path = decidable_path(dup.get(), target);
  if (!path.empty()) {
    ResolvedPath r{path, true, decide(n, path, Need::kWrite)};
    if (!r.decision.allowed) return deny(n, r, Need::kWrite);
  }
  std::string name, value;
  if (n.data.nr == SYS_fsetxattr || n.data.nr == SYS_fremovexattr) {
    if (int err = memory_.read_string(pid, a[1], kXattrNameMax + 1, name)) return Verdict::error(err == ENAMETOOLONG ? ERANGE : err);
    if (n.data.nr == SYS_fsetxattr) {
      if (a[3] > kXattrSizeMax) return Verdict::error(E2BIG);
      value.resize(a[3]);
      if (int err = memory_.read(pid, a[2], value.data(), value.size())) return Verdict::error(err);
    }
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  int rc;
  switch (n.data.nr) {
    case SYS_fchmod: rc = ::fchmod(dup.get(), static_cast<mode_t>(a[1]) & 07777); break;
    case SYS_fchown: rc = ::fchown(dup.get(), static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2])); break;
    case SYS_fsetxattr:
      rc = ::fsetxattr(dup.get(), name.c_str(), value.data(), value.size(), static_cast<int>(a[4]));
      break;
    default: rc = ::fremovexattr(dup.get(), name.c_str()); break;
  }
  return rc == 0 ? Verdict::value_of(0) : Verdict::error(errno);
}

Verdict SyscallHandlers::on_truncate(Call& n, uint64_t path_addr, off_t length) {
  if (length < 0) return Verdict::error(EINVAL);
  ResolvedPath r;
  if (int err = locate(n, AT_FDCWD, path_addr, true, Need::kWrite, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, Need::kWrite);
  UniqueFd target;
  if (int e = open_beneath(n, r, Need::kWrite, O_PATH, 0, 0, target)) return Verdict::error(e);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (::truncate(self_fd_path(target.get()).c_str(), length) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_utimes(Call& n, int dirfd, uint64_t path_addr, uint64_t times_addr,
                                   int flags, int kind) {
  // kind 0: utime(utimbuf), 1: utimes/futimesat(timeval[2]), 2: utimensat(timespec[2]).
  pid_t pid = static_cast<pid_t>(n.pid);
  timespec ts[2]{};
  timespec* times = nullptr;
  if (times_addr) {
    times = ts;
    if (kind == 0) {
      utimbuf ub{};
      if (int err = memory_.read(pid, times_addr, &ub, sizeof ub)) return Verdict::error(err);
      ts[0] = {ub.actime, 0};
      ts[1] = {ub.modtime, 0};
    } else if (kind == 1) {
      timeval tv[2]{};
      if (int err = memory_.read(pid, times_addr, tv, sizeof tv)) return Verdict::error(err);
      for (int i = 0; i < 2; ++i) ts[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
    } else if (int err = memory_.read(pid, times_addr, ts, sizeof ts)) {
      return Verdict::error(err);
    }
  }
  UniqueFd target;
  if (kind == 2 && path_addr == 0) {
    // utimensat(fd, NULL, ...) is futimens: act on our duplicate.
    std::string name;
    if (int err = dup_guest_fd(n, dirfd, target, name)) return Verdict::error(err);
    std::string path = decidable_path(target.get(), name);
    ResolvedPath r{path, true, decide(n, path, Need::kWrite)};
    if (!path.empty() && !r.decision.allowed) return deny(n, r, Need::kWrite);
    if (is_device(target.get())) return deny_text(n, name, kDeviceMeta, EPERM);
    if (!still_pending(n)) return Verdict::error(ENOENT);
    return ::futimens(target.get(), times) == 0 ? Verdict::value_of(0) : Verdict::error(errno);
  }
  bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
  ResolvedPath r;
  if (int err = locate(n, dirfd, path_addr, follow, Need::kWrite, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, Need::kWrite);
  if (int e = open_beneath(n, r, Need::kWrite, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0, target))
    return Verdict::error(e);
  if (is_device(target.get())) return deny_text(n, r.path, kDeviceMeta, EPERM);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  int rc = follow ? ::utimensat(AT_FDCWD, self_fd_path(target.get()).c_str(), times, 0)
                  : ::utimensat(target.get(), "", times, AT_EMPTY_PATH);
  return rc == 0 ? Verdict::value_of(0) : Verdict::error(errno);
}

Verdict SyscallHandlers::on_xattr(Call& n) {
  pid_t pid = static_cast<pid_t>(n.pid);
  const auto* a = n.data.args;
  int nr = n.data.nr;
  bool follow = nr == SYS_getxattr || nr == SYS_setxattr || nr == SYS_listxattr || nr == SYS_removexattr;
  bool writes = nr == SYS_setxattr || nr == SYS_lsetxattr || nr == SYS_removexattr || nr == SYS_lremovexattr;
  bool lists = nr == SYS_listxattr || nr == SYS_llistxattr;
  Need need = writes ? Need::kWrite : Need::kStat;

  std::string name, value;
  if (!lists) {
    if (int err = memory_.read_string(pid, a[1], kXattrNameMax + 1, name)) return Verdict::error(err == ENAMETOOLONG ? ERANGE : err);
  }
  if (nr == SYS_setxattr || nr == SYS_lsetxattr) {
    if (a[3] > kXattrSizeMax) return Verdict::error(E2BIG);
    value.resize(a[3]);
    if (int err = memory_.read(pid, a[2], value.data(), value.size())) return Verdict::error(err);
  }
  ResolvedPath r;
  if (int err = locate(n, AT_FDCWD, a[0], follow, need, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, need);
  UniqueFd target;
  if (int e = open_beneath(n, r, need, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0, target)) return Verdict::error(e);
  if (writes && is_device(target.get())) return deny_text(n, r.path, kDeviceMeta, EPERM);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // Through our own descriptor's /proc/self/fd link, which names exactly the
  // object we opened beneath the grant.
  std::string self = self_fd_path(target.get());
  ssize_t rc;
  if (writes) {
    rc = value.empty() && (nr == SYS_removexattr || nr == SYS_lremovexattr)
             ? ::removexattr(self.c_str(), name.c_str())
             : ::setxattr(self.c_str(), name.c_str(), value.data(), value.size(), static_cast<int>(a[4]));
    return rc == 0 ? Verdict::value_of(0) : Verdict::error(errno);
  }
  size_t size = std::min<uint64_t>(lists ? a[2] : a[3], kXattrSizeMax);
  std::vector<char> out(size);
  rc = lists ? ::listxattr(self.c_str(), out.data(), size) : ::getxattr(self.c_str(), name.c_str(), out.data(), size);
  if (rc < 0) return Verdict::error(errno);
  uint64_t buf = lists ? a[1] : a[2];
  if (size > 0 && rc > 0) {
    if (int err = memory_.write(pid, buf, out.data(), static_cast<size_t>(rc))) return Verdict::error(err);
  }
  return Verdict::value_of(rc);
}

}  // namespace wwjail
