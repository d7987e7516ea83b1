// The command line of an OCI runtime (runc's, which crun and the engines
// that drive them share), read just far enough to know the verb and the
// bundle, and to take out wwjail-runc's one option of its own:
//
//   wwjail-runc [GLOBAL OPTIONS] VERB [VERB OPTIONS] [ID]
//
// Every option is read as runc's flag package reads it: -x, --x, -x=v,
// --x=v, and -x v for one that takes a value (whose value is the next word
// even when it starts with '-'). Global options come before the verb; runc's
// and crun's are known, and any other is refused, since wwjail-runc could
// not tell which word is the verb. On create and run every option of the
// verb must be known too (the bundle's among them), or the command line is
// refused: nothing wwjail-runc misread is run. --wwjail-runtime PATH (any
// spelling) chooses the real runtime and is removed from what it is given.
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

// argv without argv[0]. Throws BadArgs: --wwjail-runtime or another
// option without its value, a global option it does not know, and on
// create/run a bundle given twice, an option of the verb it does not know,
// or a --config/-f (crun's other config file, which would run a config
// wwjail-runc did not rewrite).
RuntimeArgs parse_runtime_args(const std::vector<std::string>& args);

}  // namespace wwjail::runc
