#include "broker/syscall_handlers.h"

#include <algorithm>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "broker/guest_proc.h"
#include "shim/precompiled_filter.h"
#include "capabilities/path_text.h"
#include "sys/kernel_abi.h"
#include "sys/self_fd.h"

namespace wwjail {
namespace {

int as_dirfd(uint64_t reg) { return static_cast<int>(static_cast<int32_t>(reg)); }

// What the log can add to a storage denial, looked up as the guest (handle
// acts as it): the path is absent, or a stat found an executable file.
// Never for /proc, whose names the broker would read as its own.
DecisionHint storage_hint(const std::string& path, Need need) {
  if (need == Need::kCreate || need == Need::kRemove || path_text::is_within(path, "/proc"))
    return DecisionHint::kNone;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? DecisionHint::kAbsent : DecisionHint::kNone;
  if (need == Need::kStat && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
    return DecisionHint::kExecutable;
  return DecisionHint::kNone;
}

// The grant a storage denial (or audit) advises, with the hint. A shell's
// PATH search stats the program it goes on to run: exec is what it lacks.
struct StorageAdvice {
  MissingGrant grant;
  DecisionHint hint = DecisionHint::kNone;
};
StorageAdvice storage_advice(const std::string& path, Need need) {
  StorageAdvice a{missing_storage_grant(path, need), storage_hint(path, need)};
  if (a.hint == DecisionHint::kExecutable) a.grant.kind = "exec";
  return a;
}

}  // namespace

const char* SyscallHandlers::syscall_name(int nr) {
  const char* name = native_syscall_name(nr);
  return name ? name : "unknown syscall";
}

void deliver(NotifyChannel& channel, uint64_t id, Verdict verdict) {
  seccomp_notif_resp resp{};
  resp.id = id;
  switch (verdict.kind) {
    case Verdict::Kind::kDeferred:
      return;
    case Verdict::Kind::kError:
      resp.error = -(verdict.err ? verdict.err : EPERM);
      break;
    case Verdict::Kind::kValue:
      resp.val = verdict.value;
      break;
    case Verdict::Kind::kContinue:
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      break;
    case Verdict::Kind::kInjectFd: {
      seccomp_notif_addfd addfd{};
      addfd.id = id;
      addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
      addfd.srcfd = static_cast<uint32_t>(verdict.fd.get());
      addfd.newfd_flags = verdict.cloexec ? O_CLOEXEC : 0;
      int rc = channel.add_fd(addfd);
      // ENOENT: the guest is gone. EINPROGRESS: the notification was already
      // answered (an interrupted ADDFD+SEND; see ring_loop.cc for why that
      // must not happen) and nothing more can be sent. Anything else (EMFILE
      // in the guest, say) is answered as an error; never with CONTINUE.
      if (rc >= 0 || rc == -ENOENT || rc == -EINPROGRESS) return;
      resp.error = rc;
      break;
    }
  }
  channel.respond(resp);
}

namespace {
const NetCaps kNoNetwork;
}

SyscallHandlers::SyscallHandlers(const StorageCaps& caps, const GrantRoots& roots, NotifyChannel& channel,
                                 GuestMemory& memory, AsyncOps& async, spdlog::logger& log, HandlerOptions options,
                                 const NetCaps* net, DecisionLog* decisions)
    : caps_(caps),
      net_(net ? *net : kNoNetwork),
      roots_(roots),
      channel_(channel),
      memory_(memory),
      async_(async),
      log_(log),
      own_decisions_(decisions ? nullptr
                               : std::make_unique<DecisionLog>(
                                     std::shared_ptr<spdlog::logger>(&log, [](spdlog::logger*) {}))),
      decisions_(decisions ? *decisions : *own_decisions_),
      options_(options),
      resolver_(caps, options.tree_root > 0) {}

Verdict SyscallHandlers::handle(const seccomp_notif& notification) {
  Call n(notification);
  // Everything the broker performs for this call, it performs as the
  // calling thread (broker/guest_identity.h).
  std::optional<ActingAs> acting;
  if (options_.identities && options_.identities->active()) {
    auto who = options_.identities->of(static_cast<pid_t>(n.pid));
    if (!who) return Verdict::error(ESRCH);  // the thread is gone
    acting.emplace(*who);
  }
  Verdict v = dispatch(n);
  if (!n.noted.empty()) flush_notes(n, v);
  return v;
}

Decision SyscallHandlers::decide(Call& n, std::string_view path, Need need) {
  Decision d = caps_.decide(path, need);
  note(n, path, need, d);
  return d;
}

void SyscallHandlers::note(Call& n, std::string_view path, Need need, const Decision& d) {
  if (!d.allowed || !decisions_.records_allowed()) return;
  if (d.audited) {
    // Probes the guest would be answered ENOENT for anyway are no denial.
    bool quiet = caps_.named_absent(path);
    for (const auto& q : options_.quiet_absent_paths) quiet = quiet || path == q;
    struct stat st;
    if (quiet && ::lstat(std::string(path).c_str(), &st) != 0 && errno == ENOENT) return;
  }
  for (const auto& e : n.noted) {
    if (e.storage && e.need == need && e.target == path) return;
  }
  n.noted.push_back({std::string(path), need, true, false, d.audited ? DecisionKind::kAudit : DecisionKind::kAllow,
                    d.grant, nullptr});
}

NetDecision SyscallHandlers::note_net(Call& n, const NetTarget& t, NetDecision d, bool bind) {
  if (d.allowed && decisions_.records_allowed())
    n.noted.push_back({t.text, Need::kStat, false, bind, d.audited ? DecisionKind::kAudit : DecisionKind::kAllow,
                      nullptr, d.grant, d.audited ? address_probe(n, t).hint : DecisionHint::kNone});
  return d;
}

void SyscallHandlers::flush_notes(Call& n, const Verdict& v) {
  int err = v.kind == Verdict::Kind::kError ? v.err : 0;
  for (const auto& e : n.noted) {
    std::string_view net_need = e.bind ? "bind" : "connect";
    DecisionEvent ev{.target = e.target,
                     .need = e.storage ? need_name(e.need) : net_need,
                     .kind = e.kind,
                     .err = err,
                     .hint = e.hint,
                     .grant = e.grant,
                     .net_grant = e.net_grant,
                     .storage = e.storage,
                     .storage_need = e.need};
    if (e.kind == DecisionKind::kAudit) {
      // Hints cost a stat: only for audit lines someone reads (not learn's).
      StorageAdvice a{e.storage ? missing_storage_grant(e.target, e.need) : MissingGrant{net_need, e.target}, e.hint};
      if (e.storage && decisions_.writes_audit_lines()) a = storage_advice(e.target, e.need);
      ev.missing_kind = a.grant.kind;
      ev.missing_target = a.grant.target;
      ev.hint = a.hint;
    }
    record(n, ev);
  }
}

void SyscallHandlers::record(Call& n, DecisionEvent& ev) {
  ev.tid = static_cast<pid_t>(n.pid);  // the thread; the log finds its process
  ev.syscall = syscall_name(n.data.nr);
  decisions_.record(ev);
}

Verdict SyscallHandlers::refuse(Call& n, DecisionEvent ev) {
  ev.kind = DecisionKind::kDeny;
  record(n, ev);
  return Verdict::error(ev.err);
}

// Which handler takes each notified syscall, and how it reads the
// registers. Sorted by number (checked once, at first use); a notified
// syscall missing here is refused with ENOSYS and logged, and a unit test
// (handlers_test.cc) fails for every notified syscall of the filter's rules
// that has no route.
const std::vector<SyscallHandlers::Route>& SyscallHandlers::routes() {
  static const std::vector<Route> table = [] {
    std::vector<Route> t = {
      {SYS_open, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_open(n, AT_FDCWD, a[0], a[1], a[2], 0); }},
      {SYS_openat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_open(n, as_dirfd(a[0]), a[1], a[2], a[3], 0); }},
      {SYS_creat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_open(n, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0); }},
      {SYS_openat2, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_openat2(n); }},
      {SYS_memfd_create, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_memfd_create(n); }},
      {SYS_fstat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_stat(n, as_dirfd(a[0]), 0, a[1], AT_EMPTY_PATH, false, 0); }},
      {SYS_stat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_stat(n, AT_FDCWD, a[0], a[1], 0, false, 0); }},
      {SYS_lstat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_stat(n, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW, false, 0); }},
      {SYS_newfstatat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_stat(n, as_dirfd(a[0]), a[1], a[2], static_cast<int>(a[3]), false, 0); }},
      {SYS_statx, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_stat(n, as_dirfd(a[0]), a[1], a[4], static_cast<int>(a[2]), true, static_cast<unsigned>(a[3])); }},
      {SYS_access, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_access(n, AT_FDCWD, a[0], static_cast<int>(a[1]), 0); }},
      {SYS_faccessat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_access(n, as_dirfd(a[0]), a[1], static_cast<int>(a[2]), 0); }},
      {SYS_faccessat2, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_access(n, as_dirfd(a[0]), a[1], static_cast<int>(a[2]), static_cast<int>(a[3])); }},
      {SYS_readlink, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_readlink(n, AT_FDCWD, a[0], a[1], a[2]); }},
      {SYS_readlinkat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_readlink(n, as_dirfd(a[0]), a[1], a[2], a[3]); }},
      {SYS_statfs, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_statfs(n, a[0], a[1]); }},
      {SYS_chmod, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_chmod(n, AT_FDCWD, a[0], static_cast<mode_t>(a[1])); }},
      {SYS_fchmodat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_chmod(n, as_dirfd(a[0]), a[1], static_cast<mode_t>(a[2])); }},
      {SYS_chown, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_chown(n, AT_FDCWD, a[0], static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2]), 0); }},
      {SYS_lchown, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_chown(n, AT_FDCWD, a[0], static_cast<uid_t>(a[1]), static_cast<gid_t>(a[2]), AT_SYMLINK_NOFOLLOW); }},
      {SYS_fchownat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_chown(n, as_dirfd(a[0]), a[1], static_cast<uid_t>(a[2]), static_cast<gid_t>(a[3]), static_cast<int>(a[4])); }},
      {SYS_fchmod, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_fd_meta(n); }},
      {SYS_fchown, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_fd_meta(n); }},
      {SYS_fsetxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_fd_meta(n); }},
      {SYS_fremovexattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_fd_meta(n); }},
      {SYS_truncate, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_truncate(n, a[0], static_cast<off_t>(a[1])); }},
      {SYS_utime, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_utimes(n, AT_FDCWD, a[0], a[1], 0, 0); }},
      {SYS_utimes, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_utimes(n, AT_FDCWD, a[0], a[1], 0, 1); }},
      {SYS_futimesat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_utimes(n, as_dirfd(a[0]), a[1], a[2], 0, 1); }},
      {SYS_utimensat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_utimes(n, as_dirfd(a[0]), a[1], a[2], static_cast<int>(a[3]), 2); }},
      {SYS_getxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_lgetxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_setxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_lsetxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_listxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_llistxattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_removexattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_lremovexattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_xattr(n); }},
      {SYS_mkdir, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_mkdir(n, AT_FDCWD, a[0], static_cast<mode_t>(a[1])); }},
      {SYS_mkdirat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_mkdir(n, as_dirfd(a[0]), a[1], static_cast<mode_t>(a[2])); }},
      {SYS_mknod, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_mknod(n, AT_FDCWD, a[0], static_cast<mode_t>(a[1])); }},
      {SYS_mknodat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_mknod(n, as_dirfd(a[0]), a[1], static_cast<mode_t>(a[2])); }},
      {SYS_unlink, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_unlink(n, AT_FDCWD, a[0], 0); }},
      {SYS_rmdir, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_unlink(n, AT_FDCWD, a[0], AT_REMOVEDIR); }},
      {SYS_unlinkat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_unlink(n, as_dirfd(a[0]), a[1], static_cast<int>(a[2])); }},
      {SYS_rename, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_rename(n, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }},
      {SYS_renameat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_rename(n, as_dirfd(a[0]), a[1], as_dirfd(a[2]), a[3], 0); }},
      {SYS_renameat2, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_rename(n, as_dirfd(a[0]), a[1], as_dirfd(a[2]), a[3], static_cast<unsigned>(a[4])); }},
      {SYS_link, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_link(n, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }},
      {SYS_linkat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_link(n, as_dirfd(a[0]), a[1], as_dirfd(a[2]), a[3], static_cast<int>(a[4])); }},
      {SYS_symlink, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_symlink(n, a[0], AT_FDCWD, a[1]); }},
      {SYS_symlinkat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_symlink(n, a[0], as_dirfd(a[1]), a[2]); }},
      {SYS_execve, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_exec(n, AT_FDCWD, a[0], 0); }},
      {SYS_execveat, [](SyscallHandlers& h, Call& n, const __u64* a) { return h.on_exec(n, as_dirfd(a[0]), a[1], static_cast<int>(a[4])); }},
      {SYS_chdir, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_chdir(n, false); }},
      {SYS_fchdir, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_chdir(n, true); }},
      {SYS_inotify_add_watch, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_inotify_add_watch(n); }},
      {SYS_kill, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_tkill, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_tgkill, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_rt_sigqueueinfo, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_rt_tgsigqueueinfo, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_pidfd_open, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_setpgid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_prlimit64, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_setpriority, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_sched_setaffinity, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_sched_setparam, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_sched_setscheduler, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_sched_setattr, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_ioprio_set, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_pid_target(n); }},
      {SYS_bind, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_bind(n); }},
      {SYS_connect, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_connect(n); }},
      {SYS_listen, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_listen(n); }},
      {SYS_sendto, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_sendto(n); }},
      {SYS_sendmsg, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_sendmsg(n); }},
      {SYS_sendmmsg, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_sendmmsg(n); }},
      {SYS_setuid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setgid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setreuid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setregid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setresuid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setresgid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setfsuid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setfsgid, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_setgroups, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_capset, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_credentials_change(n); }},
      {SYS_ioctl, [](SyscallHandlers& h, Call& n, const __u64*) { return h.on_ioctl(n); }},
    };
    std::sort(t.begin(), t.end(), [](const Route& x, const Route& y) { return x.nr < y.nr; });
    return t;
  }();
  return table;
}

bool SyscallHandlers::has_route(int nr) {
  const auto& t = routes();
  auto it = std::lower_bound(t.begin(), t.end(), nr, [](const Route& r, int v) { return r.nr < v; });
  return it != t.end() && it->nr == nr;
}

Verdict SyscallHandlers::dispatch(Call& n) {
  // Only the native arch reaches here (the filter kills others), but a
  // verdict must never rest on an assumption the filter was meant to enforce.
  if (n.data.arch != AUDIT_ARCH_X86_64) return Verdict::error(ENOSYS);
  const auto& t = routes();
  auto it = std::lower_bound(t.begin(), t.end(), n.data.nr, [](const Route& r, int v) { return r.nr < v; });
  if (it == t.end() || it->nr != n.data.nr) {
    log_.error("pid={} {}: notified but no handler; refused", n.pid, syscall_name(n.data.nr));
    return Verdict::error(ENOSYS);
  }
  return it->handle(*this, n, n.data.args);
}

int SyscallHandlers::copy_path(Call& n, uint64_t addr, std::string& out) {
  return memory_.read_string(static_cast<pid_t>(n.pid), addr, PATH_MAX, out);
}

int SyscallHandlers::locate(Call& n, int dirfd, uint64_t addr, bool follow_last, Need need,
                            ResolvedPath& out) {
  std::string raw;
  if (int err = copy_path(n, addr, raw)) return err;
  return resolve_noted(n, dirfd, raw, follow_last, need, out);
}

int SyscallHandlers::resolve_noted(Call& n, int dirfd, std::string_view raw, bool follow_last, Need need,
                                   ResolvedPath& out) {
  out.decision = {};
  int err = resolver_.resolve(static_cast<pid_t>(n.pid), dirfd, raw, follow_last, need, out);
  if (err == 0 || out.decision.audited) note(n, out.path, need, out.decision);
  return err;
}

int SyscallHandlers::resolve_absolute_noted(Call& n, std::string joined, bool follow_last, Need need,
                                            ResolvedPath& out) {
  out.decision = {};
  int err = resolver_.resolve_absolute(GuestThread(static_cast<pid_t>(n.pid)), std::move(joined), follow_last, need,
                                       out);
  if (err == 0 || out.decision.audited) note(n, out.path, need, out.decision);
  return err;
}

Verdict SyscallHandlers::deny(Call& n, const ResolvedPath& r, Need need) {
  if (!r.refusal.empty()) return deny_text(n, r.path, r.refusal);
  StorageAdvice a = storage_advice(r.path, need);
  bool quiet = caps_.named_absent(r.path);
  for (const auto& q : options_.quiet_absent_paths) quiet = quiet || r.path == q;
  if (quiet && a.hint == DecisionHint::kAbsent) {
    log_.debug("pid={} {} {}: absent and not granted", n.pid, syscall_name(n.data.nr), r.path);
    return Verdict::error(ENOENT);
  }
  return refuse(n, {.target = r.path, .need = need_name(need), .err = EACCES, .missing_kind = a.grant.kind,
                    .missing_target = a.grant.target, .hint = a.hint, .storage_need = need});
}

Verdict SyscallHandlers::deny_text(Call& n, const std::string& what, const std::string& why, int err) {
  return refuse(n, {.target = what, .need = "refused", .err = err, .reason = why, .storage = false});
}

int SyscallHandlers::open_beneath(Call& n, ResolvedPath& r, Need need, uint64_t flags, mode_t mode,
                                  uint64_t extra_resolve, UniqueFd& out) {
  if (r.own_proc) return open_own_proc(*r.own_proc, flags, out);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Grant* g = r.decision.grant;
    open_how how{};
    // openat2 rejects flags open(2) would ignore: O_PATH takes only
    // O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC besides.
    how.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    int fd;
    if (!g) {
      // Metadata on an ancestor of a grant: the path is a directory the
      // grant lies under; no symlink may be involved.
      how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
      how.resolve = RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
      fd = kernel::openat2(AT_FDCWD, r.path.c_str(), how);
    } else if (!g->directory) {
      // A single-file grant: reopen the inode pinned at start-up.
      how.flags &= ~static_cast<uint64_t>(O_NOFOLLOW);
      std::string self = self_fd_path(roots_.fd_for(*g));
      fd = kernel::openat2(AT_FDCWD, self.c_str(), how);
    } else {
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | extra_resolve | beneath_resolve(*g);
      std::string rel = path_text::relative_to(r.path, g->path);
      fd = kernel::openat2(roots_.fd_for(*g), rel.c_str(), how);
    }
    if (fd >= 0) {
      out.reset(fd);
      if (foreign_proc_object(fd, static_cast<pid_t>(n.pid))) {
        out.reset();
        refuse_foreign_proc(n, r.path);
        return EACCES;
      }
      return 0;
    }
    int err = errno;
    if (err != EXDEV || r.physical || attempt > 0) return err;
    // A symlink inside the lexically chosen grant leads out of it: find
    // where it really goes and decide again.
    if (int e = redecide_physical(n, r, need, r.path, "", !(flags & O_NOFOLLOW))) return e;
  }
  return EXDEV;
}

int SyscallHandlers::redecide_physical(Call& n, ResolvedPath& r, Need need, const std::string& dir,
                                       const std::string& name, bool follow_last) {
  std::string canonical;
  if (int err = resolver_.physical(GuestThread(static_cast<pid_t>(n.pid)), dir, follow_last, canonical)) return err;
  r.path = name.empty() ? canonical : path_text::join(canonical, name);
  r.physical = true;
  r.decision = decide(n, r.path, need);
  if (r.decision.allowed) return 0;
  deny(n, r, need);
  return EACCES;
}

int SyscallHandlers::locate_entry(Call& n, int dirfd, uint64_t addr, Need need, ResolvedPath& out) {
  std::string raw;
  if (int err = copy_path(n, addr, raw)) return err;
  if (raw.empty()) return ENOENT;
  // The entry itself is never followed: resolve its parent physically.
  std::string joined;
  if (raw.front() == '/') {
    joined = raw;
  } else {
    std::string base;
    if (int err = guest_proc::dir_path(static_cast<pid_t>(n.pid), dirfd, base)) return err;
    joined = path_text::join(base, raw);
  }
  bool trailing = joined.size() > 1 && joined.back() == '/';
  while (joined.size() > 1 && joined.back() == '/') joined.pop_back();
  size_t slash = joined.find_last_of('/');
  std::string name = joined.substr(slash + 1);
  if (name == "." || name == "..") return need == Need::kCreate ? EEXIST : EBUSY;
  // Noted like every other decision, so `learn` and the allowed-decision log
  // see creates and removes.
  int err = resolve_absolute_noted(n, joined, false, need, out);
  out.trailing_slash = trailing;
  return err;
}

int SyscallHandlers::open_parent(Call& n, ResolvedPath& r, Need need, UniqueFd& parent,
                                 std::string& name) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto split = path_text::split_last(r.path);
    if (split.name.empty()) return EBUSY;
    name = split.name;
    const Grant* g = r.decision.grant;
    if (!g || !g->directory) return EACCES;  // decide(n, ) grants create/remove only in directory grants
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | beneath_resolve(*g);
    std::string rel = path_text::relative_to(split.parent, g->path);
    parent.reset(kernel::openat2(roots_.fd_for(*g), rel.c_str(), how));
    if (parent.valid()) return 0;
    int err = errno;
    if (err != EXDEV || r.physical) return err;
    // The parent is reached through a symlink that leaves the grant: decide
    // again on where the entry really is, with the same need.
    if (int e = redecide_physical(n, r, need, split.parent, split.name, true)) return e;
  }
  return EXDEV;
}

bool SyscallHandlers::foreign_proc_object(int fd, pid_t tid) {
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

int SyscallHandlers::open_own_proc(const OwnProcEntry& e, uint64_t flags, UniqueFd& out) {
  // Reads only (own_proc_grant has no other right); anything else is a bug.
  // (O_TMPFILE includes O_DIRECTORY's bit: compared whole.)
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) || (flags & O_TMPFILE) == O_TMPFILE)
    return EACCES;
  // Below the pinned process, following nothing: the walk already resolved
  // every link, so a link met here is one it refused to follow. Opened as
  // the guest, so the kernel's own checks (ptrace access for maps, fd/)
  // are made for the guest.
  open_how how{};
  how.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  out.reset(kernel::openat2(e.dir.get(), e.rest.empty() ? "." : e.rest.c_str(), how));
  return out.valid() ? 0 : errno;
}

Verdict SyscallHandlers::refuse_foreign_proc(Call& n, const std::string& what) {
  return deny_text(n, what, "another process's /proc entry is never opened by the broker for a guest");
}

uint64_t SyscallHandlers::beneath_resolve(const Grant& g) {
  return path_text::is_within("/proc", g.path) ? RESOLVE_NO_SYMLINKS : 0;
}

std::string SyscallHandlers::decidable_path(int dup, const std::string& name) {
  if (name.empty() || name.front() != '/') return "";
  struct stat st;
  if (::fstat(dup, &st) != 0 || st.st_nlink == 0) return "";
  return name;
}

int SyscallHandlers::dup_guest_fd(Call& n, int fd, UniqueFd& out, std::string& target) {
  if (int err = dup_guest_fd(n, fd, out)) return err;
  // The duplicate is the object we act on; it is named from our own table
  // so a dup2 in another guest thread cannot change what we decide about.
  return guest_proc::fd_target(::getpid(), out.get(), target);
}

int SyscallHandlers::dup_guest_fd(Call& n, int fd, UniqueFd& out) {
  if (fd < 0) return EBADF;
  AsBroker broker;  // pidfd_getfd checks ptrace access: the broker's, not the guest's
  // n.pid is a thread id: PIDFD_THREAD (O_EXCL, Linux 6.9) opens any
  // thread. Without it a non-leader thread fails (EINVAL on older kernels,
  // ENOENT on newer ones), so an older kernel gets the plain call.
  UniqueFd pidfd(kernel::pidfd_open(static_cast<pid_t>(n.pid)));
  if (!pidfd.valid() && (errno == EINVAL || errno == ENOENT)) pidfd.reset(kernel::pidfd_open(static_cast<pid_t>(n.pid), O_EXCL));
  if (!pidfd.valid()) return ESRCH;
  out.reset(kernel::pidfd_getfd(pidfd.get(), fd));
  if (!out.valid()) return errno == EBADF ? EBADF : EPERM;
  return 0;
}

}  // namespace wwjail
