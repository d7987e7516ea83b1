// The learn half of a run (cli/learn.cc): the run's flags are parsed by
// cli/run.cc, which hands the prepared run here.
#pragma once

#include <string>

#include "broker/log_sinks.h"
#include "policy/run_config.h"

namespace wwjail::cli {

// Runs the guest recording what it needed, and writes the policy to
// `output` if the guest started. Returns the guest's exit status. Throws
// SetupError (and SysError) like run_guest.
int learn_policy(const RunConfig& config, LogSinks& logs, const std::string& output);

}  // namespace wwjail::cli
