// The guest's environment, from the EnvRequest of a run (policy [env] and
// --env/--unset-env/--clean-env/--keep-env) and wwjail's own environment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/run_config.h"

namespace wwjail {

// True when NAME may be an environment variable name: non-empty, no '='
// and no NUL.
bool valid_env_name(std::string_view name);

// "NAME=VALUE" entries: the inherited ones `request` lets through (in
// `parent`'s order), minus `unset`, then `set` (a later set of the same
// name wins). Entries of `parent` without '=' are dropped.
std::vector<std::string> build_environment(const EnvRequest& request, const char* const* parent);

}  // namespace wwjail
