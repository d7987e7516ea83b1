// One run of one guest tree, composed: the program is found, the private
// temp dir made, the JailSpec built (policy/jail_spec.h), the kernel's walls
// (Landlock, the seccomp filter) built from it, the guest launched
// (shim/guest_launch.h), and then the session (broker/session.h) serves its
// notifications while the supervisor (broker/supervisor.h) does PID-1 duties
// until the tree is gone. Returns the exit status wwjail should exit with.
#pragma once

#include <spdlog/logger.h>

#include "broker/decision_log.h"
#include "broker/log_sinks.h"
#include "policy/jail_spec.h"
#include "policy/run_config.h"

namespace wwjail {

// Throws SetupError / SysError for failures before the guest starts.
// `observer` (wwjail learn) sees every decision; with it, nothing the
// grants deny is refused (as in audit mode), but nothing is logged per
// decision either.
// `started` (if given) is set when the program really ran (exec succeeded).
int run_guest(const RunConfig& config, LogSinks& logs, DecisionObserver* observer = nullptr, bool* started = nullptr);

// The same from a spec already built (its temp dir, if any, made by the
// caller and outliving the call).
int run_jail(const JailSpec& spec, LogSinks& logs, DecisionObserver* observer = nullptr, bool* started = nullptr);

}  // namespace wwjail
