#include "broker/syscall_handlers.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <sys/syscall.h>

#include <algorithm>
#include <optional>

#include "broker/handlers/steps.h"
#include "broker/handlers/handlers.h"

namespace wwjail {

namespace {

// Which handler takes each notified syscall, and how it reads the
// registers `a`: one row each.
#define ROUTE(nr, call) \
  Route { nr, [](Call& n, const Services& s, const __u64* a) { return (void)a, call; } }
constexpr Route kRoutes[] = {
  ROUTE(SYS_open, on_open(n, s, AT_FDCWD, a[0], a[1], a[2], 0)),
  ROUTE(SYS_openat, on_open(n, s, as_dirfd(a[0]), a[1], a[2], a[3], 0)),
  ROUTE(SYS_creat, on_open(n, s, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0)),
  ROUTE(SYS_openat2, on_openat2(n, s)),
  ROUTE(SYS_memfd_create, on_memfd_create(n, s)),
  ROUTE(SYS_fstat, on_stat(n, s, as_dirfd(a[0]), 0, a[1], AT_EMPTY_PATH, false, 0)),
  ROUTE(SYS_stat, on_stat(n, s, AT_FDCWD, a[0], a[1], 0, false, 0)),
  ROUTE(SYS_lstat, on_stat(n, s, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW, false, 0)),
  ROUTE(SYS_newfstatat, on_stat(n, s, as_dirfd(a[0]), a[1], a[2], static_cast<int>(a[3]), false, 0)),
  ROUTE(SYS_statx, on_stat(n, s, as_dirfd(a[0]), a[1], a[4], static_cast<int>(a[2]), true, static_cast<unsigned>(a[3]))),
  ROUTE(SYS_access, on_access(n, s, AT_FDCWD, a[0], static_cast<int>(a[1]), 0)),
  ROUTE(SYS_faccessat, on_access(n, s, as_dirfd(a[0]), a[1], static_cast<int>(a[2]), 0)),
  ROUTE(SYS_faccessat2, on_access(n, s, as_dirfd(a[0]), a[1], static_cast<int>(a[2]), static_cast<int>(a[3]))),
  ROUTE(SYS_readlink, on_readlink(n, s, AT_FDCWD, a[0], a[1], a[2])),
  ROUTE(SYS_readlinkat, on_readlink(n, s, as_dirfd(a[0]), a[1], a[2], a[3])),
  ROUTE(SYS_statfs, on_statfs(n, s, a[0], a[1])),
  ROUTE(SYS_chmod, on_chmod(n, s, AT_FDCWD, a[0], static_cast<mode_t>(a[1]))),
  ROUTE(SYS_fchmodat, on_chmod(n, s, as_dirfd(a[0]), a[1], static_cast<mode_t>(a[2]))),
  ROUTE(SYS_chown, on_chown(n, s, AT_FDCWD, a[0], static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2]), 0)),
  ROUTE(SYS_lchown, on_chown(n, s, AT_FDCWD, a[0], static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2]), AT_SYMLINK_NOFOLLOW)),
  ROUTE(SYS_fchownat, on_chown(n, s, as_dirfd(a[0]), a[1], static_cast<uid_t>(a[2]), static_cast<gid_t>(a[3]), static_cast<int>(a[4]))),
  ROUTE(SYS_fchmod, on_fd_meta(n, s)),
  ROUTE(SYS_fchown, on_fd_meta(n, s)),
  ROUTE(SYS_fsetxattr, on_fd_meta(n, s)),
  ROUTE(SYS_fremovexattr, on_fd_meta(n, s)),
  ROUTE(SYS_truncate, on_truncate(n, s, a[0], static_cast<off_t>(a[1]))),
  ROUTE(SYS_utime, on_utimes(n, s, AT_FDCWD, a[0], a[1], 0, 0)),
  ROUTE(SYS_utimes, on_utimes(n, s, AT_FDCWD, a[0], a[1], 0, 1)),
  ROUTE(SYS_futimesat, on_utimes(n, s, as_dirfd(a[0]), a[1], a[2], 0, 1)),
  ROUTE(SYS_utimensat, on_utimes(n, s, as_dirfd(a[0]), a[1], a[2], static_cast<int>(a[3]), 2)),
  ROUTE(SYS_getxattr, on_xattr(n, s)),
  ROUTE(SYS_lgetxattr, on_xattr(n, s)),
  ROUTE(SYS_setxattr, on_xattr(n, s)),
  ROUTE(SYS_lsetxattr, on_xattr(n, s)),
  ROUTE(SYS_listxattr, on_xattr(n, s)),
  ROUTE(SYS_llistxattr, on_xattr(n, s)),
  ROUTE(SYS_removexattr, on_xattr(n, s)),
  ROUTE(SYS_lremovexattr, on_xattr(n, s)),
  ROUTE(SYS_mkdir, on_mkdir(n, s, AT_FDCWD, a[0], static_cast<mode_t>(a[1]))),
  ROUTE(SYS_mkdirat, on_mkdir(n, s, as_dirfd(a[0]), a[1], static_cast<mode_t>(a[2]))),
  ROUTE(SYS_mknod, on_mknod(n, s, AT_FDCWD, a[0], static_cast<mode_t>(a[1]))),
  ROUTE(SYS_mknodat, on_mknod(n, s, as_dirfd(a[0]), a[1], static_cast<mode_t>(a[2]))),
  ROUTE(SYS_unlink, on_unlink(n, s, AT_FDCWD, a[0], 0)),
  ROUTE(SYS_rmdir, on_unlink(n, s, AT_FDCWD, a[0], AT_REMOVEDIR)),
  ROUTE(SYS_unlinkat, on_unlink(n, s, as_dirfd(a[0]), a[1], static_cast<int>(a[2]))),
  ROUTE(SYS_rename, on_rename(n, s, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)),
  ROUTE(SYS_renameat, on_rename(n, s, as_dirfd(a[0]), a[1], as_dirfd(a[2]), a[3], 0)),
  ROUTE(SYS_renameat2, on_rename(n, s, as_dirfd(a[0]), a[1], as_dirfd(a[2]), a[3], static_cast<unsigned>(a[4]))),
  ROUTE(SYS_link, on_link(n, s, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)),
  ROUTE(SYS_linkat, on_link(n, s, as_dirfd(a[0]), a[1], as_dirfd(a[2]), a[3], static_cast<int>(a[4]))),
  ROUTE(SYS_symlink, on_symlink(n, s, a[0], AT_FDCWD, a[1])),
  ROUTE(SYS_symlinkat, on_symlink(n, s, a[0], as_dirfd(a[1]), a[2])),
  ROUTE(SYS_execve, on_exec(n, s, AT_FDCWD, a[0], 0)),
  ROUTE(SYS_execveat, on_exec(n, s, as_dirfd(a[0]), a[1], static_cast<int>(a[4]))),
  ROUTE(SYS_chdir, on_chdir(n, s, false)),
  ROUTE(SYS_fchdir, on_chdir(n, s, true)),
  ROUTE(SYS_inotify_add_watch, on_inotify_add_watch(n, s)),
  ROUTE(SYS_kill, on_pid_target(n, s)),
  ROUTE(SYS_tkill, on_pid_target(n, s)),
  ROUTE(SYS_tgkill, on_pid_target(n, s)),
  ROUTE(SYS_rt_sigqueueinfo, on_pid_target(n, s)),
  ROUTE(SYS_rt_tgsigqueueinfo, on_pid_target(n, s)),
  ROUTE(SYS_pidfd_open, on_pid_target(n, s)),
  ROUTE(SYS_setpgid, on_pid_target(n, s)),
  ROUTE(SYS_prlimit64, on_pid_target(n, s)),
  ROUTE(SYS_setpriority, on_pid_target(n, s)),
  ROUTE(SYS_sched_setaffinity, on_pid_target(n, s)),
  ROUTE(SYS_sched_setparam, on_pid_target(n, s)),
  ROUTE(SYS_sched_setscheduler, on_pid_target(n, s)),
  ROUTE(SYS_sched_setattr, on_pid_target(n, s)),
  ROUTE(SYS_ioprio_set, on_pid_target(n, s)),
  ROUTE(SYS_bind, on_bind(n, s)),
  ROUTE(SYS_connect, on_connect(n, s)),
  ROUTE(SYS_listen, on_listen(n, s)),
  ROUTE(SYS_sendto, on_sendto(n, s)),
  ROUTE(SYS_sendmsg, on_sendmsg(n, s)),
  ROUTE(SYS_sendmmsg, on_sendmmsg(n, s)),
  ROUTE(SYS_setuid, on_credentials_change(n, s)),
  ROUTE(SYS_setgid, on_credentials_change(n, s)),
  ROUTE(SYS_setreuid, on_credentials_change(n, s)),
  ROUTE(SYS_setregid, on_credentials_change(n, s)),
  ROUTE(SYS_setresuid, on_credentials_change(n, s)),
  ROUTE(SYS_setresgid, on_credentials_change(n, s)),
  ROUTE(SYS_setfsuid, on_credentials_change(n, s)),
  ROUTE(SYS_setfsgid, on_credentials_change(n, s)),
  ROUTE(SYS_setgroups, on_credentials_change(n, s)),
  ROUTE(SYS_capset, on_credentials_change(n, s)),
  ROUTE(SYS_ioctl, on_ioctl(n, s)),
};
#undef ROUTE

}  // namespace

const std::vector<Route>& syscall_routes() {
  static const std::vector<Route> table = [] {
    std::vector<Route> t(std::begin(kRoutes), std::end(kRoutes));
    std::sort(t.begin(), t.end(), [](const Route& x, const Route& y) { return x.nr < y.nr; });
    return t;
  }();
  return table;
}

const Route* find_route(int nr) {
  const auto& t = syscall_routes();
  auto it = std::lower_bound(t.begin(), t.end(), nr, [](const Route& r, int v) { return r.nr < v; });
  return it != t.end() && it->nr == nr ? &*it : nullptr;
}

namespace {
const NetCaps kNoNetwork;
}

SyscallHandlers::SyscallHandlers(const StorageCaps& caps, const GrantRoots& roots, NotifyChannel& channel,
                                 GuestMemory& memory, AsyncOps& async, spdlog::logger& log, HandlerOptions options,
                                 const NetCaps* net, DecisionLog* decisions)
    : own_decisions_(decisions ? nullptr
                               : std::make_unique<DecisionLog>(
                                     std::shared_ptr<spdlog::logger>(&log, [](spdlog::logger*) {}))),
      links_{&channel, &memory, &async, decisions ? decisions : own_decisions_.get(), &pidfds_},
      services_(caps, net ? *net : kNoNetwork, roots, std::move(options), log) {}

Verdict SyscallHandlers::handle(const seccomp_notif& notification) {
  Call n(notification, links_);
  // Everything the broker performs for this call, it performs as the
  // calling thread (broker/guest_identity.h).
  std::optional<ActingAs> acting;
  if (services_.options.identities && services_.options.identities->active()) {
    auto who = services_.options.identities->of(n.tid());
    if (!who) return Verdict::error(ESRCH);  // the thread is gone
    acting.emplace(*who);
  }
  return n.answer(dispatch(n));
}

std::optional<GuestIdentity> SyscallHandlers::resting_identity() const {
  const GuestIdentities* ids = services_.options.identities;
  if (!ids || !ids->active()) return std::nullopt;
  return ids->at_launch();
}

Verdict SyscallHandlers::dispatch(Call& n) const {
  // Only the native arch reaches here (the filter kills others), but a
  // verdict must never rest on an assumption the filter was meant to enforce.
  if (n.arch() != AUDIT_ARCH_X86_64) return Verdict::error(ENOSYS);
  const Route* route = find_route(n.nr());
  if (!route) {
    services_.log.error("pid={} {}: notified but no handler; refused", n.tid(), syscall_name(n.nr()));
    return Verdict::error(ENOSYS);
  }
  return route->handle(n, services_, n.args());
}

}  // namespace wwjail
