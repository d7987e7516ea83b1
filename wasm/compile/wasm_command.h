// Turns a run of a WebAssembly module into a run of wwjail's runner: the
// module compiled (or found in the cache), its grants made preopens, its
// environment only what was set explicitly. The runner then starts as an
// ordinary guest, under the same filter, ruleset and broker.
#pragma once

#include <spdlog/logger.h>

#include <string>

#include "policy/run_config.h"

namespace wwjail {

// The runner installed with this wwjail (next to it in a build tree, or in
// ../libexec/wwjail). Throws SetupError when it is missing.
std::string find_wasm_runner(const std::string& self_exe);

// When config.command names a WebAssembly module or a compiled one,
// rewrites config for the runner and returns true. Grants of directories
// become preopens ("HOST::GUEST", GUEST defaulting to HOST); the private
// temp dir is preopened as /tmp by the runner. Throws SetupError.
bool prepare_wasm_guest(RunConfig& config, const std::string& self_exe, spdlog::logger& log);

}  // namespace wwjail
