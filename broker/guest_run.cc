#include "broker/guest_run.h"

#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "broker/enforcement_choice.h"
#include "broker/grant_roots.h"
#include "broker/guest_identity.h"
#include "broker/listen_sockets.h"
#include "broker/control/control_dir.h"
#include "broker/control/control_server.h"
#include "broker/session.h"
#include "capabilities/path_text.h"
#include "broker/supervisor.h"
#include "broker/temp_dir.h"
#include "policy/capability_names.h"
#include "policy/kernel_mounts.h"
#include "shim/guest_launch.h"
#include "shim/landlock_ruleset.h"
#include "shim/precompiled_filter.h"
#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

extern char** environ;

namespace wwjail {
namespace {

static_assert(JailSpec::kMaxListen == static_cast<size_t>(LaunchPlan::kMaxListen),
              "a spec holds no more --listen sockets than the launch hands over");

// argv/envp as the NUL-terminated arrays execve wants, built before fork.
// With --listen sockets a LISTEN_PID slot is reserved for the child to
// fill in.
struct ExecArrays {
  std::vector<std::string> storage_argv, storage_env;
  std::vector<char*> argv, envp;
  char* listen_pid_digits = nullptr;
  static constexpr size_t kPidWidth = 12;
  ExecArrays(const JailSpec& spec) : storage_argv(spec.argv), storage_env(spec.env) {
    if (!spec.listen.empty()) storage_env.push_back("LISTEN_PID=" + std::string(kPidWidth, '\0'));
    for (auto& s : storage_argv) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : storage_env) envp.push_back(s.data());
    envp.push_back(nullptr);
    if (!spec.listen.empty()) listen_pid_digits = storage_env.back().data() + std::strlen("LISTEN_PID=");
  }
};

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

// Which walls decide file calls (broker/enforcement_choice.h), asked of a spec.
Enforcement choose_walls(const JailSpec& spec) {
  EnforcementRequest request;
  request.mediate_files = spec.mediate == MediateMode::kFiles || spec.broker_performs_opens;
  request.why_mediated = spec.broker_performs_opens ? "--broker-opens" : spec.mediate_why;
  if (request.why_mediated.empty()) request.why_mediated = "--mediate files";
  request.metadata_visible = spec.metadata == MetadataMode::kVisible;
  request.holds_sys_admin = holds_capability(CAP_SYS_ADMIN);
  char cwd[PATH_MAX];
  request.cwd = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
  return choose_enforcement(request, spec.storage);
}

void log_view(const MountViewPlan& view, spdlog::logger& log) {
  for (const auto& e : view.entries)
    log.trace("view: {} {}{}{}", kind_name(e.kind), e.path,
              e.kind == MountViewPlan::Entry::kSymlink ? " -> " + e.source : std::string(),
              e.read_only ? "" : " (writable)");
}

// Whether the guest may come to hold a descriptor that names files through
// the host's mounts instead of its view's: a file or directory on fds 0-2
// (every other inherited descriptor is closed at launch, and --listen
// hands over sockets), or one passed over a unix socket by a process
// outside (a unix socket on fds 0-2, or any unix grant or --listen on a
// unix path, which lets one connect or be connected to). Through such a
// descriptor (/proc/self/fd/N, or a path below an inherited directory) no
// read-only mount stands in the way, and Landlock, whose rules belong to
// inodes, is the only wall left.
bool host_descriptors_may_reach(const JailSpec& spec) {
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) continue;  // closed: nothing inherited
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) continue;
    int domain = 0;
    socklen_t len = sizeof domain;
    bool inet = S_ISSOCK(st.st_mode) && ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
                (domain == AF_INET || domain == AF_INET6);
    if (!inet) return true;  // a file, a directory, or a unix socket to a process outside
  }
  for (const auto* grants : {&spec.net.bind_grants(), &spec.net.connect_grants()}) {
    for (const auto& g : *grants) {
      if (g.endpoint.transport == Transport::kUnix) return true;
    }
  }
  for (const auto& l : spec.listen) {
    if (l.transport == Transport::kUnix) return true;
  }
  return false;
}

// The kernel's walls for a spec: the Landlock ruleset, the seccomp filter
// and the view itself.
struct Walls {
  Enforcement enforcement;
  LandlockRuleset landlock;
  CompiledFilter filter;
  // Only with a view: the ruleset and the filter for when the kernel refuses
  // its namespaces at launch and the guest runs without it.
  std::optional<LandlockRuleset> landlock_without_view;
  std::optional<CompiledFilter> filter_without_view;
  UniqueFd broker_pidfd;  // the reaper's test that the broker lives, in a PID namespace
};

Walls build_walls(const JailSpec& spec, spdlog::logger& log) {
  Enforcement enforcement = choose_walls(spec);
  log.debug("enforcement: {} (mediate {}, metadata {})", enforcement.reason, mediate_name(spec.mediate),
            metadata_name(spec.metadata));
  if (enforcement.view) log_view(*enforcement.view, log);
  const bool view = enforcement.view.has_value();
  // Read rules carry TRUNCATE (the faster walk) only where every way to a
  // read grant is through its read-only mount (shim/landlock_ruleset.h).
  const bool read_only_reach = view && !host_descriptors_may_reach(spec);
  LandlockRuleset landlock = build_landlock_ruleset(
      spec.storage, {.in_view = read_only_reach, .read_proc = !view && enforcement.kernel_decides_without_view});
  std::optional<LandlockRuleset> landlock_without_view;
  if (view)
    landlock_without_view.emplace(build_landlock_ruleset(spec.storage, {.read_proc = enforcement.kernel_decides_without_view}));
  if (landlock.abi == 0 && spec.landlock_required)
    throw SetupError("the kernel has no Landlock (needs Linux 5.13+ with landlock in the lsm= list); "
                     "wwjail relies on it to enforce exec grants");
  log.debug("Landlock ABI {}, handled fs rights {:#x}", landlock.abi, landlock.handled_fs);
  if (view)
    log.debug("Landlock read rules {}", read_only_reach ? "carry TRUNCATE: read grants are reached through their "
                                                          "read-only mounts only"
                                                        : "keep TRUNCATE out: an inherited file or a unix socket may "
                                                          "bring a descriptor through the host's mounts");
  for (const auto& note : landlock.notes) log.debug("{}", note);
  if (enforcement.view) enforcement.view->landlock_handled = landlock.handled_fs;
  const bool scoped = landlock.scopes_signals;
  CompiledFilter filter =
      precompiled_guest_filter({.landlock_scopes_signals = scoped,
                                .kernel_decides_files = enforcement.kernel_decides_files,
                                .without_view = !view});
  std::optional<CompiledFilter> without_view;
  if (enforcement.view)
    without_view.emplace(precompiled_guest_filter(
        {.landlock_scopes_signals = scoped,
         .kernel_decides_files = enforcement.kernel_decides_without_view,
         .without_view = true}));
  UniqueFd broker_pidfd(enforcement.view ? kernel::pidfd_open(::getpid()) : -1);
  return {std::move(enforcement), std::move(landlock), std::move(filter), std::move(landlock_without_view),
          std::move(without_view), std::move(broker_pidfd)};
}

// Whether the policy grants no inet traffic and no abstract unix socket
// (both belong to a network namespace); pathname unix sockets do not.
bool reaches_no_network(const NetCaps& net) {
  for (const auto* grants : {&net.bind_grants(), &net.connect_grants()}) {
    for (const auto& g : *grants) {
      if (g.endpoint.transport != Transport::kUnix || g.endpoint.abstract) return false;
    }
  }
  return true;
}

// The view's part of the plan: its namespaces, the filter for when the
// kernel refuses them, and the broker's pidfd for the reaper.
void plan_view(LaunchPlan& plan, const JailSpec& spec, Walls& walls) {
  Enforcement& e = walls.enforcement;
  if (!e.view) return;
  plan.view = &*e.view;
  plan.own_net_namespace = reaches_no_network(spec.net);
  if (e.namespaces.user) {
    plan.uid_map = e.namespaces.uid_map.c_str();
    plan.gid_map = e.namespaces.gid_map.c_str();
  }
  plan.filter_without_view = walls.filter_without_view->fprog();
  plan.landlock_fd_without_view = walls.landlock_without_view->fd.get();
  plan.broker_pidfd = walls.broker_pidfd.get();
}

// Everything LaunchPlan points at, kept alive until the guest is launched.
struct LaunchInputs {
  const JailSpec& spec;
  Walls& walls;
  ExecArrays& exec;
  const std::vector<int>& listen_fds;
  const std::vector<LaunchPlan::Limit>& limits;
  bool foreground;
};

LaunchPlan launch_plan(const LaunchInputs& in) {
  const JailSpec& spec = in.spec;
  LaunchPlan plan{spec.program.c_str(), in.exec.argv.data(), in.exec.envp.data(), in.walls.filter.fprog(),
                  in.walls.landlock.fd.get(), in.foreground,
                  !spec.tmpdir.empty() && !spec.keep_tmpdir ? spec.tmpdir.c_str() : nullptr};
  plan.listen_fds = in.listen_fds.data();
  plan.listen_count = static_cast<int>(in.listen_fds.size());
  plan.listen_pid_digits = in.exec.listen_pid_digits;
  plan.listen_pid_width = ExecArrays::kPidWidth;
  plan.keep_caps = kept_capabilities(spec.cap_keep);
  plan.cap_last = last_capability();
  plan.own_ipc_namespace = holds_capability(CAP_SYS_ADMIN);
  plan.limits = in.limits.data();
  plan.limit_count = static_cast<int>(in.limits.size());
  plan_view(plan, spec, in.walls);
  return plan;
}

// What the launch made of the walls: a view or not, and why not.
void log_launch(const LaunchPlan& plan, const LaunchedGuest& guest, const Enforcement& e, spdlog::logger& log) {
  if (e.view && !guest.in_view)
    log.debug("{}: {}",
              e.kernel_decides_without_view ? "the kernel decides file calls without a view" : "the broker mediates file calls",
              guest.view_failure.empty() ? "the kernel refused the view's namespaces (" +
                                               std::string(std::strerror(guest.clone_errno)) + ")"
                                         : "the view could not be built (" + guest.view_failure + ")");
  log.debug("System V IPC: {}", plan.own_ipc_namespace || (guest.in_view && plan.uid_map)
                                    ? "a namespace of the guest's own"
                                    : "shared (wwjail lacks CAP_SYS_ADMIN to make a namespace)");
}

// Whether the kernel decided the guest's file calls (so it logged none of
// its refusals).
bool kernel_decided(const LaunchedGuest& guest, const Enforcement& e) {
  return e.view ? guest.in_view || e.kernel_decides_without_view : e.kernel_decides_files;
}

std::vector<LaunchPlan::Limit> launch_limits(const JailSpec& spec) {
  std::vector<LaunchPlan::Limit> out;
  for (const auto& r : spec.limits) out.push_back({r.resource, r.value});
  return out;
}

// What `wwjail ctl ps` shows of the run (the pids come at start()).
control::ControlFacts control_facts(const JailSpec& spec, const LogSinks& logs) {
  control::ControlFacts f;
  f.name = spec.control_name;
  f.run_id = logs.context.run_id;
  f.program = spec.program;
  f.args = spec.argv;
  f.mode = spec.learning ? "learn" : spec.audit ? "audit" : "enforce";
  f.started_unix_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  return f;
}

// Whether `dir` is `top` or lies below it: by path, or by the identity of
// one of dir's ancestors (a bind mount of the same tree under another name).
bool lies_within(const std::string& dir, const std::string& top) {
  if (path_text::is_within(dir, top)) return true;
  struct stat t{};
  if (::stat(top.c_str(), &t) != 0) return false;
  for (std::string d = dir; !d.empty();) {
    struct stat s{};
    if (::stat(d.c_str(), &s) == 0 && s.st_dev == t.st_dev && s.st_ino == t.st_ino) return true;
    size_t slash = d.rfind('/');
    d = slash == 0 || slash == std::string::npos ? (d == "/" ? "" : "/") : d.substr(0, slash);
  }
  return false;
}

// The nearest existing directory at or above `path`, canonical.
std::string existing_canonical(const std::string& path) {
  std::string p = path;
  for (;;) {
    if (char* real = ::realpath(p.c_str(), nullptr)) {
      std::string out = real;
      std::free(real);
      return out + (p.size() < path.size() ? path.substr(p.size()) : "");
    }
    size_t slash = p.rfind('/');
    if (slash == std::string::npos || slash == 0) return path;
    p = p.substr(0, slash);
  }
}

// A guest that may write where control sockets are could put its own in
// place of another jail's: a run that serves one refuses write grants over
// its directory.
void refuse_writes_over(const StorageCaps& storage, const std::string& dir) {
  std::string canonical = existing_canonical(dir);
  for (const Grant& g : storage.grants()) {
    if (!(g.rights & kWrite) || !g.directory) continue;
    if (g.audit_fallback)
      throw SetupError("an audit or learn run's guest may write anywhere, the control directory too: --name and "
                       "--control are refused with --audit and learn");
    if (lies_within(canonical, g.path))
      throw SetupError("the write grant " + g.origin + " covers the control directory " + canonical +
                       ", where the guest could replace another jail's socket: grant less, or set "
                       "WWJAIL_CONTROL_DIR to a directory outside the grants");
  }
}

// No run's guest may listen in a control directory, where `wwjail ctl`
// would take its socket for a jail's.
void refuse_sockets_in_control_dirs(const JailSpec& spec) {
  std::vector<std::string> dirs;  // canonical, made only when a unix endpoint needs them
  auto check = [&dirs](const NetEndpoint& e, const std::string& origin) {
    if (e.transport != Transport::kUnix || e.abstract) return;
    if (dirs.empty())
      for (const std::string& dir : control::control_dir_candidates()) dirs.push_back(existing_canonical(dir));
    std::string parent = existing_canonical(path_text::split_last(e.path).parent);
    for (const std::string& dir : dirs) {
      if (lies_within(parent, dir))
        throw SetupError(origin + ": " + e.path + " is in wwjail's control directory " + dir +
                         ", where only a jail's own control socket may listen");
    }
  };
  for (const NetGrant& g : spec.net.bind_grants()) check(g.endpoint, g.origin);
  for (const NetEndpoint& e : spec.listen) check(e, "--listen unix:" + e.path);
}

}  // namespace

int run_guest(const RunConfig& config, LogSinks& logs, DecisionObserver* observer, bool* started) {
  ProgramLookup program = find_program(config.command.empty() ? std::string() : config.command.front());
  if (program.exit_status != 0) {
    logs.messages->error("{}", program.error);
    return program.exit_status;
  }
  // The private temp dir (a policy may turn it off: then no TMPDIR at all).
  std::optional<PrivateTempDir> tmpdir;
  if (config.tmpdir) tmpdir.emplace();
  if (tmpdir && config.keep_tmpdir) tmpdir->keep();
  const std::string tmpdir_path = tmpdir ? tmpdir->path() : std::string();
  JailSpec spec = build_jail_spec(config, {program, tmpdir_path, environ, observer != nullptr}, *logs.messages);
  return run_jail(spec, logs, observer, started);
}

int run_jail(const JailSpec& spec, LogSinks& logs, DecisionObserver* observer, bool* started) {
  spdlog::logger& log = *logs.messages;
  if (std::string why = kernel_mount_under_grants(spec.storage); !why.empty()) throw SetupError(why);
  refuse_sockets_in_control_dirs(spec);
  // The control plane, bound before the launch so that a name in use stops
  // the run before anything starts; served once the guest is released.
  // Declared before the session it reads from, so it goes after it.
  std::optional<control::EventFeed> feed;
  std::optional<control::StopRequests> stops;
  std::optional<Session> session;
  std::optional<control::ControlServer> control;
  if (!spec.control_name.empty()) {
    const std::string dir = control::control_dir();
    refuse_writes_over(spec.storage, dir);
    feed.emplace();
    stops.emplace();
    control.emplace(dir, control_facts(spec, logs), *feed, *stops,
                    [&session] { return session ? session->counts() : DecisionLog::Counts{}; }, log);
  }
  std::vector<LaunchPlan::Limit> limits = launch_limits(spec);
  auto listen_sockets = open_listen_sockets(spec.listen);
  std::vector<int> listen_fds;
  for (const auto& ls : listen_sockets) listen_fds.push_back(ls->fd.get());
  Walls walls = build_walls(spec, log);
  GrantRoots roots(spec.storage);
  ExecArrays exec(spec);
  Supervisor supervisor(log);
  LaunchPlan plan = launch_plan({spec, walls, exec, listen_fds, limits, supervisor.foreground()});
  // The session is built while the guest child sets itself up.
  auto facts = [&](pid_t tree_root) { return LaunchFacts{walls.landlock.abi, tree_root, plan.keep_caps}; };
  PendingLaunch pending(plan);
  DecisionObserver* watcher = feed ? &*feed : nullptr;
  session.emplace(spec, roots, facts(pending.reaper_pid()), logs, observer, watcher);
  std::optional<LaunchedGuest> launched = pending.finish();
  if (!launched) {
    session.reset();  // nothing of it may cross the next fork
    launched.emplace(pending.relaunch_without_view());
    session.emplace(spec, roots, facts(launched->reaper_pid), logs, observer, watcher);
  }
  LaunchedGuest& guest = *launched;
  // The guest tree holds the --listen sockets now; the broker lets go of
  // its own, so that it is not the one holding a socket a guest answers on
  // (a control client checks that the process that listened holds it).
  for (auto& ls : listen_sockets) ls->fd.reset();
  walls.landlock.fd.reset();
  if (walls.landlock_without_view) walls.landlock_without_view->fd.reset();
  log_launch(plan, guest, walls.enforcement, log);
  // Files the broker creates for the guest get the guest's umask, applied
  // explicitly; ours must not mask them a second time. Set only now: the
  // guest inherits the user's umask, not this one.
  ::umask(0);

  supervisor.watch(guest, session->loop());
  if (stops) supervisor.watch_stops(*stops, session->loop());
  if (spec.timeout_ms) supervisor.watch_deadline(spec.timeout_ms, spec.timeout_grace_ms, session->loop());
  session->serve(
      std::move(guest.notify_fd),
      [&] {
        release_guest(guest);
        if (control) control->start(guest.pid, guest.reaper_pid);
        supervisor.reap();
      },
      [&] { return supervisor.tree_gone(); }, [&] { supervisor.end_tree(); });
  control.reset();  // its subscribers told the run is over, its socket gone

  supervisor.hand_back_terminal();
  if (spec.keep_tmpdir) log.warn("kept the private temp dir at {}", spec.tmpdir);
  Supervisor::Outcome outcome = supervisor.outcome(spec.program);
  if (!outcome.ran) return outcome.exit_status;
  if (started) *started = true;
  session->finish(outcome.exit_status);
  if (outcome.exit_status != 0 && kernel_decided(guest, walls.enforcement))
    log.warn("the guest exited with status {}; the kernel decided its file access and its refusals are not in "
             "this log (Landlock's reach the audit log, where audit is on): rerun with --mediate files to see every "
             "denial",
             outcome.exit_status);
  return outcome.exit_status;
}

}  // namespace wwjail
