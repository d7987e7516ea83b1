#include "broker/guest_run.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "broker/async_handoff.h"
#include "broker/grant_roots.h"
#include "broker/notify_thread.h"
#include "broker/guest_proc.h"
#include "broker/notify_channel.h"
#include "broker/event_loop.h"
#include "broker/syscall_handlers.h"
#include "broker/temp_dir.h"
#include "policy/capability_names.h"
#include "policy/environment.h"
#include "shim/guest_launch.h"
#include "shim/landlock_ruleset.h"
#include "shim/precompiled_filter.h"
#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

extern char** environ;

namespace wwjail {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

bool explicitly_set(const EnvRequest& env, const std::string& name) {
  for (const auto& [k, v] : env.set) {
    if (k == name) return true;
  }
  return false;
}

// argv/envp as the NUL-terminated arrays execve wants, built before fork.
// With --listen sockets, the socket-activation variables are set and a
// LISTEN_PID slot is reserved for the child to fill in.
struct ExecArrays {
  std::vector<std::string> storage_argv, storage_env;
  std::vector<char*> argv, envp;
  char* listen_pid_digits = nullptr;
  static constexpr size_t kPidWidth = 12;
  ExecArrays(const std::vector<std::string>& command, const EnvRequest& env, const std::string& tmpdir,
             size_t listen_count)
      : storage_argv(command) {
    for (auto& e : build_environment(env, environ)) {
      // wwjail's TMPDIR replaces the inherited one; without a private temp
      // dir there is none (unless the policy sets one explicitly).
      if (e.starts_with("TMPDIR=") && (!tmpdir.empty() || !explicitly_set(env, "TMPDIR"))) continue;
      if (listen_count && e.starts_with("LISTEN_")) continue;
      storage_env.push_back(std::move(e));
    }
    if (!tmpdir.empty()) storage_env.push_back("TMPDIR=" + tmpdir);
    if (listen_count) {
      storage_env.push_back("LISTEN_FDS=" + std::to_string(listen_count));
      std::string names;
      for (size_t i = 0; i < listen_count; ++i) names += (i ? ":listen" : "listen") + std::to_string(i);
      storage_env.push_back("LISTEN_FDNAMES=" + names);
      storage_env.push_back("LISTEN_PID=" + std::string(kPidWidth, '\0'));
    }
    for (auto& s : storage_argv) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : storage_env) envp.push_back(s.data());
    envp.push_back(nullptr);
    if (listen_count) listen_pid_digits = storage_env.back().data() + std::strlen("LISTEN_PID=");
  }
};

// A socket wwjail binds and listens on for --listen, closed (and a unix
// socket file removed) when the run ends.
struct ListenSocket {
  UniqueFd fd;
  std::string unix_path;
  ~ListenSocket() {
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
  }
};

std::vector<std::unique_ptr<ListenSocket>> open_listen_sockets(const std::vector<NetEndpoint>& endpoints) {
  std::vector<std::unique_ptr<ListenSocket>> out;
  for (const auto& e : endpoints) {
    auto ls = std::make_unique<ListenSocket>();
    sockaddr_storage sa{};
    socklen_t len;
    int family;
    std::string where;
    if (e.transport == Transport::kUnix) {
      family = AF_UNIX;
      auto* un = reinterpret_cast<sockaddr_un*>(&sa);
      un->sun_family = AF_UNIX;
      size_t at = e.abstract ? 1 : 0;
      // A path needs its NUL; an abstract name its leading NUL: 107 bytes either way.
      if (e.path.size() > kMaxUnixNameBytes) throw SetupError("--listen unix: the path is too long for a socket");
      std::memcpy(un->sun_path + at, e.path.data(), e.path.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + at + e.path.size() + (e.abstract ? 0 : 1));
      where = std::string("unix:") + (e.abstract ? "@" : "") + e.path;
    } else if (e.family == AF_INET) {
      family = AF_INET;
      auto* in = reinterpret_cast<sockaddr_in*>(&sa);
      in->sin_family = AF_INET;
      in->sin_port = htons(e.port_lo);
      std::memcpy(&in->sin_addr, e.addr, 4);
      len = sizeof *in;
      where = std::string(transport_name(e.transport)) + " port " + std::to_string(e.port_lo);
    } else {
      family = AF_INET6;
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&sa);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(e.port_lo);
      std::memcpy(&in6->sin6_addr, e.addr, 16);
      len = sizeof *in6;
      where = std::string(transport_name(e.transport)) + " port " + std::to_string(e.port_lo);
    }
    int type = e.transport == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
    ls->fd.reset(::socket(family, type | SOCK_CLOEXEC, 0));
    if (!ls->fd.valid()) throw_sys("--listen " + where + ": socket");
    int one = 1;
    if (family != AF_UNIX) ::setsockopt(ls->fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(ls->fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) throw_sys("--listen " + where + ": bind");
    if (e.transport == Transport::kUnix && !e.abstract) ls->unix_path = e.path;
    if (type == SOCK_STREAM && ::listen(ls->fd.get(), SOMAXCONN) != 0) throw_sys("--listen " + where + ": listen");
    out.push_back(std::move(ls));
  }
  if (out.size() > static_cast<size_t>(LaunchPlan::kMaxListen))
    throw SetupError("--listen: at most " + std::to_string(LaunchPlan::kMaxListen) + " sockets");
  return out;
}

int status_to_exit(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_code::kSetupFailed;
}

// The capabilities the guest keeps, as a mask. One wwjail itself does not
// hold cannot be kept: said before the guest starts, not silently dropped.
uint64_t kept_capabilities(const std::vector<CapRequest>& kept) {
  uint64_t held = thread_capabilities().permitted;
  uint64_t mask = 0;
  for (const auto& c : kept) {
    uint64_t bit = uint64_t{1} << c.cap;
    if (!(held & bit))
      throw SetupError(c.origin + ": wwjail does not hold " + capability_name(c.cap) +
                       ", so the guest cannot keep it (run wwjail as root, or with that capability)");
    mask |= bit;
  }
  return mask;
}

bool holds_capability(int cap) { return (thread_capabilities().effective >> cap) & 1; }

int last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = 63;
  if (!(in >> last) || last < 0 || last > 63) last = 63;
  return last;
}

// Limits are set soft and hard alike; one above wwjail's own hard limit
// needs privilege, so say which before the guest is started.
std::vector<LaunchPlan::Limit> checked_limits(const std::vector<LimitRequest>& all) {
  // A later setting of the same limit replaces an earlier one (flags come
  // after policy files).
  std::vector<LimitRequest> requests;
  for (const auto& r : all) {
    std::erase_if(requests, [&](const LimitRequest& e) { return e.resource == r.resource; });
    requests.push_back(r);
  }
  std::vector<LaunchPlan::Limit> out;
  for (const auto& r : requests) {
    rlimit64 now{};
    if (::prlimit64(0, static_cast<__rlimit_resource>(r.resource), nullptr, &now) == 0 && r.value > now.rlim_max &&
        ::geteuid() != 0)
      throw SetupError(r.origin + ": above the hard limit wwjail runs under (" +
                       (now.rlim_max == RLIM64_INFINITY ? std::string("unlimited") : std::to_string(now.rlim_max)) +
                       "); only root may raise it");
    out.push_back({r.resource, r.value});
  }
  return out;
}

}  // namespace

int run_guest(const RunConfig& config, LogSinks& logs, DecisionObserver* observer, bool* started) {
  spdlog::logger& log = *logs.messages;
  ProgramLookup program = find_program(config.command.empty() ? std::string() : config.command.front());
  if (program.exit_status != 0) {
    log.error("{}", program.error);
    return program.exit_status;
  }

  // The private temp dir (a policy may turn it off: then no TMPDIR at all).
  std::optional<PrivateTempDir> tmpdir_owner;
  if (config.tmpdir) tmpdir_owner.emplace();
  if (tmpdir_owner && config.keep_tmpdir) tmpdir_owner->keep();
  const std::string tmpdir_path = tmpdir_owner ? tmpdir_owner->path() : std::string();

  StorageCaps caps = build_storage_caps(config, program.path, tmpdir_path, log, program.invoked);
  std::vector<NetEndpoint> listen_endpoints;
  NetCaps net = build_net_caps(config, caps, listen_endpoints);
  const bool audit = config.audit || observer;
  if (audit) {
    caps.enable_audit();
    net.enable_audit();
  }
  std::vector<LaunchPlan::Limit> limits = checked_limits(config.limits);
  auto listen_sockets = open_listen_sockets(listen_endpoints);
  std::vector<int> listen_fds;
  for (const auto& ls : listen_sockets) listen_fds.push_back(ls->fd.get());
  LandlockRuleset landlock = build_landlock_ruleset(caps);
  if (landlock.abi == 0)
    throw SetupError("the kernel has no Landlock (needs Linux 5.13+ with landlock in the lsm= list); "
                     "wwjail relies on it to enforce exec grants");
  log.debug("Landlock ABI {}, handled fs rights {:#x}", landlock.abi, landlock.handled_fs);
  for (const auto& note : landlock.notes) log.debug("{}", note);

  CompiledFilter filter = precompiled_guest_filter(landlock.scopes_signals);
  GrantRoots roots(caps);
  ExecArrays exec(config.command, config.env, tmpdir_path, listen_fds.size());

  // Signals arrive through a signalfd on the ring; SIGCHLD drives reaping.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (int s : kForwardedSignals) sigaddset(&mask, s);
  check_sys("sigprocmask", [&] { return ::sigprocmask(SIG_BLOCK, &mask, nullptr); });
  UniqueFd sigfd(check_sys("signalfd", [&] { return ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK); }));
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGTTOU, SIG_IGN);

  bool foreground = ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();
  LaunchPlan plan{program.path.c_str(), exec.argv.data(), exec.envp.data(), filter.fprog(), landlock.fd.get(),
                  foreground, tmpdir_owner && !config.keep_tmpdir ? tmpdir_path.c_str() : nullptr};
  plan.listen_fds = listen_fds.data();
  plan.listen_count = static_cast<int>(listen_fds.size());
  plan.listen_pid_digits = exec.listen_pid_digits;
  plan.listen_pid_width = ExecArrays::kPidWidth;
  plan.keep_caps = kept_capabilities(config.cap_keep);
  plan.cap_last = last_capability();
  plan.own_ipc_namespace = holds_capability(CAP_SYS_ADMIN);
  log.debug("System V IPC: {}", plan.own_ipc_namespace ? "a namespace of the guest's own"
                                                       : "shared (wwjail lacks CAP_SYS_ADMIN to make a namespace)");
  plan.limits = limits.data();
  plan.limit_count = static_cast<int>(limits.size());
  LaunchedGuest guest = launch_guest(plan);
  landlock.fd.reset();
  // Files the broker creates for the guest get the guest's umask, applied
  // explicitly; ours must not mask them a second time. Set only now: the
  // guest inherits the user's umask, not this one.
  ::umask(0);

  KernelNotifyChannel channel(std::move(guest.notify_fd));
  if (channel.enable_sync_wakeup()) log.debug("seccomp notify: synchronous wake-up enabled");

  std::unique_ptr<EventLoop> loop = make_event_loop(log);
  EventLoop& ring = *loop;
  ProcessVmMemory memory;
  HandlerOptions options;
  options.landlock_active = true;
  options.landlock_abi = landlock.abi;
  options.broker_performs_opens = config.broker_performs_opens;
  options.tree_root = guest.reaper_pid;
  GuestIdentities identities = GuestIdentities::for_this_broker(plan.keep_caps);
  options.identities = &identities;
  log.debug("acting as the guest for what the broker performs: {}",
            identities.active() ? "yes (wwjail holds credentials the guest does not)"
                                : "not needed (wwjail holds nothing the guest lacks)");
  AsyncHandoff async(ring);
  LogOptions log_options;
  log_options.json = logs.json;
  log_options.log_allowed = log.should_log(spdlog::level::info);
  log_options.audit = audit;
  log_options.quiet_audit = observer != nullptr;
  log_options.context = logs.context;
  DecisionLog decisions(logs.decisions, std::move(log_options), observer);
  SyscallHandlers handlers(caps, roots, channel, memory, async, log, options, &net, &decisions);

  bool main_exited = false, tree_gone = false;
  int main_status = 0;
  ChildReport exec_failure;

  ring.watch_readable(guest.control.get(), [&](uint32_t) {
    ChildReport f;
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
        // A guest that stopped itself (SIGSTOP, SIGTSTP) would hold a
        // termination request pending until someone continued it, and the
        // run would never end: continue it, as service managers do.
        int s = static_cast<int>(si.ssi_signo);
        if (s == SIGTERM || s == SIGINT || s == SIGHUP || s == SIGQUIT)
          ::syscall(SYS_pidfd_send_signal, guest.pidfd.get(), SIGCONT, nullptr, 0);
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
  if (tmpdir_owner && config.keep_tmpdir) log.warn("kept the private temp dir at {}", tmpdir_path);

  if (exec_failure.stage == ChildReport::kExec) {
    log.error("cannot execute {}: {}", program.path, std::strerror(exec_failure.value));
    return exec_failure.value == ENOENT ? exit_code::kNotFound : exit_code::kNotExecutable;
  }
  if (exec_failure.failed()) {
    log.error("cannot start the guest: {} failed: {}", stage_name(exec_failure.stage), std::strerror(exec_failure.value));
    return exit_code::kSetupFailed;
  }
  if (!main_exited) {
    log.error("the guest's reaper ended without reporting the guest's status");
    return exit_code::kSetupFailed;
  }
  if (started) *started = true;
  decisions.finish();  // the totals of repeated denials, before any summary
  if (audit) decisions.summary(observer ? "learn" : "audit", status_to_exit(main_status));
  return status_to_exit(main_status);
}

}  // namespace wwjail
