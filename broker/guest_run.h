// One run of one guest tree: builds the jail, launches the guest, serves its
// notifications on the ring, and does PID-1 duties (reaps every zombie,
// forwards signals, kills what is left when the main guest exits) until the
// tree is gone. Returns the exit status wwjail should exit with.
#pragma once

#include <spdlog/logger.h>

#include "policy/run_config.h"

namespace wwjail {

// Throws SetupError / SysError for failures before the guest starts.
int run_guest(const RunConfig& config, spdlog::logger& log);

}  // namespace wwjail
