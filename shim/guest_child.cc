// The post-fork child path. Rules for this file: no allocation, no locks, no
// exceptions, no logging, no libseccomp: raw syscalls on data prepared by the
// parent. Every failure is reported to the parent as a ChildFailure.
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "shim/guest_launch.h"
#include "sys/kernel_abi.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace wwjail {
namespace {

[[noreturn]] void fail(int control_fd, ChildFailure::Stage stage, int err) {
  ChildFailure f{stage, err};
  (void)!::write(control_fd, &f, sizeof f);
  ::_exit(127);
}

bool send_fd(int sock, int fd) {
  char byte = 'L';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  std::memset(cbuf, 0, sizeof cbuf);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n == 1;
}

}  // namespace

void run_guest_child(const LaunchPlan& plan, int control_fd, pid_t parent) {
  // If the broker dies, the guest dies with it. Checked against the race
  // where the parent died before prctl took effect.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(control_fd, ChildFailure::kSetup, errno);
  if (::getppid() != parent) ::_exit(127);

  // Own process group, so kill(0, ...) in the guest reaches only the guest.
  ::setpgid(0, 0);
  if (plan.make_foreground) {
    ::signal(SIGTTOU, SIG_IGN);
    ::tcsetpgrp(STDIN_FILENO, ::getpid());
  }
  // The parent blocks signals for its signalfd; the guest starts clean.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Only stdin, stdout and stderr cross into the guest.
  if (::syscall(SYS_close_range, 3U, UINT_MAX, CLOSE_RANGE_CLOEXEC) != 0) fail(control_fd, ChildFailure::kSetup, errno);

  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(control_fd, ChildFailure::kSetup, errno);
  if (plan.landlock_fd >= 0 && kernel::landlock_restrict_self(plan.landlock_fd, 0) != 0)
    fail(control_fd, ChildFailure::kLandlock, errno);

  // WAIT_KILLABLE_RECV (Linux 5.19): once the broker has received a
  // notification, only a fatal signal interrupts the guest's wait, so a
  // guest cannot abort and restart a call the broker is half-way through.
  unsigned flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  int listener = kernel::seccomp(SECCOMP_SET_MODE_FILTER, flags, const_cast<sock_fprog*>(plan.filter));
  if (listener < 0 && errno == EINVAL) {
    flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    listener = kernel::seccomp(SECCOMP_SET_MODE_FILTER, flags, const_cast<sock_fprog*>(plan.filter));
  }
  if (listener < 0) fail(control_fd, ChildFailure::kSeccomp, errno);
  if (!send_fd(control_fd, listener)) fail(control_fd, ChildFailure::kSendListener, errno);
  ::close(listener);

  char go = 0;
  ssize_t n;
  do n = ::read(control_fd, &go, 1); while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(127);  // the broker went away before releasing us

  ::execve(plan.program, plan.argv, plan.envp);
  fail(control_fd, ChildFailure::kExec, errno);
}

}  // namespace wwjail
