// The command line of an OCI runtime (runc's, which crun and the engines
// that drive them share), read just far enough to know the verb and the
// bundle, and to take out wwjail-runc's one option of its own:
//
//   wwjail-runc [GLOBAL OPTIONS] VERB [VERB OPTIONS] [ID]
//
// Global options come before the verb; those that take a value (--root,
// --log, --log-format, --criu, --rootless, and crun's --cgroup-manager and
// --log-level) are skipped with their value, every other one is taken as a
// flag. --wwjail-runtime PATH (or =PATH) chooses the real runtime and is
// removed from what it is given.
// Everything else is passed on exactly as it came.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace wwjail::runc {

// A command line wwjail-runc will not pass on (one line, for stderr).
class BadArgs : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RuntimeArgs {
  std::vector<std::string> passed;  // argv[1..] for the real runtime, ours taken out
  std::string verb;                 // empty when there is none (runc --version)
  std::optional<std::string> runtime;  // --wwjail-runtime's value
  std::string log_path;    // the global --log FILE, where engines read a runtime's errors from
  std::string log_format;  // --log-format: text (runc's default) or json
  // create and run only: the --bundle/-b value, or empty for the cwd.
  std::string bundle;
  bool rewrites() const { return verb == "create" || verb == "run"; }
};

// argv without argv[0]. Throws BadArgs: --wwjail-runtime without a value,
// and on create/run a bundle given twice or a --config/-f (crun's other
// config file, which would run a config wwjail-runc did not rewrite).
RuntimeArgs parse_runtime_args(const std::vector<std::string>& args);

}  // namespace wwjail::runc
