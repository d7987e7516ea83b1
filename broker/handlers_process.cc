// execve/execveat, chdir/fchdir, inotify_add_watch, and calls that name
// another process.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "broker/guest_proc.h"
#include "broker/syscall_handlers.h"
#include "capabilities/path_text.h"
#include "sys/self_fd.h"

namespace wwjail {

Verdict SyscallHandlers::on_exec(Call& n, int dirfd, uint64_t path_addr, int flags) {
  std::string raw;
  if (int err = copy_path(n, path_addr, raw)) return Verdict::error(err);
  ResolvedPath r;
  if (raw.empty() && (flags & AT_EMPTY_PATH)) {
    // Exec of a descriptor (fexecve): decide on what the fd really is. A
    // memfd or a deleted file has no granted path and is refused: this is
    // the fileless-exec door.
    UniqueFd dup;
    std::string name;
    if (int err = dup_guest_fd(n, dirfd, dup, name)) return Verdict::error(err);
    std::string target = decidable_path(dup.get(), name);
    if (target.empty())
      return deny_text(n, name, "exec of an object with no granted path (memfd, deleted file, socket)");
    if (int err = resolve_absolute_noted(n, target, true, Need::kExec, r)) return Verdict::error(err);
  } else if (int err = resolve_noted(n, dirfd, raw, !(flags & AT_SYMLINK_NOFOLLOW), Need::kExec, r)) {
    return Verdict::error(err);
  }
  // Decide where the path really leads: a link planted at a granted path
  // (its directory moved away) may lead to the ELF loader, which the text
  // alone would not show.
  if (r.decision.allowed && !r.physical) {
    if (int err = redecide_physical(n, r, Need::kExec, r.path, "", !(flags & AT_SYMLINK_NOFOLLOW)))
      return Verdict::error(err);
  }
  // Running the dynamic loader directly (ld.so ./file) would execute a file
  // that is only readable. The kernel still opens the loader for granted
  // programs, which Landlock allows; the guest may not name it itself.
  if (r.decision.allowed && r.decision.grant && r.decision.grant->interpreter_only)
    return deny_text(n, r.path, "direct exec of the ELF interpreter is not granted");
  if (!r.decision.allowed) return deny(n, r, Need::kExec);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // The broker cannot exec for the guest. CONTINUE is safe here only
  // because Landlock's EXECUTE right is derived from the same exec grants:
  // if the path is swapped after our copy, the kernel checks it again.
  if (!options_.landlock_active) return deny_text(n, r.path, "exec needs Landlock, which is not active");
  return Verdict::cont();
}

Verdict SyscallHandlers::on_chdir(Call& n, bool by_fd) {
  pid_t pid = static_cast<pid_t>(n.pid);
  ResolvedPath r;
  if (by_fd) {
    std::string target;
    if (int err = guest_proc::dir_path(pid, static_cast<int>(n.data.args[0]), target)) return Verdict::error(err);
    if (int err = resolve_absolute_noted(n, target, true, Need::kStat, r)) return Verdict::error(err);
  } else if (int err = locate(n, AT_FDCWD, n.data.args[0], true, Need::kStat, r)) {
    return Verdict::error(err);
  }
  if (!r.decision.allowed) return deny(n, r, Need::kStat);
  // The kernel follows symlinks a decision on the text did not see: decide
  // where the directory really is (a symlink planted in a writable grant
  // must not tell whether a directory outside exists).
  if (!r.physical) {
    if (int err = redecide_physical(n, r, Need::kStat, r.path, "", true)) return Verdict::error(err);
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // The broker cannot change the guest's cwd, so this CONTINUEs. That is
  // safe without Landlock: a swapped path can only leave the guest in a
  // directory it may not use, because every later path is resolved by the
  // broker against the guest's real cwd and decided again.
  return Verdict::cont();
}

Verdict SyscallHandlers::on_inotify_add_watch(Call& n) {
  const auto* a = n.data.args;
  uint32_t mask = static_cast<uint32_t>(a[2]);
  ResolvedPath r;
  if (int err = locate(n, AT_FDCWD, a[1], !(mask & IN_DONT_FOLLOW), Need::kRead, r)) return Verdict::error(err);
  if (!r.decision.allowed) return deny(n, r, Need::kRead);
  UniqueFd watched;
  if (int e = open_beneath(n, r, Need::kRead, O_PATH | ((mask & IN_DONT_FOLLOW) ? O_NOFOLLOW : 0), 0, 0, watched))
    return Verdict::error(e);
  UniqueFd inotify;
  std::string name;
  if (int err = dup_guest_fd(n, static_cast<int>(a[0]), inotify, name)) return Verdict::error(err);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // Our duplicate shares the guest's inotify instance, so the watch
  // descriptor we get is valid in the guest.
  std::string self = self_fd_path(watched.get());
  int wd = ::inotify_add_watch(inotify.get(), self.c_str(), mask & ~IN_DONT_FOLLOW);
  return wd >= 0 ? Verdict::value_of(wd) : Verdict::error(errno);
}

Verdict SyscallHandlers::on_pid_target(Call& n) {
  // Signals and scheduling calls may only reach the guest's own tree. The
  // decision uses registers alone (the pid), so CONTINUE is allowed.
  const auto* a = n.data.args;
  pid_t self = static_cast<pid_t>(n.pid);
  auto target_ok = [&](int64_t pid) {
    return pid == 0 || pid == self || guest_proc::in_tree(static_cast<pid_t>(pid), options_.tree_root);
  };
  int64_t pid;
  switch (n.data.nr) {
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
      if (static_cast<int32_t>(a[0]) != (n.data.nr == SYS_setpriority ? PRIO_PROCESS : 1))
        return deny_text(n, "user or group target", "only processes of the guest tree", EPERM);
      pid = static_cast<int32_t>(a[1]);
      break;
    default:
      return Verdict::error(ENOSYS);
  }
  if (!target_ok(pid)) return deny_text(n, "pid " + std::to_string(pid), "not in the guest's process tree", EPERM);
  return Verdict::cont();
}

Verdict SyscallHandlers::on_credentials_change(Call& n) {
  // The kernel decides whether the change is allowed (the guest holds no
  // capability it did not keep); the broker only stops assuming every guest
  // thread still has the identity it was started with. Noted before the
  // change happens, so no later call of this thread is handled with the
  // old identity.
  (void)n;
  if (options_.identities) options_.identities->note_change();
  return Verdict::cont();
}

}  // namespace wwjail
