#include "shim/guest_launch.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

// Reads the child's report: the number of its listener fd (kListenerReady),
// taken here with pidfd_getfd, or the step that failed.
int receive_listener(int sock, int guest_pidfd, ChildReport& failure) {
  ChildReport report;
  ssize_t n = retry_eintr([&] { return ::read(sock, &report, sizeof report); });
  if (n != static_cast<ssize_t>(sizeof report)) {
    failure = {ChildReport::kSetup, n == 0 ? ECHILD : (n < 0 ? errno : EPROTO)};
    return -1;
  }
  if (report.failed()) {
    failure = report;
    return -1;
  }
  int fd = kernel::pidfd_getfd(guest_pidfd, report.value);
  if (fd < 0) failure = {ChildReport::kSendListener, errno};
  return fd;
}

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
  }
  return "?";
}

LaunchedGuest launch_guest(const LaunchPlan& plan) {
  int sv[2];
  check_sys("socketpair", [&] { return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv); });
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  int pp[2];
  check_sys("pipe2", [&] { return ::pipe2(pp, O_CLOEXEC); });
  UniqueFd status_read(pp[0]), status_write(pp[1]);

  pid_t broker = ::getpid();
  pid_t reaper = ::fork();
  if (reaper < 0) throw_sys("fork");
  if (reaper == 0) {
    parent_end.release();
    status_read.release();
    run_reaper(plan, child_end.get(), status_write.get(), broker);
  }
  child_end.reset();
  status_write.reset();

  LaunchedGuest guest;
  guest.reaper_pid = reaper;
  pid_t pid = -1;
  bool got_pid = retry_eintr([&] { return ::read(status_read.get(), &pid, sizeof pid); }) == sizeof pid && pid > 0;
  ChildReport failure;
  if (got_pid) {
    guest.pid = pid;
    guest.pidfd.reset(kernel::pidfd_open(pid));
    if (guest.pidfd.valid()) guest.notify_fd.reset(receive_listener(parent_end.get(), guest.pidfd.get(), failure));
    else failure = {ChildReport::kSetup, errno};
  } else {
    failure = {ChildReport::kSetup, EAGAIN};
  }
  if (!guest.notify_fd.valid()) {
    int status;
    retry_eintr([&] { return ::waitpid(reaper, &status, 0); });
    std::string msg = std::string("cannot start the guest: ") + stage_name(failure.stage) + " failed: " +
                      std::strerror(failure.value);
    if (failure.stage == ChildReport::kSeccomp && failure.value == EBUSY)
      msg += " (wwjail is already running under another seccomp supervisor; nesting listeners is not possible)";
    if (failure.stage == ChildReport::kLandlock) msg += " (the kernel refused the Landlock ruleset)";
    throw SetupError(msg);
  }
  if (!guest.pidfd.valid()) throw_sys("pidfd_open");
  guest.control = std::move(parent_end);
  guest.status = std::move(status_read);
  return guest;
}

void release_guest(const LaunchedGuest& guest) {
  char go = 'G';
  check_sys("releasing the guest", [&] { return ::write(guest.control.get(), &go, 1); });
}

}  // namespace wwjail
