// One run of one guest tree: builds the jail, launches the guest, serves its
// notifications on the ring, and does PID-1 duties (reaps every zombie,
// forwards signals, kills what is left when the main guest exits) until the
// tree is gone. Returns the exit status wwjail should exit with.
#pragma once

#include <spdlog/logger.h>

#include "broker/decision_log.h"
#include "broker/log_sinks.h"
#include "policy/run_config.h"

namespace wwjail {

// Throws SetupError / SysError for failures before the guest starts.
// `observer` (wwjail learn) sees every decision; with it, nothing the
// grants deny is refused (as in audit mode), but nothing is logged per
// decision either.
// `started` (if given) is set when the program really ran (exec succeeded).
int run_guest(const RunConfig& config, LogSinks& logs, DecisionObserver* observer = nullptr, bool* started = nullptr);

}  // namespace wwjail
