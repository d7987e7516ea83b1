// Directory entries: mkdir, mknod, unlink, rmdir, rename, link, symlink.
// Performed by the broker on the parent directory opened beneath a write
// grant; the entry's own name is never followed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>

#include "broker/guest_proc.h"
#include "broker/syscall_handlers.h"
#include "sys/self_fd.h"

namespace wwjail {

std::optional<Verdict> SyscallHandlers::enter_parent(Call& n, int dirfd, uint64_t addr, Need need,
                                                     UniqueFd& parent, std::string& name) {
  ResolvedPath r;
  if (int err = locate_entry(n, dirfd, addr, need, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, need);
  if (int err = open_parent(n, r, need, parent, name)) return Verdict::error(err);
  // Kept for the kernel, which then wants a directory there. The *at call
  // never follows the last component, slash or not.
  if (r.trailing_slash) name += '/';
  if (!still_pending(n)) return Verdict::error(ENOENT);
  return std::nullopt;
}

Verdict SyscallHandlers::on_mkdir(Call& n, int dirfd, uint64_t path_addr, mode_t mode) {
  UniqueFd parent;
  std::string name;
  if (auto answer = enter_parent(n, dirfd, path_addr, Need::kCreate, parent, name)) return std::move(*answer);
  mode_t umask = guest_proc::umask_of(static_cast<pid_t>(n.pid));
  if (::mkdirat(parent.get(), name.c_str(), (mode & 07777) & ~umask) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_mknod(Call& n, int dirfd, uint64_t path_addr, mode_t mode) {
  mode_t type = mode & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK) {
    std::string raw;
    copy_path(n, path_addr, raw);
    return deny_text(n, raw, "device nodes are never allowed", EPERM);
  }
  if (type != 0 && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return Verdict::error(EINVAL);
  UniqueFd parent;
  std::string name;
  if (auto answer = enter_parent(n, dirfd, path_addr, Need::kCreate, parent, name)) return std::move(*answer);
  mode_t umask = guest_proc::umask_of(static_cast<pid_t>(n.pid));
  if (::mknodat(parent.get(), name.c_str(), type | ((mode & 07777) & ~umask), 0) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_unlink(Call& n, int dirfd, uint64_t path_addr, int flags) {
  if (flags & ~AT_REMOVEDIR) return Verdict::error(EINVAL);
  UniqueFd parent;
  std::string name;
  if (auto answer = enter_parent(n, dirfd, path_addr, Need::kRemove, parent, name)) return std::move(*answer);
  if (::unlinkat(parent.get(), name.c_str(), flags) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_rename(Call& n, int olddirfd, uint64_t oldpath, int newdirfd,
                                   uint64_t newpath, unsigned flags) {
  // Moving an entry removes it from one directory and creates it in another;
  // both must be writable, so a read-only file cannot be moved into a
  // writable place (which would turn read into write).
  ResolvedPath from, to;
  if (int err = locate_entry(n, olddirfd, oldpath, Need::kRemove, from)) return Verdict::error(err);
  if (!from.decision.allowed) return deny(n, from, Need::kRemove);
  if (int err = locate_entry(n, newdirfd, newpath, Need::kCreate, to)) return Verdict::error(err);
  if (!to.decision.allowed) return deny(n, to, Need::kCreate);
  UniqueFd from_dir, to_dir;
  std::string from_name, to_name;
  if (int err = open_parent(n, from, Need::kRemove, from_dir, from_name)) return Verdict::error(err);
  if (int err = open_parent(n, to, Need::kCreate, to_dir, to_name)) return Verdict::error(err);
  if (from.trailing_slash) from_name += '/';
  if (to.trailing_slash) to_name += '/';
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (::renameat2(from_dir.get(), from_name.c_str(), to_dir.get(), to_name.c_str(), flags) != 0)
    return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_link(Call& n, int olddirfd, uint64_t oldpath, int newdirfd,
                                 uint64_t newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Verdict::error(EINVAL);
  pid_t pid = static_cast<pid_t>(n.pid);
  // A hard link makes a second name for the same inode: the source must be
  // writable already, or linking would turn a read grant into a write one.
  std::string raw_old;
  if (int err = copy_path(n, oldpath, raw_old)) return Verdict::error(err);
  ResolvedPath to;
  if (int err = locate_entry(n, newdirfd, newpath, Need::kCreate, to)) return Verdict::error(err);
  if (!to.decision.allowed) return deny(n, to, Need::kCreate);

  UniqueFd source;
  // linkat(AT_FDCWD, "/proc/self/fd/N", ..., AT_SYMLINK_FOLLOW) is the
  // documented way to materialise an O_TMPFILE without privileges: it names
  // the guest's own descriptor N, and is treated exactly like AT_EMPTY_PATH.
  int own_fd = -1;
  if (!raw_old.empty() && raw_old.front() == '/' && (flags & AT_SYMLINK_FOLLOW))
    own_fd = guest_proc::own_fd_link(guest_proc::rewrite_proc_self(raw_old, pid), pid);
  if ((raw_old.empty() && (flags & AT_EMPTY_PATH)) || own_fd >= 0) {
    // Materialising an O_TMPFILE (or any open file) from the guest's fd.
    std::string name;
    if (int err = dup_guest_fd(n, own_fd >= 0 ? own_fd : olddirfd, source, name)) return Verdict::error(err);
    // An unlinked file (O_TMPFILE) is decided on the directory it lives in:
    // the kernel names it "DIR/#INODE (deleted)". A linked one on its path.
    std::string where = name;
    struct stat st;
    if (::fstat(source.get(), &st) == 0 && st.st_nlink == 0 && where.ends_with(" (deleted)"))
      where.resize(where.size() - 10);
    ResolvedPath r{where, true, decide(n, where, Need::kWrite)};
    if (where.empty() || where.front() != '/' || !r.decision.allowed) return deny(n, r, Need::kWrite);
  } else {
    ResolvedPath from;
    bool follow = flags & AT_SYMLINK_FOLLOW;
    if (int err = resolve_noted(n, olddirfd, raw_old, follow, Need::kWrite, from)) return Verdict::error(err);
    if (!from.decision.allowed) return deny(n, from, Need::kWrite);
    if (int e = open_beneath(n, from, Need::kWrite, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, 0, source))
      return Verdict::error(e);
  }
  UniqueFd to_dir;
  std::string to_name;
  if (int err = open_parent(n, to, Need::kCreate, to_dir, to_name)) return Verdict::error(err);
  // Kept, as in enter_parent: the kernel refuses to link a file under a
  // name that asks for a directory ("b/": ENOENT).
  if (to.trailing_slash) to_name += '/';
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc/self/fd
  // form with AT_SYMLINK_FOLLOW does the same for an unprivileged broker.
  std::string self = self_fd_path(source.get());
  if (::linkat(AT_FDCWD, self.c_str(), to_dir.get(), to_name.c_str(), AT_SYMLINK_FOLLOW) != 0)
    return Verdict::error(errno);
  return Verdict::value_of(0);
}

Verdict SyscallHandlers::on_symlink(Call& n, uint64_t target_addr, int newdirfd, uint64_t linkpath) {
  // The target is only text: whatever it points to is decided again when
  // the guest follows it.
  std::string target;
  if (int err = copy_path(n, target_addr, target)) return Verdict::error(err);
  if (target.empty()) return Verdict::error(ENOENT);
  UniqueFd parent;
  std::string name;
  if (auto answer = enter_parent(n, newdirfd, linkpath, Need::kCreate, parent, name)) return std::move(*answer);
  if (::symlinkat(target.c_str(), parent.get(), name.c_str()) != 0) return Verdict::error(errno);
  return Verdict::value_of(0);
}

}  // namespace wwjail
