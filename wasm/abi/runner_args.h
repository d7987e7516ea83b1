// The command line of wwjail-wasm-run, defined once for both sides: wwjail
// builds it (wasm/compile/wasm_command.cc, to_argv) and the runner reads it
// (wasm/runner/runner_main.cc, from_argv).
//
//   wwjail-wasm-run --module GUEST.so --module-id DEV:INO [--dir HOST::GUEST]... [--env NAME=VALUE]...
//                   [--max-memory BYTES] -- ARGV0 [ARGS...]
//
// Only what wwjail decided travels here. What the runner finds in its own
// environment (TMPDIR, LISTEN_FDS) is read by the runner itself.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace wwjail {

struct RunnerArgs {
  std::string module;     // the compiled module's path
  std::string module_id;  // "DEV:INO" of the file wwjail checked; the runner loads only that file
  struct Dir {
    std::string host;   // a directory
    std::string guest;  // the name the guest sees ("/data")
    bool operator==(const Dir&) const = default;
  };
  std::vector<Dir> dirs;          // preopened directories, in this order
  std::vector<std::string> env;   // the guest's environment, "NAME=VALUE"
  uint64_t max_memory = 0;        // linear memory and tables together, in bytes; 0: no limit of its own
  std::vector<std::string> argv;  // the guest's argv, argv[0] first

  bool operator==(const RunnerArgs&) const = default;

  // `runner` (the executable's path) followed by the options and the argv.
  std::vector<std::string> to_argv(const std::string& runner) const;
  // The inverse of to_argv; args[0] (the runner) is skipped. A malformed
  // command line throws BadRunnerArgs with a one-line message.
  static RunnerArgs from_argv(const std::vector<std::string>& args);
};

class BadRunnerArgs : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace wwjail
