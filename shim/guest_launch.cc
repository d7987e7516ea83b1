#include "shim/guest_launch.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "shim/mount_view.h"
#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

// Reads the child's report and the pid the kernel attaches to it
// (SO_PASSCRED), in this process's PID namespace.
bool receive_report(int sock, ChildReport& report, pid_t& sender) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{&report, sizeof report};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = retry_eintr([&] { return ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); });
  if (n != static_cast<ssize_t>(sizeof report)) {
    report = {ChildReport::kSetup, n == 0 ? ECHILD : (n < 0 ? errno : EPROTO)};
    return false;
  }
  sender = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      sender = cred.pid;
    }
  }
  return true;
}

// The guest's pidfd and its listener (taken with pidfd_getfd from the
// number the child reports), or the step that failed.
void receive_listener(int sock, LaunchedGuest& guest, ChildReport& failure) {
  ChildReport report;
  pid_t sender = -1;
  if (!receive_report(sock, report, sender)) {
    failure = report;
    return;
  }
  if (report.failed()) {
    failure = report;
    return;
  }
  if (sender <= 0) {
    failure = {ChildReport::kSetup, EPROTO};
    return;
  }
  guest.pid = sender;
  guest.pidfd.reset(kernel::pidfd_open(sender));
  if (!guest.pidfd.valid()) {
    failure = {ChildReport::kSetup, errno};
    return;
  }
  int fd = kernel::pidfd_getfd(guest.pidfd.get(), report.value);
  if (fd < 0) failure = {ChildReport::kSendListener, errno};
  guest.notify_fd.reset(fd);
}

// fork(), or with a view a clone into new PID (and user) namespaces.
pid_t start_reaper(const LaunchPlan& plan) {
  if (!plan.view) return ::fork();
  unsigned long flags = CLONE_NEWPID | (plan.uid_map ? CLONE_NEWUSER : 0) | SIGCHLD;
  return static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0));
}

// Errors that say the machine ran short (descriptors, memory), not that the
// kernel refuses a view here: the run stops rather than go on without one.
bool resources_short(int err) { return err == EMFILE || err == ENFILE || err == ENOMEM; }

std::string launch_failure_message(const ChildReport& failure) {
  std::string msg = std::string("cannot start the guest: ") + stage_name(failure.stage);
  if (failure.stage == ChildReport::kView) msg += std::string(" (") + view_step_name(failure.view_step) + ")";
  msg += std::string(" failed: ") + std::strerror(failure.value);
  if (failure.stage == ChildReport::kSeccomp && failure.value == EBUSY)
    msg += " (wwjail is already running under another seccomp supervisor; nesting listeners is not possible)";
  if (failure.stage == ChildReport::kLandlock) msg += " (the kernel refused the Landlock ruleset)";
  if (failure.value == EMFILE) msg += " (the open-file limit is too low: ulimit -n, or --limit nofile)";
  if (failure.stage == ChildReport::kView && !resources_short(failure.value))
    msg += "; --mediate files runs the guest without a view";
  return msg;
}

// Errors of clone() that mean "no namespaces here", not "no process".
bool namespaces_refused(int err) { return err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS || err == ENOSYS; }

}  // namespace

const char* stage_name(ChildReport::Stage stage) {
  switch (stage) {
    case ChildReport::kListenerReady: return "reporting the listener";
    case ChildReport::kSetup: return "preparing the guest process";
    case ChildReport::kLimits: return "setting the resource limits";
    case ChildReport::kCapabilities: return "dropping capabilities";
    case ChildReport::kLandlock: return "applying the Landlock ruleset";
    case ChildReport::kSeccomp: return "installing the seccomp filter";
    case ChildReport::kSendListener: return "taking the notify listener from the guest (pidfd_getfd)";
    case ChildReport::kExec: return "executing the program";
    case ChildReport::kView: return "building the guest's view of the file system";
    case ChildReport::kNamespaces: return "entering the guest's namespaces";
    case ChildReport::kNetNamespace: return "making the guest's network namespace";
  }
  return "?";
}

namespace {

// The plan without a view: what runs when the kernel refuses the view's
// namespaces or the view cannot be built (inside a container, a masked
// /proc refuses a procfs of the guest's own).
LaunchPlan without_view(const LaunchPlan& plan) {
  LaunchPlan p = plan;
  p.view = nullptr;
  p.uid_map = p.gid_map = nullptr;
  p.filter = plan.filter_without_view;
  p.landlock_fd = plan.landlock_fd_without_view;
  return p;
}

}  // namespace

PendingLaunch::PendingLaunch(const LaunchPlan& plan) : plan_(plan) { start(plan); }

PendingLaunch::~PendingLaunch() {
  // Abandoned before the listener was received: the broker failed while
  // preparing its side.
  if (parent_end_.valid()) end_tree();
}

// Ends and reaps the tree forked for this attempt. Killing the reaper is
// enough: as PID 1 of its namespace it takes the guest child with it, and
// without a view the child's parent-death signal does.
void PendingLaunch::end_tree() {
  parent_end_.reset();
  status_read_.reset();
  if (guest_.reaper_pid <= 0) return;
  ::kill(guest_.reaper_pid, SIGKILL);
  int status;
  retry_eintr([&] { return ::waitpid(guest_.reaper_pid, &status, 0); });
}

// Forks the reaper (and the guest below it) for `requested`, falling back to
// no view when clone refuses the namespaces.
void PendingLaunch::start(const LaunchPlan& requested) {
  int sv[2];
  check_sys("socketpair", [&] { return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv); });
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  int on = 1;
  check_sys("setsockopt(SO_PASSCRED)", [&] { return ::setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on); });
  int pp[2];
  check_sys("pipe2", [&] { return ::pipe2(pp, O_CLOEXEC); });
  UniqueFd status_read(pp[0]), status_write(pp[1]);

  LaunchPlan plan = requested;
  pid_t broker = ::getpid();
  pid_t reaper = start_reaper(plan);
  if (reaper < 0 && plan.view && namespaces_refused(errno)) {
    guest_.clone_errno = errno;
    plan = without_view(plan);
    reaper = ::fork();
  }
  if (reaper < 0) throw_sys("fork");
  if (reaper == 0) {
    // The broker's ends are not the reaper's (nor, later, the child's).
    ::close(parent_end.release());
    ::close(status_read.release());
    run_reaper(plan, child_end.get(), status_write.get(), broker);
  }
  guest_.reaper_pid = reaper;
  guest_.in_view = plan.view != nullptr;
  parent_end_ = std::move(parent_end);
  status_read_ = std::move(status_read);
}

// Waits for the attempt's listener. True with guest_ filled in, or false
// with failure_ (the tree is reaped).
bool PendingLaunch::receive() {
  pid_t pid = -1;
  bool got_pid = retry_eintr([&] { return ::read(status_read_.get(), &pid, sizeof pid); }) == sizeof pid && pid > 0;
  // Without a pid the reaper failed; its report (if it wrote one) says why.
  receive_listener(parent_end_.get(), guest_, failure_);
  if (!got_pid && !failure_.failed()) failure_ = {ChildReport::kSetup, EAGAIN};
  if (!guest_.notify_fd.valid()) {
    // The child may be alive, waiting for its go byte (the broker failed to
    // take its listener): end the tree rather than wait for it.
    end_tree();
    return false;
  }
  guest_.control = std::move(parent_end_);
  guest_.status = std::move(status_read_);
  return true;
}

std::optional<LaunchedGuest> PendingLaunch::finish() {
  if (receive()) return std::move(guest_);
  bool view_refused = (failure_.stage == ChildReport::kView || failure_.stage == ChildReport::kNamespaces) &&
                      !resources_short(failure_.value);
  if (!plan_.view || !guest_.in_view || !view_refused) throw SetupError(launch_failure_message(failure_));
  return std::nullopt;
}

LaunchedGuest PendingLaunch::relaunch_without_view() {
  // The namespaces were made but the view could not be built: run without.
  std::string why = launch_failure_message(failure_);
  int err = failure_.value;
  LaunchPlan plan = without_view(plan_);
  guest_ = LaunchedGuest();
  failure_ = ChildReport();
  start(plan);
  if (!receive()) throw SetupError(launch_failure_message(failure_));
  guest_.clone_errno = err;
  guest_.view_failure = why;
  return std::move(guest_);
}

LaunchedGuest launch_guest(const LaunchPlan& plan) {
  PendingLaunch pending(plan);
  if (auto guest = pending.finish()) return std::move(*guest);
  return pending.relaunch_without_view();
}

void release_guest(const LaunchedGuest& guest) {
  char go = 'G';
  check_sys("releasing the guest", [&] { return ::write(guest.control.get(), &go, 1); });
}

}  // namespace wwjail
