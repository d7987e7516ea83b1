// wwjail [OPTIONS] -- PROGRAM [ARGS...]: runs a program with only the access
// it was granted. Also parses learn's command line, which is a run's plus
// -o FILE, and hands that run to cli/learn.cc.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "broker/guest_run.h"
#include "broker/log_sinks.h"
#include "cli/learn.h"
#include "cli/run_flags.h"
#include "cli/verbs.h"
#include "sys/sys_error.h"
#include "wasm/compile/wasm_command.h"

#ifndef WWJAIL_VERSION
#define WWJAIL_VERSION "0.1.0"
#endif

namespace wwjail::cli {
namespace {

void describe(CLI::App& app, bool learn) {
  app.set_version_flag("--version", WWJAIL_VERSION);
  app.name(learn ? "wwjail learn" : "wwjail");
  if (learn) return;
  app.footer("Verbs:\n  wwjail learn -o FILE [OPTIONS] -- PROGRAM [ARGS...]   write the policy a run needed\n"
             "  wwjail check POLICY_FILE                             validate a policy, print what it grants\n"
             "  wwjail compile MODULE.wasm [-o FILE] [--cache DIR]   compile a WebAssembly module ahead of time\n"
             "Exit status: the guest's; 125 wwjail failed; 126 not executable; 127 not found; 134 wasm trap.\n"
             "See wwjail(1) and wwjail.policy(5).");
}

// The words after the options: PROGRAM and its arguments. An exit status
// when there is none, or when the first is an option CLI11 did not know.
std::optional<int> take_command(const CLI::App& app, bool learn, RunConfig& config) {
  config.command = app.remaining();
  if (!config.command.empty() && config.command.front() == "--") {
    config.command.erase(config.command.begin());
  } else if (!config.command.empty() && config.command.front().size() > 1 && config.command.front()[0] == '-') {
    std::fprintf(stderr, "wwjail: unknown option %s (see wwjail --help)\n", config.command.front().c_str());
    return exit_code::kSetupFailed;
  }
  if (config.command.empty()) {
    std::fprintf(stderr, "wwjail: no program given (usage: wwjail %s[OPTIONS] -- PROGRAM [ARGS...])\n",
                 learn ? "learn -o FILE " : "");
    return exit_code::kSetupFailed;
  }
  return std::nullopt;
}

// Parses the command line into `config` and `flags`; an exit status when
// the run ends here (help, version, a bad flag, no program).
std::optional<int> parse(int argc, char** argv, bool learn, RunConfig& config, Flags& flags) {
  CLI::App app{learn ? "wwjail learn -o FILE [OPTIONS] -- PROGRAM [ARGS...]: run a program with everything "
                       "allowed but recorded, and write the policy it needed"
                     : "wwjail [OPTIONS] -- PROGRAM [ARGS...]: run a program with only the access it was granted"};
  describe(app, learn);
  if (learn)
    app.add_option("-o,--output", flags.learn_output, "where to write the learned policy")->type_name("FILE")->required();
  add_run_options(app, config, flags);
  app.prefix_command();
  if (auto done = parse_command_line(app, argc, argv, learn ? "learn " : "")) return *done;
  return take_command(app, learn, config);
}

// Applies the flags and opens the log; an exit status when either fails
// (said on stderr, in the log format asked for: there is no log yet).
std::optional<int> prepare(const Flags& flags, RunConfig& config, const LogContext& context, LogSinks& logs) {
  try {
    apply_flags(flags, config);
    logs = open_log_sinks(config.log, config.log_level, context);
    return std::nullopt;
  } catch (const std::exception& e) {
    if (config.log.format == "json") {
      std::fprintf(stderr, "%s\n", json_message_line(spdlog::level::err, e.what(), context).c_str());
    } else {
      std::fprintf(stderr, "wwjail: %s\n", e.what());
    }
    return exit_code::kSetupFailed;
  }
}

}  // namespace

int run_verb(int argc, char** argv, bool learn) {
  RunConfig config;
  Flags flags;
  if (auto done = parse(argc, argv, learn, config, flags)) return *done;
  LogSinks logs;
  LogContext context{new_run_id(), config.command.front()};
  if (auto failed = prepare(flags, config, context, logs)) return *failed;
  spdlog::logger& log = *logs.messages;
  try {
    prepare_wasm_guest(config, self_exe(), log);
    return learn ? learn_policy(config, logs, flags.learn_output) : run_guest(config, logs);
  } catch (const SetupError& e) {
    log.error("{}", e.what());
  } catch (const SysError& e) {
    log.error("{}", e.what());
  } catch (const std::exception& e) {
    log.error("internal error: {}", e.what());
  }
  return exit_code::kSetupFailed;
}

}  // namespace wwjail::cli
