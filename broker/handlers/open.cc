// open, openat, creat, openat2, memfd_create.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <cerrno>
#include <optional>

#include "broker/guest_identity.h"
#include "broker/guest_proc.h"
#include "broker/handlers/steps.h"
#include "broker/handlers/handlers.h"
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
  return Need::kRead;  // O_PATH too: see emulate_opath
}

constexpr uint64_t without(uint64_t flags, uint64_t bits) { return flags & ~bits; }

// An open the broker performs: what was decided and how to open it.
struct BrokerOpen {
  ResolvedPath r;
  Need need = Need::kRead;
  uint64_t flags = 0;    // the guest's, without O_CLOEXEC
  mode_t mode = 0;       // for a create: the guest's mode less its umask
  uint64_t resolve = 0;  // resolve flags the guest's openat2 passes through
  bool cloexec = false;
};

// Resolves and decides an open. O_CREAT needs room for a new entry unless
// the file is itself granted for writing (a single-file write grant).
Expected<ResolvedPath, Verdict> decide_open(Call& n, const Services& s, int dirfd, uint64_t path_addr,
                                            uint64_t flags, Need& need) {
  auto r = locate(n, s, dirfd, path_addr, !(flags & O_NOFOLLOW), need);
  if (!r) return r;
  const Grant* g = r->decision.grant;
  bool file_grant_write = g && !g->directory && !g->audit_fallback && (g->rights & kWrite);
  if ((flags & O_CREAT) && need != Need::kCreate && r->decision.allowed && !file_grant_write) {
    Decision create = decide(n, s, r->path, Need::kCreate);
    if (!create.allowed) {
      r->decision = std::move(create);
      need = Need::kCreate;
    }
  }
  if (!r->decision.allowed) return fail(deny(n, s, *r, need));
  return r;
}

// CONTINUE only where Landlock enforces the same rule in the kernel: it
// checks read, write, truncate (ABI 3) and create for the file the kernel
// really opens, so a path swapped after our copy is checked again there.
// O_PATH and O_TMPFILE opens are not checked by Landlock: the broker opens.
bool landlock_covers(const Services& s, const ResolvedPath& r, uint64_t flags, uint64_t resolve) {
  bool covers = s.options.landlock_active && !(flags & O_PATH) && (flags & O_TMPFILE) != O_TMPFILE &&
                (!(flags & O_TRUNC) || s.options.landlock_abi >= 3) && resolve == 0;
  // A --list grant's directory is opened here: Landlock's rule for it also
  // covers every directory below, where a swapped path would then land.
  if (r.decision.grant && r.decision.grant->list_only) return false;
  // Landlock has no rule for the guest's own /proc entries: opened here.
  if (r.own_proc) return false;
  return covers;
}

Verdict injected(Expected<UniqueFd, Verdict> fd, bool cloexec) {
  if (!fd) return std::move(fd).error();
  return Verdict::inject(std::move(*fd), cloexec);
}

// Where the open of `op` is made from: the grant's pinned directory, or
// the pinned inode of a single-file grant.
struct OpenAt {
  int base;
  std::string path;
  open_how how;
};
OpenAt open_at(const Services& s, const BrokerOpen& op) {
  const Grant& g = *op.r.decision.grant;
  open_how how{};
  how.flags = op.flags | O_CLOEXEC | O_NOCTTY;
  how.mode = op.mode;
  if (!g.directory) {
    how.flags = without(how.flags, O_NOFOLLOW);
    return {AT_FDCWD, self_fd_path(s.roots.fd_for(g)), how};
  }
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | op.resolve | beneath_resolve(g);
  return {s.roots.fd_for(g), path_text::relative_to(op.r.path, g.path), how};
}

// The inline attempt: a lookup that needs no I/O (RESOLVE_CACHED) and an
// open that cannot wait (O_NONBLOCK). nullopt: it would block (or left the
// grant by a symlink), so the ring does it.
std::optional<Verdict> open_inline(Call& n, const BrokerOpen& op, const OpenAt& at) {
  open_how quick = at.how;
  quick.flags |= O_NONBLOCK;
  if (op.r.decision.grant->directory) quick.resolve |= RESOLVE_CACHED;  // /proc/self/fd links are never cached lookups
  UniqueFd fd(kernel::openat2(at.base, at.path.c_str(), quick));
  if (fd.valid() && foreign_proc_object(fd.get(), n.tid())) return refuse_foreign_proc(n, op.r.path);
  if (fd.valid()) {
    if (!(op.flags & O_NONBLOCK)) ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return Verdict::inject(std::move(fd), op.cloexec);
  }
  if (errno != EAGAIN && errno != EXDEV) return Verdict::error(errno);
  return std::nullopt;
}

// The answer to a ring open that completed with `result`.
Verdict ring_opened(Call& call, const Services& s, BrokerOpen& op, const std::optional<GuestIdentity>& who,
                    int result) {
  if (result == -EXDEV && !op.r.physical) {
    // A symlink in a lexically chosen grant leads out of it: decide again
    // on its real target, synchronously, as the same guest.
    std::optional<ActingAs> acting;
    if (who) acting.emplace(*who);
    return injected(open_beneath(call, s, op.r, op.need, op.flags, op.mode, op.resolve), op.cloexec);
  }
  if (result < 0) return Verdict::error(-result);
  UniqueFd opened(result);
  if (foreign_proc_object(opened.get(), call.tid())) return refuse_foreign_proc(call, op.r.path);
  return Verdict::inject(std::move(opened), op.cloexec);
}

// Performs an allowed open in the broker. An open may block (a lookup that
// needs disk I/O, a slow filesystem). As io_uring itself does, it is tried
// inline first; only what would block goes through the ring, and answers
// when it completes. Like io_uring's own openat, a FIFO is then opened
// without waiting for its peer (O_WRONLY without a reader fails with
// ENXIO); CONTINUEd opens, the default, keep the kernel's blocking semantics.
Verdict perform_open(Call& n, const Services& s, BrokerOpen op) {
  if (!op.r.decision.grant || op.r.own_proc)
    return injected(open_beneath(n, s, op.r, op.need, op.flags, op.mode, op.resolve), op.cloexec);
  OpenAt at = open_at(s, op);
  bool may_inline = !(op.flags & (O_CREAT | O_TRUNC)) && (op.flags & O_TMPFILE) != O_TMPFILE;
  if (may_inline) {
    if (auto v = open_inline(n, op, at)) return std::move(*v);
  }
  AsyncOps& ring = n.async();
  ring.openat2(at.base, std::move(at.path), at.how,
               [&s, call = n.defer(), op = std::move(op), who = ActingAs::current()](int result) mutable {
                 call.finish(ring_opened(call, s, op, who, result));
               });
  return Verdict::deferred();
}

// Reopens the inode behind `held` (an O_PATH fd the broker opened and
// decided on) with `flags`, or, for an O_PATH request, read-only.
Verdict reopen_held(Call& n, const UniqueFd& held, uint64_t flags, bool cloexec, bool opath) {
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
  if (!n.pending()) return interrupted();
  // Through our descriptor's /proc/self/fd link: exactly the inode decided on.
  open_how how{};
  how.flags = without(flags, O_CLOEXEC | O_NOFOLLOW | O_CREAT | O_EXCL) | O_CLOEXEC | O_NOCTTY;
  UniqueFd fd(kernel::openat2(AT_FDCWD, self_fd_path(held.get()).c_str(), how));
  if (!fd.valid()) return Verdict::error(errno);
  return Verdict::inject(std::move(fd), cloexec);
}

Verdict emulate_opath(Call& n, const Services& s, ResolvedPath& r, uint64_t flags) {
  // The kernel's ADDFD cannot install O_PATH files (it takes them with
  // fget(), which skips them), and CONTINUE would let a racing thread swap
  // the path: Landlock does not check O_PATH opens. So the broker opens the
  // object itself with the least access the grants allow (the decision was
  // for read) and injects that: a directory as O_RDONLY|O_DIRECTORY, a
  // regular file as O_RDONLY. Anything else (a symlink itself, a device, a
  // FIFO) is refused rather than opened with side effects.
  auto path_fd = open_beneath(n, s, r, Need::kRead, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)), 0, 0);
  if (!path_fd) return std::move(path_fd).error();
  return reopen_held(n, *path_fd, O_RDONLY, flags & O_CLOEXEC, /*opath=*/true);
}

}  // namespace

Verdict on_open(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t flags, uint64_t mode,
                uint64_t resolve, bool may_continue) {
  Need need = open_need(flags);
  auto r = decide_open(n, s, dirfd, path_addr, flags, need);
  if (!r) return std::move(r).error();
  if (!n.pending()) return interrupted();
  if (flags & O_PATH) return emulate_opath(n, s, *r, flags);
  if (landlock_covers(s, *r, flags, resolve) && may_continue && !s.options.broker_performs_opens)
    return Verdict::cont();
  mode_t create_mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) create_mode = static_cast<mode_t>(mode & 07777) & ~guest_proc::umask_of(n.tid());
  return perform_open(n, s, {std::move(*r), need, without(flags, O_CLOEXEC), create_mode, resolve,
                             static_cast<bool>(flags & O_CLOEXEC)});
}

namespace {

// openat2 with RESOLVE_BENEATH / RESOLVE_IN_ROOT confines the walk to the
// guest's dirfd, symlinks included. The kernel does that walk here, on our
// duplicate of that dirfd with the guest's own resolve flags; the broker
// then decides on where it really landed and reopens exactly that inode.
//
// The kernel walks as the broker: a ".." (in the path or in a symlink met
// on the way) would tell whether a directory the guest may not look at
// exists, on success as on failure. So the path is walked first as the
// guest's lookup would, from the same root (`walked`, `stop`).
struct RootWalk {
  UniqueFd root;
  std::string base;  // the root's path
  WalkResult walked;
  int stop = 0;  // the guest walk's errno
};

Expected<RootWalk, Verdict> walk_from_root(Call& n, const Services& s, int dirfd, const std::string& raw,
                                           uint64_t flags) {
  RootWalk w;
  if (dirfd == AT_FDCWD) {
    AsBroker broker;  // the guest's /proc entry is the broker's to read
    w.root.reset(::open(guest_proc::fd_link(n.tid(), AT_FDCWD).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!w.root.valid()) return fail(ENOENT);
  } else {
    auto dup = dup_guest_fd_named(n, dirfd);
    if (!dup) return fail(std::move(dup).error());
    w.root = std::move(dup->fd);
  }
  if (guest_proc::fd_target(::getpid(), w.root.get(), w.base) != 0) return fail(EACCES);
  w.stop = walk_as_guest(GuestThread(n.tid()), path_text::join(w.base, raw), !(flags & O_NOFOLLOW), w.walked);
  if (!s.resolver.stays_visible(GuestThread(n.tid()), w.walked)) return fail(EACCES);
  return w;
}

// A walk that found nothing reports it only where the guest may look:
// decided where the guest's walk stopped. Beneath the root, that walk is
// the kernel's; one that leaves the root (an absolute symlink, read from
// "/" by our walk and from the root by RESOLVE_IN_ROOT) is not, and
// reports nothing.
Verdict report_absence(Call& n, const Services& s, const RootWalk& w, int err) {
  if (err != ENOENT && err != ENOTDIR) return Verdict::error(err);
  ResolvedPath seen{w.walked.path, true, decide(n, s, w.walked.path, Need::kStat)};
  bool beneath = !w.walked.path.empty() && w.walked.end == WalkEnd::kPath && path_text::is_within(w.walked.path, w.base);
  if (!beneath || !seen.decision.allowed) return deny(n, s, seen, Need::kStat);
  if (w.stop != 0 && !guest_may_search(w.walked.stopped_in)) return Verdict::error(EACCES);
  return Verdict::error(err);
}

// What the kernel's walk beneath the root reached: the target itself, or,
// for a create of an absent entry, its parent and the entry's name.
struct Landing {
  UniqueFd target;
  std::string name;  // non-empty: create `name` in the directory `target`
};

Expected<Landing, Verdict> land(Call& n, const Services& s, const RootWalk& w, const std::string& raw,
                                const open_how& guest_how) {
  uint64_t flags = guest_how.flags;
  bool creating = flags & O_CREAT;
  bool exclusive = creating && (flags & O_EXCL);
  open_how walk{};
  walk.resolve = guest_how.resolve | RESOLVE_NO_MAGICLINKS;
  // O_CREAT|O_EXCL never follows the last component, as in the kernel: a
  // symlink there (dangling or not) already exists.
  walk.flags = O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY)) | (exclusive ? O_NOFOLLOW : 0);
  Landing l{UniqueFd(kernel::openat2(w.root.get(), raw.c_str(), walk)), {}};
  if (l.target.valid() && creating && !exclusive) {
    struct stat st{};
    // open(2) with O_CREAT on an existing directory is EISDIR.
    if (::fstat(l.target.get(), &st) == 0 && S_ISDIR(st.st_mode)) return fail(EISDIR);
  }
  if (l.target.valid() && exclusive) {
    // It exists. Say so only where the guest may look.
    std::string found;
    if (int err = guest_proc::fd_target(::getpid(), l.target.get(), found)) return fail(err);
    ResolvedPath seen{found, true, decide(n, s, found, Need::kStat)};
    if (!seen.decision.allowed) return fail(deny(n, s, seen, Need::kStat));
    return fail(EEXIST);
  }
  if (l.target.valid()) return l;
  int err = errno;
  if (err != ENOENT || !creating) return fail(report_absence(n, s, w, err));
  // Creating: walk to the parent instead, and create the last component
  // beneath its grant without following anything.
  std::string dir = raw.find('/') == std::string::npos ? "." : raw.substr(0, raw.find_last_of('/') + 1);
  l.name = raw.substr(raw.find_last_of('/') + 1);
  if (l.name.empty() || l.name == "." || l.name == "..") return fail(EISDIR);
  walk.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  l.target.reset(kernel::openat2(w.root.get(), dir.c_str(), walk));
  if (!l.target.valid()) return fail(report_absence(n, s, w, errno));
  return l;
}

// Beneath a /proc/self dirfd (runc, systemd): the guest's own entry the
// kernel reached at `where`, read without a grant, through its pin. The
// guest's walk already made is the one resolve_absolute would make again
// when it followed the last component and ended on `where` itself.
std::shared_ptr<const OwnProcEntry> own_entry(Call& n, const Services& s, const RootWalk& w, const std::string& where,
                                              uint64_t flags, Need need) {
  GuestThread who(n.tid());
  if (w.stop == 0 && w.walked.end == WalkEnd::kPath && w.walked.path == where && !(flags & O_NOFOLLOW))
    return s.resolver.own_proc(who, where, need);
  ResolvedPath own;
  if (s.resolver.resolve_absolute(who, where, true, need, own) != 0) return nullptr;
  return own.own_proc;
}

Verdict open_in_guest_root(Call& n, const Services& s, int dirfd, const std::string& raw, const open_how& guest_how) {
  uint64_t flags = guest_how.flags;
  bool cloexec = flags & O_CLOEXEC;
  auto w = walk_from_root(n, s, dirfd, raw, flags);
  if (!w) return std::move(w).error();
  auto l = land(n, s, *w, raw, guest_how);
  if (!l) return std::move(l).error();
  std::string where;
  if (int err = guest_proc::fd_target(::getpid(), l->target.get(), where)) return Verdict::error(err);
  // The kernel walked as the broker: beneath a /proc dirfd, "self" was the
  // broker's own entry.
  if (foreign_proc_object(l->target.get(), n.tid())) return refuse_foreign_proc(n, where);
  bool creates = !l->name.empty();
  if (creates) where = path_text::join(where, l->name);
  Need need = creates ? Need::kCreate : open_need(flags);
  if (!creates && in_proc(where)) {
    if (auto own = own_entry(n, s, *w, where, flags, need)) return injected(open_own_proc(*own, without(flags, O_CLOEXEC)), cloexec);
  }
  ResolvedPath r{where, true, decide(n, s, where, need)};
  if (!r.decision.allowed) return deny(n, s, r, need);
  if (!creates && (flags & O_PATH)) {
    if (!decide(n, s, where, Need::kRead).allowed) return deny(n, s, r, Need::kRead);
    return reopen_held(n, l->target, O_RDONLY, cloexec, /*opath=*/true);
  }
  if (!creates) return reopen_held(n, l->target, flags, cloexec, /*opath=*/false);
  if (!n.pending()) return interrupted();
  mode_t mode = static_cast<mode_t>(guest_how.mode & 07777) & ~guest_proc::umask_of(n.tid());
  return injected(open_beneath(n, s, r, need, without(flags, O_CLOEXEC) | O_NOFOLLOW, mode, RESOLVE_NO_SYMLINKS),
                  cloexec);
}

// struct open_how, copied once; unknown trailing fields must be zero, as
// the kernel requires.
Expected<open_how, Verdict> copy_open_how(const Call& n, uint64_t addr, size_t size) {
  if (size < sizeof(open_how)) return fail(EINVAL);
  if (size > 4096) return fail(E2BIG);
  open_how how{};
  if (auto got = n.read(addr, &how, sizeof how); !got) return fail(std::move(got).error());
  if (size > sizeof how) {
    std::string tail(size - sizeof how, '\0');
    if (auto got = n.read(addr + sizeof how, tail.data(), tail.size()); !got) return fail(std::move(got).error());
    if (tail.find_first_not_of('\0') != std::string::npos) return fail(E2BIG);
  }
  constexpr uint64_t kKnownResolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                     RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
  if (how.resolve & ~kKnownResolve) return fail(EINVAL);
  return how;
}

}  // namespace

Verdict on_openat2(Call& n, const Services& s) {
  // struct open_how lives in guest memory, where a filter cannot see it: the
  // broker copies it once and always performs the open itself.
  const auto* a = n.args();
  auto how = copy_open_how(n, a[2], a[3]);
  if (!how) return std::move(how).error();
  if (how->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) {
    auto raw = n.read_path(a[1]);
    if (!raw) return std::move(raw).error();
    if (raw->empty()) return Verdict::error(ENOENT);
    return open_in_guest_root(n, s, as_dirfd(a[0]), *raw, *how);
  }
  uint64_t passthrough = how->resolve & (RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS);
  // Never CONTINUE: the kernel would read how (and the path) again.
  return on_open(n, s, as_dirfd(a[0]), a[1], how->flags, how->mode, passthrough, /*may_continue=*/false);
}

Verdict on_memfd_create(Call& n, const Services&) {
  // The filter lets through a memfd_create that already asks for
  // MFD_NOEXEC_SEAL; this one does not, or asks for MFD_EXEC. No exec grant
  // can name a memfd, so an executable one is refused and any other is made
  // here with the seal added: its code can then never be run by execve,
  // however a path to it is spelled or swapped.
  unsigned flags = static_cast<unsigned>(n.args()[1]);
  std::string name;
  if (int err = n.memory().read_string(n.tid(), n.args()[0], 250, name))
    return Verdict::error(err == ENAMETOOLONG ? EINVAL : err);
  if (flags & MFD_EXEC) return deny_text(n, "memfd:" + name, "an executable memfd (MFD_EXEC) is never granted");
  if (!n.pending()) return interrupted();
  UniqueFd fd(::memfd_create(name.c_str(), (flags & ~MFD_CLOEXEC) | MFD_CLOEXEC | MFD_NOEXEC_SEAL));
  if (!fd.valid()) return Verdict::error(errno);
  return Verdict::inject(std::move(fd), flags & MFD_CLOEXEC);
}

}  // namespace wwjail
