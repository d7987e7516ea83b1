// execve/execveat, chdir/fchdir, inotify_add_watch, and calls that name
// another process.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "broker/guest_proc.h"
#include "broker/handlers/steps.h"
#include "broker/handlers/handlers.h"
#include "capabilities/path_text.h"
#include "sys/self_fd.h"

namespace wwjail {

namespace {

// What an exec runs, resolved and granted. Exec of a descriptor (fexecve)
// is decided on what the fd really is: a memfd or a deleted file has no
// granted path and is refused (the fileless-exec door).
Expected<ResolvedPath, Verdict> exec_target(Call& n, const Services& s, int dirfd, const std::string& raw, int flags) {
  if (!(raw.empty() && (flags & AT_EMPTY_PATH)))
    return resolve_granted(n, s, dirfd, raw, !(flags & AT_SYMLINK_NOFOLLOW), Need::kExec);
  auto dup = dup_guest_fd_named(n, dirfd);
  if (!dup) return fail(std::move(dup).error());
  std::string target = decidable_path(dup->fd.get(), dup->name);
  if (target.empty())
    return fail(deny_text(n, dup->name, "exec of an object with no granted path (memfd, deleted file, socket)"));
  auto r = resolve_absolute(n, s, target, true, Need::kExec);
  if (r && !r->decision.allowed) return fail(deny(n, s, *r, Need::kExec));
  return r;
}

}  // namespace

Verdict on_exec(Call& n, const Services& s, int dirfd, uint64_t path_addr, int flags) {
  auto raw = n.read_path(path_addr);
  if (!raw) return std::move(raw).error();
  auto r = exec_target(n, s, dirfd, *raw, flags);
  if (!r) return std::move(r).error();
  // Decide where the path really leads: a link planted at a granted path
  // (its directory moved away) may lead to the ELF loader, which the text
  // alone would not show.
  if (!r->physical) {
    auto again = redecide_physical(n, s, *r, Need::kExec, r->path, "", !(flags & AT_SYMLINK_NOFOLLOW));
    if (!again) return std::move(again).error();
  }
  // Running the dynamic loader directly (ld.so ./file) would execute a file
  // that is only readable. The kernel still opens the loader for granted
  // programs, which Landlock allows; the guest may not name it itself.
  if (r->decision.grant && r->decision.grant->interpreter_only)
    return deny_text(n, r->path, "direct exec of the ELF interpreter is not granted");
  if (!n.pending()) return interrupted();
  // The broker cannot exec for the guest. CONTINUE is safe here only
  // because Landlock's EXECUTE right is derived from the same exec grants:
  // if the path is swapped after our copy, the kernel checks it again.
  if (!s.options.landlock_active) return deny_text(n, r->path, "exec needs Landlock, which is not active");
  return Verdict::cont();
}

namespace {

// The directory a chdir/fchdir names, resolved and granted.
Expected<ResolvedPath, Verdict> chdir_target(Call& n, const Services& s, bool by_fd) {
  if (!by_fd) return locate_granted(n, s, AT_FDCWD, n.args()[0], true, Need::kStat);
  std::string target;
  if (int err = guest_proc::dir_path(n.tid(), static_cast<int>(n.args()[0]), target)) return fail(err);
  auto r = resolve_absolute(n, s, target, true, Need::kStat);
  if (r && !r->decision.allowed) return fail(deny(n, s, *r, Need::kStat));
  return r;
}

}  // namespace

Verdict on_chdir(Call& n, const Services& s, bool by_fd) {
  auto r = chdir_target(n, s, by_fd);
  if (!r) return std::move(r).error();
  // The kernel follows symlinks a decision on the text did not see: decide
  // where the directory really is (a symlink planted in a writable grant
  // must not tell whether a directory outside exists). Where the walk ends
  // on the text's own path, the decision already made is that decision.
  if (!r->physical) {
    auto where = physical_path(n, s, r->path, true);
    if (!where) return std::move(where).error();
    if (*where == r->path) {
      r->physical = true;
    } else if (auto again = decide_again(n, s, *r, Need::kStat, std::move(*where)); !again) {
      return std::move(again).error();
    }
  }
  if (!n.pending()) return interrupted();
  // The broker cannot change the guest's cwd, so this CONTINUEs. That is
  // safe without Landlock: a swapped path can only leave the guest in a
  // directory it may not use, because every later path is resolved by the
  // broker against the guest's real cwd and decided again.
  return Verdict::cont();
}

Verdict on_inotify_add_watch(Call& n, const Services& s) {
  const auto* a = n.args();
  uint32_t mask = static_cast<uint32_t>(a[2]);
  auto watched = locate_target(n, s, AT_FDCWD, a[1], !(mask & IN_DONT_FOLLOW), Need::kRead);
  if (!watched) return std::move(watched).error();
  auto inotify = dup_guest_fd_named(n, static_cast<int>(a[0]));
  if (!inotify) return std::move(inotify).error();
  if (!n.pending()) return interrupted();
  // Our duplicate shares the guest's inotify instance, so the watch
  // descriptor we get is valid in the guest.
  std::string self = self_fd_path(watched->fd.get());
  int wd = ::inotify_add_watch(inotify->fd.get(), self.c_str(), mask & ~IN_DONT_FOLLOW);
  return wd >= 0 ? Verdict::value_of(wd) : Verdict::error(errno);
}

Verdict on_pid_target(Call& n, const Services& s) {
  // Signals and scheduling calls may only reach the guest's own tree. The
  // decision uses registers alone (the pid), so CONTINUE is allowed.
  const auto* a = n.args();
  pid_t self = n.tid();
  auto target_ok = [&](int64_t pid) {
    return pid == 0 || pid == self || guest_proc::in_tree(static_cast<pid_t>(pid), s.options.tree_root);
  };
  int64_t pid;
  switch (n.nr()) {
    case SYS_kill:
    case SYS_rt_sigqueueinfo:
      pid = static_cast<int32_t>(a[0]);
      if (pid == -1) return deny_text(n, "pid -1", "signals to every process are refused", EPERM);
      if (pid < -1) pid = -pid;  // a process group: its leader must be a guest
      break;
    case SYS_tgkill:
    case SYS_rt_tgsigqueueinfo:
    case SYS_tkill:
    case SYS_pidfd_open:
    case SYS_prlimit64:
    case SYS_sched_setaffinity:
    case SYS_sched_setparam:
    case SYS_sched_setscheduler:
    case SYS_sched_setattr:
      pid = static_cast<int32_t>(a[0]);
      break;
    case SYS_setpgid:
      // The process must be a guest, and so must the group it joins (or it
      // starts its own), so a guest cannot join the broker's group.
      pid = static_cast<int32_t>(a[0]);
      if (static_cast<int32_t>(a[1]) != 0 && !target_ok(static_cast<int32_t>(a[1])))
        return deny_text(n, "group " + std::to_string(static_cast<int32_t>(a[1])), "not a guest process group", EPERM);
      break;
    case SYS_setpriority:
    case SYS_ioprio_set:
      // which == PRIO_PROCESS / IOPRIO_WHO_PROCESS (1 for ioprio) only.
      if (static_cast<int32_t>(a[0]) != (n.nr() == SYS_setpriority ? PRIO_PROCESS : 1))
        return deny_text(n, "user or group target", "only processes of the guest tree", EPERM);
      pid = static_cast<int32_t>(a[1]);
      break;
    default:
      return Verdict::error(ENOSYS);
  }
  if (!target_ok(pid)) return deny_text(n, "pid " + std::to_string(pid), "not in the guest's process tree", EPERM);
  return Verdict::cont();
}

Verdict on_credentials_change(Call&, const Services& s) {
  // The kernel decides whether the change is allowed (the guest holds no
  // capability it did not keep); the broker only stops assuming every guest
  // thread still has the identity it was started with. Noted before the
  // change happens, so no later call of this thread is handled with the
  // old identity.
  if (s.options.identities) s.options.identities->note_change();
  return Verdict::cont();
}

}  // namespace wwjail
