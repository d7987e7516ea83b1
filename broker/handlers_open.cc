// open, openat, creat, openat2.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <cerrno>

#include "broker/guest_proc.h"
#include "broker/syscall_handlers.h"
#include "capabilities/path_text.h"
#include "sys/kernel_abi.h"
#include "sys/self_fd.h"

namespace wwjail {
namespace {

// What an open needs. O_TRUNC writes even with O_RDONLY; O_CREAT may create.
Need open_need(uint64_t flags) {
  // O_TMPFILE names the directory that will hold an unnamed file: writing
  // into that directory is what it needs (linking it later is a create).
  if ((flags & O_TMPFILE) == O_TMPFILE) return Need::kWrite;
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) return Need::kWrite;
  if (flags & O_PATH) return Need::kRead;  // see emulate_opath
  return Need::kRead;
}

}  // namespace

Verdict SyscallHandlers::on_open(Call& n, int dirfd, uint64_t path_addr, uint64_t flags, uint64_t mode,
                                 uint64_t resolve, bool may_continue) {
  pid_t pid = static_cast<pid_t>(n.pid);
  Need need = open_need(flags);
  bool follow = !(flags & O_NOFOLLOW);
  ResolvedPath r;
  int err = locate(n, dirfd, path_addr, follow, need, r);
  if (err) return Verdict::error(err);
  // O_CREAT needs room for a new entry unless the file is itself granted
  // for writing (a single-file write grant).
  bool file_grant_write = r.decision.grant && !r.decision.grant->directory && !r.decision.grant->audit_fallback &&
                          (r.decision.grant->rights & kWrite);
  if ((flags & O_CREAT) && need != Need::kCreate && r.decision.allowed && !file_grant_write) {
    Decision create = decide(n, r.path, Need::kCreate);
    if (!create.allowed) {
      r.decision = std::move(create);
      need = Need::kCreate;
    }
  }
  if (!r.decision.allowed) return deny(n, r, need);
  if (!still_pending(n)) return Verdict::error(ENOENT);

  if (flags & O_PATH) return emulate_opath(n, r, flags);

  // CONTINUE only where Landlock enforces the same rule in the kernel: it
  // checks read, write, truncate (ABI 3) and create for the file the kernel
  // really opens, so a path swapped after our copy is checked again there.
  // O_PATH and O_TMPFILE opens are not checked by Landlock: the broker opens.
  bool landlock_covers = options_.landlock_active && !(flags & O_PATH) && (flags & O_TMPFILE) != O_TMPFILE &&
                         (!(flags & O_TRUNC) || options_.landlock_abi >= 3) && resolve == 0;
  // A --list grant's directory is opened here: Landlock's rule for it also
  // covers every directory below, where a swapped path would then land.
  if (r.decision.grant && r.decision.grant->list_only) landlock_covers = false;
  // Landlock has no rule for the guest's own /proc entries: opened here.
  if (r.own_proc) landlock_covers = false;
  if (landlock_covers && may_continue && !options_.broker_performs_opens) return Verdict::cont();

  mode_t create_mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) create_mode = static_cast<mode_t>(mode & 07777) & ~guest_proc::umask_of(pid);
  bool cloexec = flags & O_CLOEXEC;
  uint64_t open_flags = flags & ~static_cast<uint64_t>(O_CLOEXEC);

  const Grant* g = r.decision.grant;
  if (!g || r.own_proc) {
    UniqueFd fd;
    if (int e = open_beneath(n, r, need, open_flags, create_mode, resolve, fd)) return Verdict::error(e);
    return Verdict::inject(std::move(fd), cloexec);
  }

  // An open may block (a lookup that needs disk I/O, a slow filesystem).
  // As io_uring itself does, try inline first with a lookup that needs no
  // I/O (RESOLVE_CACHED) and an open that cannot wait (O_NONBLOCK); only
  // what would block goes through the ring, and answers when it completes.
  // Like io_uring's own openat, a FIFO is then opened without waiting for
  // its peer (O_WRONLY without a reader fails with ENXIO); CONTINUEd opens,
  // the default, keep the kernel's blocking semantics.
  open_how how{};
  how.flags = open_flags | O_CLOEXEC | O_NOCTTY;
  how.mode = create_mode;
  int base;
  std::string path;
  if (!g->directory) {
    how.flags &= ~static_cast<uint64_t>(O_NOFOLLOW);
    base = AT_FDCWD;
    path = self_fd_path(roots_.fd_for(*g));
  } else {
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve | beneath_resolve(*g);
    base = roots_.fd_for(*g);
    path = path_text::relative_to(r.path, g->path);
  }
  bool may_inline = !(open_flags & (O_CREAT | O_TRUNC)) && (open_flags & O_TMPFILE) != O_TMPFILE;
  if (may_inline) {
    open_how quick = how;
    quick.flags |= O_NONBLOCK;
    if (g->directory) quick.resolve |= RESOLVE_CACHED;  // /proc/self/fd links are never cached lookups
    UniqueFd fd(kernel::openat2(base, path.c_str(), quick));
    if (fd.valid() && foreign_proc_object(fd.get(), static_cast<pid_t>(n.pid))) return refuse_foreign_proc(n, r.path);
    if (fd.valid()) {
      if (!(open_flags & O_NONBLOCK)) ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
      return Verdict::inject(std::move(fd), cloexec);
    }
    if (errno != EAGAIN && errno != EXDEV) return Verdict::error(errno);
  }
  uint64_t id = n.id;
  // The completion's own record of this call. What was noted so far is
  // logged by handle() as this call returns; the copy logs what it adds.
  Call copy = n;
  copy.noted.clear();
  async_.openat2(base, std::move(path), how,
                 [this, id, copy, r, need, open_flags, create_mode, resolve, cloexec,
                  who = ActingAs::current()](int result) mutable {
                   if (result == -EXDEV && !r.physical) {
                     // A symlink in a lexically chosen grant leads out of it:
                     // decide again on its real target, synchronously, as the
                     // same guest.
                     std::optional<ActingAs> acting;
                     if (who) acting.emplace(*who);
                     UniqueFd fd;
                     int e = open_beneath(copy, r, need, open_flags, create_mode, resolve, fd);
                     Verdict v = e ? Verdict::error(e) : Verdict::inject(std::move(fd), cloexec);
                     if (!copy.noted.empty()) flush_notes(copy, v);
                     deliver(channel_, id, std::move(v));
                     return;
                   }
                   if (result < 0) {
                     deliver(channel_, id, Verdict::error(-result));
                     return;
                   }
                   UniqueFd opened(result);
                   if (foreign_proc_object(opened.get(), static_cast<pid_t>(copy.pid))) {
                     Verdict v = refuse_foreign_proc(copy, r.path);
                     return deliver(channel_, id, std::move(v));
                   }
                   deliver(channel_, id, Verdict::inject(std::move(opened), cloexec));
                 });
  return Verdict::deferred();
}

Verdict SyscallHandlers::emulate_opath(Call& n, ResolvedPath& r, uint64_t flags) {
  // The kernel's ADDFD cannot install O_PATH files (it takes them with
  // fget(), which skips them), and CONTINUE would let a racing thread swap
  // the path: Landlock does not check O_PATH opens. So the broker opens the
  // object itself with the least access the grants allow (the decision was
  // for read) and injects that: a directory as O_RDONLY|O_DIRECTORY, a
  // regular file as O_RDONLY. Anything else (a symlink itself, a device, a
  // FIFO) is refused rather than opened with side effects.
  UniqueFd path_fd;
  if (int e = open_beneath(n, r, Need::kRead, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)), 0, 0, path_fd))
    return Verdict::error(e);
  return reopen_held(n, path_fd, O_RDONLY, flags & O_CLOEXEC, /*opath=*/true);
}

Verdict SyscallHandlers::reopen_held(Call& n, const UniqueFd& held, uint64_t flags, bool cloexec,
                                     bool opath) {
  struct stat st;
  if (::fstat(held.get(), &st) != 0) return Verdict::error(errno);
  if (opath) {
    if (S_ISDIR(st.st_mode)) {
      flags = O_RDONLY | O_DIRECTORY;
    } else if (S_ISREG(st.st_mode)) {
      flags = O_RDONLY;
    } else {
      return deny_text(n, "an O_PATH open", "only directories and regular files can be opened by path here",
                       S_ISLNK(st.st_mode) ? ELOOP : EACCES);
    }
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // Through our descriptor's /proc/self/fd link: exactly the inode decided on.
  open_how how{};
  how.flags = (flags & ~static_cast<uint64_t>(O_CLOEXEC | O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC | O_NOCTTY;
  std::string self = self_fd_path(held.get());
  UniqueFd fd(kernel::openat2(AT_FDCWD, self.c_str(), how));
  if (!fd.valid()) return Verdict::error(errno);
  return Verdict::inject(std::move(fd), cloexec);
}

Verdict SyscallHandlers::open_in_guest_root(Call& n, int dirfd, const std::string& raw,
                                            const open_how& guest_how) {
  // RESOLVE_BENEATH and RESOLVE_IN_ROOT confine the walk to the guest's
  // dirfd, symlinks included. The kernel does that walk here, on our
  // duplicate of that dirfd with the guest's own resolve flags; the broker
  // then decides on where it really landed and reopens exactly that inode.
  pid_t pid = static_cast<pid_t>(n.pid);
  UniqueFd root;
  std::string root_name;
  if (dirfd == AT_FDCWD) {
    AsBroker broker;  // the guest's /proc entry is the broker's to read
    root.reset(::open(("/proc/" + std::to_string(pid) + "/cwd").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return Verdict::error(ENOENT);
  } else if (int err = dup_guest_fd(n, dirfd, root, root_name)) {
    return Verdict::error(err);
  }
  uint64_t flags = guest_how.flags;
  // The kernel walks as the broker: a ".." (in the path or in a symlink met
  // on the way) would tell whether a directory the guest may not look at
  // exists, on success as on failure. Walked first as the guest's lookup
  // would, from the same root.
  std::string base;
  if (guest_proc::fd_target(::getpid(), root.get(), base) != 0) return Verdict::error(EACCES);
  WalkResult walked;
  int stop = walk_as_guest(GuestThread(pid), path_text::join(base, raw), !(flags & O_NOFOLLOW), walked);
  if (!resolver_.stays_visible(GuestThread(pid), walked)) return Verdict::error(EACCES);
  open_how walk{};
  walk.resolve = guest_how.resolve | RESOLVE_NO_MAGICLINKS;
  bool creating = flags & O_CREAT;
  bool exclusive = creating && (flags & O_EXCL);
  // O_CREAT|O_EXCL never follows the last component, as in the kernel: a
  // symlink there (dangling or not) already exists.
  walk.flags = O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY)) | (exclusive ? O_NOFOLLOW : 0);
  UniqueFd target(kernel::openat2(root.get(), raw.c_str(), walk));
  std::string name;
  // A walk that found nothing reports it only where the guest may look:
  // decided where the guest's walk above stopped. Beneath the root, that
  // walk is the kernel's; one that leaves the root (an absolute symlink,
  // read from "/" by our walk and from the root by RESOLVE_IN_ROOT) is not,
  // and reports nothing.
  auto absent = [&](int err) -> Verdict {
    if (err != ENOENT && err != ENOTDIR) return Verdict::error(err);
    ResolvedPath seen{walked.path, true, decide(n, walked.path, Need::kStat)};
    bool beneath = !walked.path.empty() && walked.end == WalkEnd::kPath && path_text::is_within(walked.path, base);
    if (!beneath || !seen.decision.allowed) return deny(n, seen, Need::kStat);
    if (stop != 0 && !guest_may_search(walked.stopped_in)) return Verdict::error(EACCES);
    return Verdict::error(err);
  };

  if (target.valid() && creating && !exclusive) {
    struct stat st{};
    // open(2) with O_CREAT on an existing directory is EISDIR.
    if (::fstat(target.get(), &st) == 0 && S_ISDIR(st.st_mode)) return Verdict::error(EISDIR);
  }
  if (target.valid() && exclusive) {
    // It exists. Say so only where the guest may look.
    std::string found;
    if (int err = guest_proc::fd_target(::getpid(), target.get(), found)) return Verdict::error(err);
    ResolvedPath seen{found, true, decide(n, found, Need::kStat)};
    if (!seen.decision.allowed) return deny(n, seen, Need::kStat);
    return Verdict::error(EEXIST);
  }
  if (!target.valid()) {
    int err = errno;
    if (err != ENOENT || !creating) return absent(err);
    // Creating: walk to the parent instead, and create the last component
    // beneath its grant without following anything.
    std::string dir = raw.find('/') == std::string::npos ? "." : raw.substr(0, raw.find_last_of('/') + 1);
    name = raw.substr(raw.find_last_of('/') + 1);
    if (name.empty() || name == "." || name == "..") return Verdict::error(EISDIR);
    walk.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    target.reset(kernel::openat2(root.get(), dir.c_str(), walk));
    if (!target.valid()) return absent(errno);
  }
  std::string where;
  if (int err = guest_proc::fd_target(::getpid(), target.get(), where)) return Verdict::error(err);
  // The kernel walked as the broker: beneath a /proc dirfd, "self" was the
  // broker's own entry.
  if (foreign_proc_object(target.get(), pid)) return refuse_foreign_proc(n, where);
  if (!name.empty()) where = path_text::join(where, name);
  Need need = open_need(flags);
  if (!name.empty()) need = Need::kCreate;
  // Beneath a /proc/self dirfd (runc, systemd): the guest's own entries are
  // read without a grant here too, through their pin.
  if (name.empty() && in_proc(where)) {
    ResolvedPath own;
    if (resolver_.resolve_absolute(GuestThread(pid), where, true, need, own) == 0 && own.own_proc) {
      UniqueFd fd;
      if (int e = open_own_proc(*own.own_proc, flags & ~static_cast<uint64_t>(O_CLOEXEC), fd)) return Verdict::error(e);
      return Verdict::inject(std::move(fd), flags & O_CLOEXEC);
    }
  }
  ResolvedPath r{where, true, decide(n, where, need)};
  if (!r.decision.allowed) return deny(n, r, need);
  bool cloexec = flags & O_CLOEXEC;
  if (name.empty()) {
    if (flags & O_PATH) {
      Decision readable = decide(n, where, Need::kRead);
      if (!readable.allowed) return deny(n, r, Need::kRead);
      return reopen_held(n, target, O_RDONLY, cloexec, /*opath=*/true);
    }
    return reopen_held(n, target, flags, cloexec, /*opath=*/false);
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  UniqueFd fd;
  mode_t mode = static_cast<mode_t>(guest_how.mode & 07777) & ~guest_proc::umask_of(pid);
  if (int e = open_beneath(n, r, need, (flags & ~static_cast<uint64_t>(O_CLOEXEC)) | O_NOFOLLOW, mode,
                           RESOLVE_NO_SYMLINKS, fd))
    return Verdict::error(e);
  return Verdict::inject(std::move(fd), cloexec);
}

Verdict SyscallHandlers::on_openat2(Call& n) {
  // struct open_how lives in guest memory, where a filter cannot see it: the
  // broker copies it once and always performs the open itself.
  const auto* a = n.data.args;
  size_t size = a[3];
  if (size < sizeof(open_how)) return Verdict::error(EINVAL);
  if (size > 4096) return Verdict::error(E2BIG);
  open_how how{};
  if (int err = memory_.read(static_cast<pid_t>(n.pid), a[2], &how, sizeof how)) return Verdict::error(err);
  if (size > sizeof how) {
    // Unknown trailing fields must be zero, as the kernel requires.
    std::string tail(size - sizeof how, '\0');
    if (int err = memory_.read(static_cast<pid_t>(n.pid), a[2] + sizeof how, tail.data(), tail.size()))
      return Verdict::error(err);
    if (tail.find_first_not_of('\0') != std::string::npos) return Verdict::error(E2BIG);
  }
  constexpr uint64_t kKnownResolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                     RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
  if (how.resolve & ~kKnownResolve) return Verdict::error(EINVAL);
  if (how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) {
    std::string raw;
    if (int err = copy_path(n, a[1], raw)) return Verdict::error(err);
    if (raw.empty()) return Verdict::error(ENOENT);
    return open_in_guest_root(n, static_cast<int>(static_cast<int32_t>(a[0])), raw, how);
  }
  uint64_t passthrough = how.resolve & (RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS);
  // Never CONTINUE: the kernel would read how (and the path) again.
  return on_open(n, static_cast<int>(static_cast<int32_t>(a[0])), a[1], how.flags, how.mode, passthrough,
                 /*may_continue=*/false);
}

Verdict SyscallHandlers::on_memfd_create(Call& n) {
  // The filter lets through a memfd_create that already asks for
  // MFD_NOEXEC_SEAL; this one does not, or asks for MFD_EXEC. No exec grant
  // can name a memfd, so an executable one is refused and any other is made
  // here with the seal added: its code can then never be run by execve,
  // however a path to it is spelled or swapped.
  unsigned flags = static_cast<unsigned>(n.data.args[1]);
  std::string name;
  if (int err = memory_.read_string(static_cast<pid_t>(n.pid), n.data.args[0], 250, name))
    return Verdict::error(err == ENAMETOOLONG ? EINVAL : err);
  if (flags & MFD_EXEC) return deny_text(n, "memfd:" + name, "an executable memfd (MFD_EXEC) is never granted");
  if (!still_pending(n)) return Verdict::error(ENOENT);
  UniqueFd fd(::memfd_create(name.c_str(), (flags & ~MFD_CLOEXEC) | MFD_CLOEXEC | MFD_NOEXEC_SEAL));
  if (!fd.valid()) return Verdict::error(errno);
  return Verdict::inject(std::move(fd), flags & MFD_CLOEXEC);
}

}  // namespace wwjail
