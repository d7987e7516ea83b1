#include "broker/guest_run.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "broker/async_handoff.h"
#include "broker/grant_roots.h"
#include "broker/notify_thread.h"
#include "broker/guest_proc.h"
#include "broker/notify_channel.h"
#include "broker/ring_loop.h"
#include "broker/syscall_handlers.h"
#include "broker/temp_dir.h"
#include "shim/guest_launch.h"
#include "shim/landlock_ruleset.h"
#include "shim/precompiled_filter.h"
#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

extern char** environ;

namespace wwjail {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

// argv/envp as the NUL-terminated arrays execve wants, built before fork.
struct ExecArrays {
  std::vector<std::string> storage_argv, storage_env;
  std::vector<char*> argv, envp;
  ExecArrays(const std::vector<std::string>& command, const std::string& tmpdir) : storage_argv(command) {
    for (char** e = environ; *e; ++e) {
      if (std::strncmp(*e, "TMPDIR=", 7) != 0) storage_env.emplace_back(*e);
    }
    storage_env.push_back("TMPDIR=" + tmpdir);
    for (auto& s : storage_argv) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : storage_env) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

int status_to_exit(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_code::kSetupFailed;
}

}  // namespace

int run_guest(const RunConfig& config, spdlog::logger& log) {
  ProgramLookup program = find_program(config.command.empty() ? std::string() : config.command.front());
  if (program.exit_status != 0) {
    log.error("{}", program.error);
    return program.exit_status;
  }

  PrivateTempDir tmpdir;
  if (config.keep_tmpdir) tmpdir.keep();

  StorageCaps caps = build_storage_caps(config, program.path, tmpdir.path(), log);
  LandlockRuleset landlock = build_landlock_ruleset(caps);
  if (landlock.abi == 0)
    throw SetupError("the kernel has no Landlock (needs Linux 5.13+ with landlock in the lsm= list); "
                     "wwjail relies on it to enforce exec grants");
  log.debug("Landlock ABI {}, handled fs rights {:#x}", landlock.abi, landlock.handled_fs);
  for (const auto& note : landlock.notes) log.debug("{}", note);

  CompiledFilter filter = precompiled_guest_filter(landlock.scopes_signals);
  GrantRoots roots(caps);
  ExecArrays exec(config.command, tmpdir.path());

  // Signals arrive through a signalfd on the ring; SIGCHLD drives reaping.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (int s : kForwardedSignals) sigaddset(&mask, s);
  check_sys("sigprocmask", [&] { return ::sigprocmask(SIG_BLOCK, &mask, nullptr); });
  UniqueFd sigfd(check_sys("signalfd", [&] { return ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK); }));
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGTTOU, SIG_IGN);
  // Files the broker creates for the guest get the guest's umask, applied
  // explicitly; ours must not mask it a second time.
  ::umask(0);

  bool foreground = ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();
  LaunchPlan plan{program.path.c_str(), exec.argv.data(), exec.envp.data(), filter.fprog(), landlock.fd.get(),
                  foreground, config.keep_tmpdir ? nullptr : tmpdir.path().c_str()};
  LaunchedGuest guest = launch_guest(plan);
  landlock.fd.reset();

  KernelNotifyChannel channel(std::move(guest.notify_fd));
  if (channel.enable_sync_wakeup()) log.debug("seccomp notify: synchronous wake-up enabled");

  RingLoop ring;
  log.debug("io_uring set up with flags {:#x}", ring.setup_flags());
  ProcessVmMemory memory;
  HandlerOptions options;
  options.landlock_active = true;
  options.landlock_abi = landlock.abi;
  options.broker_performs_opens = config.broker_performs_opens;
  options.tree_root = guest.reaper_pid;
  AsyncHandoff async(ring);
  SyscallHandlers handlers(caps, roots, channel, memory, async, log, options);

  bool main_exited = false, tree_gone = false;
  int main_status = 0;
  ChildFailure exec_failure;

  ring.watch_readable(guest.control.get(), [&](uint32_t) {
    ChildFailure f;
    ssize_t got = ::read(guest.control.get(), &f, sizeof f);
    if (got == static_cast<ssize_t>(sizeof f)) exec_failure = f;
    return false;  // EOF (exec succeeded) or the one failure report
  });

  // The reaper reports the main guest's wait status, then ends the tree and
  // exits; its exit is the end of the run.
  ring.watch_readable(guest.status.get(), [&](uint32_t) {
    int status;
    if (::read(guest.status.get(), &status, sizeof status) == static_cast<ssize_t>(sizeof status)) {
      main_exited = true;
      main_status = status;
    }
    return false;
  });
  auto reap = [&] {
    for (;;) {
      int status;
      pid_t p = ::waitpid(-1, &status, WNOHANG | __WALL);
      if (p <= 0) return;
      if (p == guest.reaper_pid) tree_gone = true;
    }
  };

  ring.watch_readable(sigfd.get(), [&](uint32_t) {
    signalfd_siginfo si;
    while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGCHLD) {
        reap();
      } else if (!main_exited) {
        log.debug("forwarding signal {} to the guest", si.ssi_signo);
        ::syscall(SYS_pidfd_send_signal, guest.pidfd.get(), si.ssi_signo, nullptr, 0);
      }
    }
    return !tree_gone;
  });

  {
    NotifyThread notifier(channel, handlers, log);
    release_guest(guest);
    reap();  // a child that exited before the signalfd was watched
    ring.run([&] { return tree_gone || notifier.failed(); });
    if (notifier.failed()) {
      // The guests can no longer be served: end the tree now.
      ::kill(guest.reaper_pid, SIGKILL);
      ::syscall(SYS_pidfd_send_signal, guest.pidfd.get(), SIGKILL, nullptr, 0);
      throw SysError("the broker's notify thread failed", EIO);
    }
  }
  if (!main_exited) {
    // The reaper died before reporting (it was killed): collect the report
    // if it made it into the pipe.
    int status;
    if (::read(guest.status.get(), &status, sizeof status) == static_cast<ssize_t>(sizeof status)) {
      main_exited = true;
      main_status = status;
    }
  }

  if (foreground) ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
  if (config.keep_tmpdir) log.warn("kept the private temp dir at {}", tmpdir.path());

  if (exec_failure.stage == ChildFailure::kExec) {
    log.error("cannot execute {}: {}", program.path, std::strerror(exec_failure.err));
    return exec_failure.err == ENOENT ? exit_code::kNotFound : exit_code::kNotExecutable;
  }
  if (exec_failure.stage != ChildFailure::kNone) {
    log.error("cannot start the guest: {} failed: {}", stage_name(exec_failure.stage), std::strerror(exec_failure.err));
    return exit_code::kSetupFailed;
  }
  if (!main_exited) {
    log.error("the guest's reaper ended without reporting the guest's status");
    return exit_code::kSetupFailed;
  }
  return status_to_exit(main_status);
}

}  // namespace wwjail
