// A JailSpec is everything a launch needs, decided from a RunConfig as data
// before anything is forked: the storage and network capabilities, the
// sockets wwjail binds itself, the guest's argv, environment and limits,
// the temp dir, and how the grants are enforced. The broker launches from
// it (broker/guest_run.h); tests build one without forking.
//
// It lives in policy/ because it is a pure function of the policy (plus
// the files the policy names, as reading the policy already consults):
// nothing in it needs the broker, the shim or the kernel's walls. What only
// the running host can say (the Landlock ABI, the capabilities wwjail
// holds, whether it may make an IPC namespace) is asked at launch.
#pragma once

#include <spdlog/logger.h>

#include <string>
#include <vector>

#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"
#include "policy/enforcement.h"
#include "policy/program_deps.h"
#include "policy/run_config.h"

namespace wwjail {

struct JailSpec {
  // The most sockets --listen hands over (the launch's own bound:
  // LaunchPlan::kMaxListen, checked against this at compile time).
  static constexpr size_t kMaxListen = 16;

  std::string program;            // absolute, canonical
  std::vector<std::string> argv;  // PROGRAM ARGS... as the user wrote them
  // The guest's environment, complete but for LISTEN_PID, which the guest
  // child writes itself (shim/guest_launch.h).
  std::vector<std::string> env;
  StorageCaps storage;
  NetCaps net;
  std::vector<NetEndpoint> listen;  // bound and listened on by wwjail (--listen)
  std::vector<LimitRequest> limits;  // one per resource: the last setting wins
  std::vector<CapRequest> cap_keep;  // checked against what wwjail holds at launch
  // The private temp dir ("": none) and whether it outlives the run.
  std::string tmpdir;
  bool keep_tmpdir = false;
  // Grants are not enforced, what they would deny is logged (--audit), or
  // only recorded (learn).
  bool audit = false;
  bool learning = false;
  // How the grants are enforced (policy/enforcement.h); `mediate_why` says
  // what made it files, when something did.
  MediateMode mediate = MediateMode::kAuto;
  std::string mediate_why;
  MetadataMode metadata = MetadataMode::kHidden;
  bool broker_performs_opens = false;
  // Exec grants rest on Landlock: a kernel without it is refused.
  bool landlock_required = true;
  // The control socket's name ("": no control socket).
  std::string control_name;
  // Stop the run after timeout_ms (0: never): SIGTERM, SIGKILL after the grace.
  uint32_t timeout_ms = 0;
  uint32_t timeout_grace_ms = 10000;
};

// What the spec is built from besides the RunConfig: the program as found
// (find_program, exit_status 0), the private temp dir the caller made ("":
// none), wwjail's own environment, and whether this run is learn's.
struct JailInputs {
  const ProgramLookup& program;
  const std::string& tmpdir;
  const char* const* parent_env = nullptr;
  bool learning = false;
  DepsTrust trust = DepsTrust::system();
};

// Throws SetupError naming the grant, flag or policy line at fault.
JailSpec build_jail_spec(const RunConfig& config, const JailInputs& in, spdlog::logger& log);

// The guest's environment: `env` applied to `parent`; wwjail's TMPDIR
// replaces the inherited one (without a private temp dir there is none,
// unless set explicitly); with `listen_count` sockets, the socket-activation
// variables LISTEN_FDS and LISTEN_FDNAMES (LISTEN_PID is the child's).
std::vector<std::string> guest_environment(const EnvRequest& env, const char* const* parent,
                                           const std::string& tmpdir, size_t listen_count);

// The limits a guest starts with: a later setting of a resource replaces an
// earlier one (flags come after policy files). One above wwjail's own hard
// limit needs privilege: a SetupError says so before the guest starts.
std::vector<LimitRequest> checked_limits(const std::vector<LimitRequest>& all);

}  // namespace wwjail
