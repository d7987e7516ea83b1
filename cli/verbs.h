// The verbs of wwjail's command line, one file each:
//
//   wwjail [OPTIONS] -- PROGRAM [ARGS...]     run PROGRAM jailed (cli/run.cc)
//   wwjail learn -o FILE [OPTIONS] -- PROGRAM  run it with everything allowed
//                                               and write the policy it needed (cli/learn.cc)
//   wwjail check FILE                          validate a policy, print its grants (cli/check.cc)
//   wwjail compile MODULE.wasm [-o FILE]       compile a WebAssembly module ahead of time (cli/compile.cc)
//   wwjail ctl ps|stop|events ...              the running jails' control plane (cli/ctl.cc)
//
// Each takes the verb's own argv (argv[0] is the verb, or wwjail for a run)
// and returns the process's exit status (policy/run_config.h: exit_code).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace wwjail::cli {

int run_verb(int argc, char** argv, bool learn);
int check_verb(int argc, char** argv);
int compile_verb(int argc, char** argv);
int ctl_verb(int argc, char** argv);

// Parses a verb's command line; an exit status when the run ends here:
// help or version printed (0), or a bad option said in one line on stderr,
// "wwjail: WHAT (see wwjail VERB--help)" (125). `verb` is "" for a run, or
// "learn " / "compile " with its space.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, const std::string& verb);

// wwjail's own executable, which the WebAssembly runner and the compiler
// are found beside. Throws SetupError.
std::string self_exe();

}  // namespace wwjail::cli
