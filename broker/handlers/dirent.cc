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
#include "broker/handlers/steps.h"
#include "broker/handlers/handlers.h"
#include "sys/self_fd.h"

namespace wwjail {

Verdict on_mkdir(Call& n, const Services& s, int dirfd, uint64_t path_addr, mode_t mode) {
  auto e = enter_parent(n, s, dirfd, path_addr, Need::kCreate);
  if (!e) return std::move(e).error();
  mode_t umask = guest_proc::umask_of(n.tid());
  return result_of(::mkdirat(e->parent.get(), e->name.c_str(), (mode & 07777) & ~umask));
}

Verdict on_mknod(Call& n, const Services& s, int dirfd, uint64_t path_addr, mode_t mode) {
  mode_t type = mode & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK) {
    auto raw = n.read_path(path_addr);
    return deny_text(n, raw ? *raw : std::string(), "device nodes are never allowed", EPERM);
  }
  if (type != 0 && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return Verdict::error(EINVAL);
  auto e = enter_parent(n, s, dirfd, path_addr, Need::kCreate);
  if (!e) return std::move(e).error();
  mode_t umask = guest_proc::umask_of(n.tid());
  return result_of(::mknodat(e->parent.get(), e->name.c_str(), type | ((mode & 07777) & ~umask), 0));
}

Verdict on_unlink(Call& n, const Services& s, int dirfd, uint64_t path_addr, int flags) {
  if (flags & ~AT_REMOVEDIR) return Verdict::error(EINVAL);
  auto e = enter_parent(n, s, dirfd, path_addr, Need::kRemove);
  if (!e) return std::move(e).error();
  return result_of(::unlinkat(e->parent.get(), e->name.c_str(), flags));
}

Verdict on_rename(Call& n, const Services& s, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                  unsigned flags) {
  // Moving an entry removes it from one directory and creates it in another;
  // both must be writable, so a read-only file cannot be moved into a
  // writable place (which would turn read into write).
  auto from = locate_entry(n, s, olddirfd, oldpath, Need::kRemove);
  if (!from) return std::move(from).error();
  if (!from->decision.allowed) return deny(n, s, *from, Need::kRemove);
  auto to = locate_entry(n, s, newdirfd, newpath, Need::kCreate);
  if (!to) return std::move(to).error();
  if (!to->decision.allowed) return deny(n, s, *to, Need::kCreate);
  auto from_entry = open_parent(n, s, *from, Need::kRemove);
  if (!from_entry) return std::move(from_entry).error();
  auto to_entry = open_parent(n, s, *to, Need::kCreate);
  if (!to_entry) return std::move(to_entry).error();
  if (!n.pending()) return interrupted();
  return result_of(::renameat2(from_entry->parent.get(), from_entry->name.c_str(), to_entry->parent.get(),
                               to_entry->name.c_str(), flags));
}

namespace {

// The source of a hard link, duplicated from the guest's descriptor
// (AT_EMPTY_PATH, or the /proc/self/fd/N form): the file must be writable
// already where it lives. An unlinked file (O_TMPFILE) is decided on the
// directory it lives in: the kernel names it "DIR/#INODE (deleted)"; a
// linked one on its path.
Expected<UniqueFd, Verdict> link_source_fd(Call& n, const Services& s, int fd) {
  auto dup = dup_guest_fd_named(n, fd);
  if (!dup) return fail(std::move(dup).error());
  std::string where = dup->name;
  struct stat st;
  if (::fstat(dup->fd.get(), &st) == 0 && st.st_nlink == 0 && where.ends_with(" (deleted)"))
    where.resize(where.size() - 10);
  ResolvedPath r{where, true, decide(n, s, where, Need::kWrite)};
  if (where.empty() || where.front() != '/' || !r.decision.allowed) return fail(deny(n, s, r, Need::kWrite));
  return std::move(dup->fd);
}

// A hard link makes a second name for the same inode: the source must be
// writable already, or linking would turn a read grant into a write one.
Expected<UniqueFd, Verdict> link_source(Call& n, const Services& s, int olddirfd, const std::string& raw_old,
                                        int flags) {
  // linkat(AT_FDCWD, "/proc/self/fd/N", ..., AT_SYMLINK_FOLLOW) is the
  // documented way to materialise an O_TMPFILE without privileges: it names
  // the guest's own descriptor N, and is treated exactly like AT_EMPTY_PATH.
  int own_fd = -1;
  if (!raw_old.empty() && raw_old.front() == '/' && (flags & AT_SYMLINK_FOLLOW))
    own_fd = guest_proc::own_fd_link(guest_proc::rewrite_proc_self(raw_old, n.tid()), n.tid());
  if (own_fd >= 0) return link_source_fd(n, s, own_fd);
  if (raw_old.empty() && (flags & AT_EMPTY_PATH)) return link_source_fd(n, s, olddirfd);
  auto t = open_target(n, s, olddirfd, raw_old, flags & AT_SYMLINK_FOLLOW, Need::kWrite);
  if (!t) return fail(std::move(t).error());
  return std::move(t->fd);
}

}  // namespace

Verdict on_link(Call& n, const Services& s, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Verdict::error(EINVAL);
  auto raw_old = n.read_path(oldpath);
  if (!raw_old) return std::move(raw_old).error();
  auto to = locate_entry(n, s, newdirfd, newpath, Need::kCreate);
  if (!to) return std::move(to).error();
  if (!to->decision.allowed) return deny(n, s, *to, Need::kCreate);
  auto source = link_source(n, s, olddirfd, *raw_old, flags);
  if (!source) return std::move(source).error();
  // The name keeps the guest's trailing slash, as in enter_parent: the
  // kernel refuses to link a file under a name that asks for a directory
  // ("b/": ENOENT).
  auto to_entry = open_parent(n, s, *to, Need::kCreate);
  if (!to_entry) return std::move(to_entry).error();
  if (!n.pending()) return interrupted();
  // linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc/self/fd
  // form with AT_SYMLINK_FOLLOW does the same for an unprivileged broker.
  return result_of(::linkat(AT_FDCWD, self_fd_path(source->get()).c_str(), to_entry->parent.get(),
                            to_entry->name.c_str(), AT_SYMLINK_FOLLOW));
}

Verdict on_symlink(Call& n, const Services& s, uint64_t target_addr, int newdirfd, uint64_t linkpath) {
  // The target is only text: whatever it points to is decided again when
  // the guest follows it.
  auto target = n.read_path(target_addr);
  if (!target) return std::move(target).error();
  if (target->empty()) return Verdict::error(ENOENT);
  auto e = enter_parent(n, s, newdirfd, linkpath, Need::kCreate);
  if (!e) return std::move(e).error();
  return result_of(::symlinkat(target->c_str(), e->parent.get(), e->name.c_str()));
}

}  // namespace wwjail
