#include "broker/guest_run.h"

#include <linux/capability.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "broker/grant_roots.h"
#include "broker/guest_identity.h"
#include "broker/listen_sockets.h"
#include "broker/session.h"
#include "broker/supervisor.h"
#include "broker/temp_dir.h"
#include "policy/capability_names.h"
#include "shim/guest_launch.h"
#include "shim/landlock_ruleset.h"
#include "shim/precompiled_filter.h"
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

// The kernel's walls for a spec: the Landlock ruleset and the seccomp filter.
struct Walls {
  LandlockRuleset landlock;
  CompiledFilter filter;
};

Walls build_walls(const JailSpec& spec, spdlog::logger& log) {
  LandlockRuleset landlock = build_landlock_ruleset(spec.storage);
  if (landlock.abi == 0 && spec.landlock_required)
    throw SetupError("the kernel has no Landlock (needs Linux 5.13+ with landlock in the lsm= list); "
                     "wwjail relies on it to enforce exec grants");
  log.debug("Landlock ABI {}, handled fs rights {:#x}", landlock.abi, landlock.handled_fs);
  for (const auto& note : landlock.notes) log.debug("{}", note);
  log.debug("enforcement: mediate {}{}, metadata {} (today the broker mediates every file call)",
            mediate_name(spec.mediate), spec.mediate_why.empty() ? "" : " (" + spec.mediate_why + ")",
            metadata_name(spec.metadata));
  const bool scopes_signals = landlock.scopes_signals;
  return {std::move(landlock), precompiled_guest_filter(scopes_signals)};
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

LaunchPlan launch_plan(const LaunchInputs& in, spdlog::logger& log) {
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
  log.debug("System V IPC: {}", plan.own_ipc_namespace ? "a namespace of the guest's own"
                                                       : "shared (wwjail lacks CAP_SYS_ADMIN to make a namespace)");
  plan.limits = in.limits.data();
  plan.limit_count = static_cast<int>(in.limits.size());
  return plan;
}

std::vector<LaunchPlan::Limit> launch_limits(const JailSpec& spec) {
  std::vector<LaunchPlan::Limit> out;
  for (const auto& r : spec.limits) out.push_back({r.resource, r.value});
  return out;
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
  std::vector<LaunchPlan::Limit> limits = launch_limits(spec);
  auto listen_sockets = open_listen_sockets(spec.listen);
  std::vector<int> listen_fds;
  for (const auto& ls : listen_sockets) listen_fds.push_back(ls->fd.get());
  Walls walls = build_walls(spec, log);
  GrantRoots roots(spec.storage);
  ExecArrays exec(spec);
  Supervisor supervisor(log);
  LaunchPlan plan = launch_plan({spec, walls, exec, listen_fds, limits, supervisor.foreground()}, log);
  LaunchedGuest guest = launch_guest(plan);
  walls.landlock.fd.reset();
  // Files the broker creates for the guest get the guest's umask, applied
  // explicitly; ours must not mask them a second time. Set only now: the
  // guest inherits the user's umask, not this one.
  ::umask(0);

  Session session(spec, roots, std::move(guest.notify_fd), {walls.landlock.abi, guest.reaper_pid, plan.keep_caps},
                  logs, observer);
  supervisor.watch(guest, session.loop());
  session.serve([&] { release_guest(guest); supervisor.reap(); }, [&] { return supervisor.tree_gone(); },
                [&] { supervisor.end_tree(); });

  supervisor.hand_back_terminal();
  if (spec.keep_tmpdir) log.warn("kept the private temp dir at {}", spec.tmpdir);
  Supervisor::Outcome outcome = supervisor.outcome(spec.program);
  if (!outcome.ran) return outcome.exit_status;
  if (started) *started = true;
  session.finish(outcome.exit_status);
  return outcome.exit_status;
}

}  // namespace wwjail
