// The flags of a run (and of learn): declared for CLI11, then applied to a
// RunConfig after the policy files, so that command-line grants add to
// theirs. Shared by cli/run.cc and cli/learn.cc. The grant flags come from
// the table of grant kinds (policy/grant_kinds.h), which the policy reader
// uses too; the checks on what they name are that table's.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "policy/run_config.h"

namespace wwjail::cli {

// Flags as the user wrote them, turned into RunConfig entries after any
// policy files are read (command-line grants add to the files').
struct Flags {
  std::vector<std::string> policies;
  // Per grant kind (GrantKind::key): what each of its flags named, in order.
  std::map<std::string, std::vector<std::string>, std::less<>> grants;
  std::vector<std::string> env_set, env_unset, env_keep, limits, caps_kept;
  bool clean_env = false, no_tmpdir = false, keep_tmpdir = false;
  std::string learn_output;
  std::string max_memory;
  std::string mediate;  // --mediate (only a flag); empty: not given, auto
  std::string metadata;          // --metadata ("": as the policy says, hidden by default)
  std::string timeout, timeout_grace;  // --timeout, --timeout-grace (checked when parsed)
};

void add_run_options(CLI::App& app, RunConfig& config, Flags& f);

// Applies the flags to `config` after the policy files. Throws SetupError.
void apply_flags(const Flags& f, RunConfig& config);

}  // namespace wwjail::cli
