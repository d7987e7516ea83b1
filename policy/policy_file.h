// Policy files: the same grants as the command line, in TOML, for ops teams
// to write, review and check before deploy. The grant keys are the table of
// grant kinds (policy/grant_kinds.h), which the flags use too.
//
//   [storage]
//   read  = ["/usr", "/etc/os-release"]   # paths relative to the file's directory
//   write = ["data"]
//   exec  = ["/usr/bin/git"]
//   tmpdir = true                          # a private $TMPDIR (default true)
//   keep_tmpdir = false
//   write_broad = ["/"]                    # broad write grants, made deliberate
//   metadata = "hidden"                    # or "visible" (policy/enforcement.h)
//
//   [network]
//   bind    = ["tcp:127.0.0.1:8080"]
//   connect = ["tcp:127.0.0.1:5432", "?unix:/var/run/nscd/socket"]  # ?: the directory may be absent
//   listen  = ["tcp:127.0.0.1:8081"]
//   dns     = true                         # same as --connect dns
//   connect_broad = ["tcp:*:*"]            # broad connect grants, made deliberate
//
// Any other key, a value of the wrong type, a malformed address, a path that
// does not exist, or a grant too broad to be deliberate (write on / or a
// system tree, connect to any address on any port) is an error naming
// FILE:LINE:COLUMN and what to write instead.
#pragma once

#include <cstddef>
#include <string>

#include "policy/run_config.h"

namespace wwjail {

// A policy (and each file it includes) is a regular file of at most this
// many bytes; a directory, a FIFO or a device is refused before it is read.
inline constexpr size_t kMaxPolicyBytes = 1 << 20;

// Adds the file's grants to `config` (which may already hold command-line
// grants: both apply). Throws SetupError with one line per problem found
// first, "FILE:LINE:COLUMN: what is wrong; what to write instead".
void load_policy_file(const std::string& path, RunConfig& config);

// The same for policy text already read: `name` is what errors call it and
// `dir` the directory relative paths (and includes) are taken against. For
// tests and fuzzers; load_policy_file reads the file and calls this.
void load_policy_text(std::string_view text, const std::string& name, const std::string& dir, RunConfig& config);

// A shipped base profile's grants (learn folds system files into them).
// Throws SetupError for an unknown name.
RunConfig load_base_profile(const std::string& name);

// The effective capabilities of `config` in plain words, for `wwjail check`.
std::string describe_capabilities(const RunConfig& config);

}  // namespace wwjail
