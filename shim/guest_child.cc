// The post-fork child path. Rules for this file: no allocation, no locks, no
// exceptions, no logging, no libseccomp: raw syscalls on data prepared by the
// parent. Every failure is reported to the parent as a ChildReport.
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <cstring>

#include "shim/guest_launch.h"
#include "shim/mount_view.h"
#include "shim/net_namespace.h"
#include "sys/kernel_abi.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace wwjail {
namespace {

[[noreturn]] void fail(int control_fd, ChildReport::Stage stage, int err, int view_step = 0) {
  ChildReport f{stage, err, view_step};
  (void)!::write(control_fd, &f, sizeof f);
  ::_exit(127);
}

// Shrinks the bounding set to `keep`. That needs CAP_SETPCAP, which an
// ordinary user lacks and so does root under runc's default capability set.
// Without it the bounding set stays as it is, and that is safe because the
// caller sets no_new_privs before any exec: under no_new_privs an exec
// (root's, a set-user-ID program's, one with file capabilities) never ends
// with more in its permitted set than it held before
// (security/commoncap.c, cap_bprm_creds_from_file), and the permitted set
// is emptied below. Returns 0 or errno.
int shrink_bounding_set(uint64_t keep, uint64_t effective, int cap_last) {
  if (!(effective & (uint64_t{1} << CAP_SETPCAP))) return 0;
  for (int cap = 0; cap <= cap_last && cap < 64; ++cap) {
    if (keep & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  }
  return 0;
}

// Leaves the guest only the capabilities in `keep`, in every set: a guest
// started as root must not keep CAP_NET_ADMIN (routes, netlink), CAP_SYS_ADMIN
// (filesystem ioctls) or CAP_DAC_OVERRIDE. The bounding set limits what an
// exec can give back (root's exec otherwise refills permitted from it);
// ambient is what an exec keeps for a non-root program. Returns 0 or errno.
int drop_capabilities(uint64_t keep, int cap_last) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return errno;
  uint64_t permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  uint64_t effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  keep &= permitted;  // what we do not hold cannot be kept
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  if (int err = shrink_bounding_set(keep, effective, cap_last)) return err;
  for (int i = 0; i < 2; ++i) {
    uint32_t half = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = half;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return errno;
  for (int cap = 0; cap < 64; ++cap) {
    if ((keep & (uint64_t{1} << cap)) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return errno;
  }
  return 0;
}

// If the broker dies, the guest dies with it. Checked against the race
// where the parent died before prctl took effect.
void tie_to_parent(int control_fd, pid_t parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(control_fd, ChildReport::kSetup, errno);
  if (::getppid() != parent) ::_exit(127);
}

// Own process group, so kill(0, ...) in the guest reaches only the guest;
// default dispositions and an empty mask (the parent blocks signals for its
// signalfd; the guest starts clean).
void reset_signals(bool make_foreground) {
  ::setpgid(0, 0);
  if (make_foreground) {
    ::signal(SIGTTOU, SIG_IGN);
    ::tcsetpgrp(STDIN_FILENO, ::getpid());
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// LISTEN_PID is this process's pid, known only now: written into the
// digits the parent reserved in envp.
void write_listen_pid(const LaunchPlan& plan) {
  if (!plan.listen_pid_digits) return;
  unsigned long pid = static_cast<unsigned long>(::getpid());
  char digits[24];
  size_t len = 0;
  do digits[len++] = static_cast<char>('0' + pid % 10); while ((pid /= 10) && len < sizeof digits);
  for (size_t i = 0; i < plan.listen_pid_width; ++i) plan.listen_pid_digits[i] = i < len ? digits[len - 1 - i] : '\0';
}

// The descriptors the child still needs after its listening sockets took
// fds 3, 4, ...
struct ChildFds {
  int control;
  int landlock;
  int net_channel;
  int listen_count;
};

// Listening sockets become fds 3, 4, ...: first moved out of the way (the
// control socket and the ruleset may sit on those numbers), then placed,
// without close-on-exec. Parked just above the target range: a high fixed
// number could exceed an ordinary user's RLIMIT_NOFILE.
ChildFds place_listen_fds(const LaunchPlan& plan, int control_fd, int net_channel) {
  constexpr int kPark = 3 + LaunchPlan::kMaxListen;
  ChildFds fds{control_fd, plan.landlock_fd, net_channel,
               plan.listen_count < LaunchPlan::kMaxListen ? plan.listen_count : LaunchPlan::kMaxListen};
  if (fds.listen_count <= 0) return fds;
  int moved[LaunchPlan::kMaxListen];
  for (int i = 0; i < fds.listen_count; ++i) {
    moved[i] = ::fcntl(plan.listen_fds[i], F_DUPFD_CLOEXEC, kPark);
    if (moved[i] < 0) fail(fds.control, ChildReport::kSetup, errno);
  }
  int c = ::fcntl(fds.control, F_DUPFD_CLOEXEC, kPark);
  if (c < 0) fail(fds.control, ChildReport::kSetup, errno);
  fds.control = c;
  if (fds.landlock >= 0 && (fds.landlock = ::fcntl(fds.landlock, F_DUPFD_CLOEXEC, kPark)) < 0)
    fail(fds.control, ChildReport::kSetup, errno);
  if (fds.net_channel >= 0) {
    int parked = ::fcntl(fds.net_channel, F_DUPFD_CLOEXEC, kPark);
    if (parked < 0) fail(fds.control, ChildReport::kSetup, errno);
    ::close(fds.net_channel);
    fds.net_channel = parked;
  }
  for (int i = 0; i < fds.listen_count; ++i) {
    if (::dup2(moved[i], 3 + i) < 0) fail(fds.control, ChildReport::kSetup, errno);
  }
  write_listen_pid(plan);
  return fds;
}

// Enters the Landlock domain, asking that the guest's denials be audited
// after its exec too (ABI 7); a kernel without that flag gets none.
int restrict_self_logged(int ruleset) {
  if (kernel::landlock_restrict_self(ruleset, LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON) == 0) return 0;
  if (errno != EINVAL) return -1;
  return kernel::landlock_restrict_self(ruleset, 0);
}

// Limits, the IPC and network namespaces, capabilities, no_new_privs and
// Landlock, in that order: each step needs the privileges the next one
// takes away.
void confine(const LaunchPlan& plan, const ChildFds& fds) {
  for (int i = 0; i < plan.limit_count; ++i) {
    rlimit64 lim{plan.limits[i].value, plan.limits[i].value};
    if (::prlimit64(0, static_cast<__rlimit_resource>(plan.limits[i].resource), &lim, nullptr) != 0)
      fail(fds.control, ChildReport::kLimits, errno);
  }
  // In a view's user namespace the child holds CAP_SYS_ADMIN over its own
  // namespaces, so it can always have an IPC namespace of its own.
  bool own_ipc = plan.own_ipc_namespace || (plan.view && plan.uid_map);
  if (own_ipc && ::unshare(CLONE_NEWIPC) != 0) fail(fds.control, ChildReport::kSetup, errno);
  if (fds.net_channel >= 0) {
    if (int err = join_net_namespace_from_reaper(fds.net_channel)) fail(fds.control, ChildReport::kNetNamespace, err);
    ::close(fds.net_channel);
  }
  if (int err = drop_capabilities(plan.keep_caps, plan.cap_last)) fail(fds.control, ChildReport::kCapabilities, err);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(fds.control, ChildReport::kSetup, errno);
  if (fds.landlock >= 0 && restrict_self_logged(fds.landlock) != 0) fail(fds.control, ChildReport::kLandlock, errno);
}

// Installs the filter, reports the listener's number and waits for the
// broker's go. Returns the listener's fd, still open.
int install_filter(const LaunchPlan& plan, int control_fd) {
  // WAIT_KILLABLE_RECV (Linux 5.19): once the broker has received a
  // notification, only a fatal signal interrupts the guest's wait, so a
  // guest cannot abort and restart a call the broker is half-way through.
  unsigned flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  int listener = kernel::seccomp(SECCOMP_SET_MODE_FILTER, flags, const_cast<sock_fprog*>(plan.filter));
  if (listener < 0 && errno == EINVAL) {
    flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    listener = kernel::seccomp(SECCOMP_SET_MODE_FILTER, flags, const_cast<sock_fprog*>(plan.filter));
  }
  if (listener < 0) fail(control_fd, ChildReport::kSeccomp, errno);
  // From here on every notified syscall waits for the broker, which has no
  // listener yet: so no sendmsg(SCM_RIGHTS). The child only reports the
  // listener's number with write() (never notified) and the broker takes
  // the descriptor itself with pidfd_getfd, before sending the go byte.
  ChildReport report{ChildReport::kListenerReady, listener};
  ssize_t n;
  do n = ::write(control_fd, &report, sizeof report); while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof report)) ::_exit(127);

  char go = 0;
  do n = ::read(control_fd, &go, 1); while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(127);  // the broker went away before releasing us
  return listener;
}

}  // namespace

void run_guest_child(const LaunchPlan& plan, int control_fd, pid_t parent, int net_channel) {
  tie_to_parent(control_fd, parent);
  reset_signals(plan.make_foreground);
  ChildFds fds = place_listen_fds(plan, control_fd, net_channel);
  // Only stdin, stdout and stderr (and listening sockets) cross into the guest.
  if (::syscall(SYS_close_range, 3U + fds.listen_count, UINT_MAX, CLOSE_RANGE_CLOEXEC) != 0)
    fail(fds.control, ChildReport::kSetup, errno);
  if (plan.view) {
    ViewStep step = ViewStep::kUnshare;
    if (int err = apply_mount_view(*plan.view, fds.landlock, &step))
      fail(fds.control, ChildReport::kView, err, static_cast<int>(step));
  }
  confine(plan, fds);
  ::close(install_filter(plan, fds.control));
  ::execve(plan.program, plan.argv, plan.envp);
  fail(fds.control, ChildReport::kExec, errno);
}

}  // namespace wwjail
