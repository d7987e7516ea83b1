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
// The changes a flag or a policy file makes to an EnvRequest, written once
// for both. Each returns false, changing nothing, when `name` is not a
// variable name (the caller says where it was written).
void env_inherit_all(EnvRequest& env, bool all);      // --clean-env; env.inherit = true/false
bool env_inherit_only(EnvRequest& env, const std::string& name);  // --keep-env; env.inherit = [...]
bool env_unset(EnvRequest& env, const std::string& name);
bool env_set(EnvRequest& env, const std::string& name, std::string value);

std::vector<std::string> build_environment(const EnvRequest& request, const char* const* parent);

}  // namespace wwjail
