#include "broker/supervisor.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "policy/run_config.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

int status_to_exit(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_code::kSetupFailed;
}

}  // namespace

Supervisor::Supervisor(spdlog::logger& log) : log_(log) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (int s : kForwardedSignals) sigaddset(&mask, s);
  check_sys("sigprocmask", [&] { return ::sigprocmask(SIG_BLOCK, &mask, nullptr); });
  sigfd_.reset(check_sys("signalfd", [&] { return ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK); }));
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGTTOU, SIG_IGN);
  foreground_ = ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();
}

bool Supervisor::read_status() {
  int status;
  if (::read(guest_->status.get(), &status, sizeof status) != static_cast<ssize_t>(sizeof status)) return false;
  main_exited_ = true;
  main_status_ = status;
  return true;
}

void Supervisor::watch(const LaunchedGuest& guest, EventLoop& loop) {
  guest_ = &guest;
  loop.watch_readable(guest.control.get(), [this](uint32_t) {
    ChildReport f;
    ssize_t got = ::read(guest_->control.get(), &f, sizeof f);
    if (got == static_cast<ssize_t>(sizeof f)) exec_failure_ = f;
    return false;  // EOF (exec succeeded) or the one failure report
  });
  // The reaper reports the main guest's wait status, then ends the tree and
  // exits; its exit is the end of the run.
  loop.watch_readable(guest.status.get(), [this](uint32_t) {
    read_status();
    return false;
  });
  loop.watch_readable(sigfd_.get(), [this](uint32_t) {
    signalfd_siginfo si;
    while (::read(sigfd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGCHLD) {
        reap();
      } else if (!main_exited_) {
        forward(static_cast<int>(si.ssi_signo));
      }
    }
    return !tree_gone_;
  });
}

void Supervisor::watch_stops(control::StopRequests& stops, EventLoop& loop) {
  loop.watch_readable(stops.fd(), [this, &stops](uint32_t) {
    control::StopRequests::Taken t = stops.take();
    if (t.terminate && !main_exited_) forward(SIGTERM);
    if (t.kill && !tree_gone_) {
      log_.warn("the guest outlived the stop's grace: killing its tree");
      kill_tree();
    }
    return !tree_gone_;
  });
}

namespace {

bool arm(int timerfd, uint32_t ms) {
  itimerspec t{};
  t.it_value.tv_sec = ms / 1000;
  t.it_value.tv_nsec = static_cast<long>(ms % 1000) * 1000000L + (ms == 0 ? 1 : 0);
  return ::timerfd_settime(timerfd, 0, &t, nullptr) == 0;
}

}  // namespace

void Supervisor::watch_deadline(uint32_t timeout_ms, uint32_t grace_ms, EventLoop& loop) {
  deadline_.reset(check_sys("timerfd_create", [] { return ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK); }));
  if (!arm(deadline_.get(), timeout_ms)) throw_sys("timerfd_settime (--timeout)");
  loop.watch_readable(deadline_.get(), [this, timeout_ms, grace_ms](uint32_t) {
    uint64_t expirations;
    if (::read(deadline_.get(), &expirations, sizeof expirations) != static_cast<ssize_t>(sizeof expirations))
      return !tree_gone_;
    if (!deadline_passed_) {
      deadline_passed_ = true;
      log_.warn("the run reached its --timeout of {} ms: SIGTERM to the guest, SIGKILL after {} ms", timeout_ms,
                grace_ms);
      if (!main_exited_) forward(SIGTERM);
      arm(deadline_.get(), grace_ms);
      return !tree_gone_;
    }
    if (!tree_gone_) {
      log_.warn("the guest outlived the --timeout's grace: killing its tree");
      kill_tree();
    }
    return false;
  });
}

void Supervisor::forward(int signo) {
  log_.debug("forwarding signal {} to the guest", signo);
  ::syscall(SYS_pidfd_send_signal, guest_->pidfd.get(), signo, nullptr, 0);
  // A guest that stopped itself (SIGSTOP, SIGTSTP) would hold a
  // termination request pending until someone continued it, and the run
  // would never end: continue it, as service managers do.
  if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP || signo == SIGQUIT)
    ::syscall(SYS_pidfd_send_signal, guest_->pidfd.get(), SIGCONT, nullptr, 0);
}

void Supervisor::reap() {
  for (;;) {
    int status;
    pid_t p = ::waitpid(-1, &status, WNOHANG | __WALL);
    if (p <= 0) return;
    if (p == guest_->reaper_pid) tree_gone_ = true;
  }
}

// SIGKILL to the main guest: the reaper reports its status (137) and kills
// the rest of the tree, as at any end of the main guest; without a PID
// namespace only the reaper knows the tree, so killing the reaper instead
// would leave the guest's other processes running.
void Supervisor::kill_tree() {
  ::syscall(SYS_pidfd_send_signal, guest_->pidfd.get(), SIGKILL, nullptr, 0);
}

void Supervisor::end_tree() {
  ::kill(guest_->reaper_pid, SIGKILL);
  ::syscall(SYS_pidfd_send_signal, guest_->pidfd.get(), SIGKILL, nullptr, 0);
}

void Supervisor::hand_back_terminal() {
  if (foreground_) ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
}

Supervisor::Outcome Supervisor::outcome(const std::string& program) {
  // The reaper died before reporting (it was killed): collect the report
  // if it made it into the pipe.
  if (!main_exited_) read_status();
  if (exec_failure_.stage == ChildReport::kExec) {
    log_.error("cannot execute {}: {}", program, std::strerror(exec_failure_.value));
    return {exec_failure_.value == ENOENT ? exit_code::kNotFound : exit_code::kNotExecutable, false};
  }
  if (exec_failure_.failed()) {
    log_.error("cannot start the guest: {} failed: {}", stage_name(exec_failure_.stage),
               std::strerror(exec_failure_.value));
    return {exit_code::kSetupFailed, false};
  }
  if (!main_exited_) {
    log_.error("the guest's reaper ended without reporting the guest's status");
    return {exit_code::kSetupFailed, false};
  }
  return {status_to_exit(main_status_), true};
}

}  // namespace wwjail
