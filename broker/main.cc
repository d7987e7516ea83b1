// wwjail's command line. Parses flags into a RunConfig (data) and hands it
// to run_guest; everything else is passed down from here, no globals.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "broker/guest_run.h"
#include "policy/policy_file.h"
#include "policy/run_config.h"
#include "sys/sys_error.h"

#ifndef WWJAIL_VERSION
#define WWJAIL_VERSION "0.1.0"
#endif

namespace {

// wwjail check FILE: validates a policy and prints what it grants.
int check_policy(int argc, char** argv) {
  using namespace wwjail;
  if (argc != 3 || argv[2][0] == '-') {
    std::fprintf(stderr, "wwjail: usage: wwjail check POLICY_FILE\n");
    return exit_code::kSetupFailed;
  }
  RunConfig config;
  try {
    load_policy_file(argv[2], config);
    // The network grants are parsed (and resolv.conf read) exactly as a run would.
    StorageCaps storage;
    std::vector<NetEndpoint> listen;
    build_net_caps(config, storage, listen);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wwjail: %s\n", e.what());
    return exit_code::kSetupFailed;
  }
  std::printf("%s: valid\n%s", argv[2], describe_capabilities(config).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wwjail;
  if (argc >= 2 && std::string(argv[1]) == "check") return check_policy(argc, argv);
  RunConfig config;
  std::string policy_path;
  std::vector<std::string> reads, writes, execs, binds, connects, listens;

  CLI::App app{"wwjail: run a program with only the file access it was granted"};
  app.set_version_flag("--version", WWJAIL_VERSION);
  app.add_option("--read", reads, "read-only access to PATH (a file, or a directory subtree)")->type_name("PATH");
  app.add_option("--write", writes, "read-write access to PATH (create, delete, rename inside it)")->type_name("PATH");
  app.add_option("--exec", execs, "may execve PATH (a file or a subtree); PROGRAM itself always may")->type_name("PATH");
  app.add_option("--bind", binds, "may bind (and listen) there: tcp:ADDR:PORT, udp:ADDR:PORT, unix:PATH, unix:@NAME")
      ->type_name("SPEC");
  app.add_option("--connect", connects, "may connect or send datagrams there (same SPEC), or 'dns' for the resolvers")
      ->type_name("SPEC");
  app.add_option("--listen", listens, "wwjail binds and listens there and hands the socket to the guest (LISTEN_FDS)")
      ->type_name("SPEC");
  app.add_option("-p,--policy", policy_path, "a policy file (TOML); command-line grants add to it")->type_name("FILE");
  app.add_flag("--keep-tmpdir", config.keep_tmpdir, "keep the private temp dir after the run and print where it is");
  app.add_flag("--broker-opens", config.broker_performs_opens,
               "perform every open in the broker (never CONTINUE, even where Landlock enforces the same rule)");
  app.add_option("--log-level", config.log_level, "trace, debug, info, warn (default), error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.prefix_command();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wwjail: %s (see wwjail --help)\n", e.what());
    return exit_code::kSetupFailed;
  }
  config.command = app.remaining();
  if (!config.command.empty() && config.command.front() == "--") {
    config.command.erase(config.command.begin());
  } else if (!config.command.empty() && config.command.front().size() > 1 && config.command.front()[0] == '-') {
    std::fprintf(stderr, "wwjail: unknown option %s (see wwjail --help)\n", config.command.front().c_str());
    return exit_code::kSetupFailed;
  }
  if (config.command.empty()) {
    std::fprintf(stderr, "wwjail: no program given (usage: wwjail [OPTIONS] -- PROGRAM [ARGS...])\n");
    return exit_code::kSetupFailed;
  }
  if (!policy_path.empty()) {
    try {
      load_policy_file(policy_path, config);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "wwjail: %s\n", e.what());
      return exit_code::kSetupFailed;
    }
  }
  for (const auto& p : reads) config.grants.push_back({p, kRead, "--read " + p});
  for (const auto& p : writes) config.grants.push_back({p, kRead | kWrite, "--write " + p});
  for (const auto& p : execs) config.grants.push_back({p, kRead | kExec, "--exec " + p});
  for (const auto& s : binds) config.net.push_back({s, "--bind"});
  for (const auto& s : connects) config.net.push_back({s, "--connect"});
  for (const auto& s : listens) config.net.push_back({s, "--listen"});

  auto log = std::make_shared<spdlog::logger>("wwjail", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_pattern("wwjail: %^%l%$: %v");
  log->set_level(spdlog::level::from_str(config.log_level));

  try {
    return run_guest(config, *log);
  } catch (const SetupError& e) {
    log->error("{}", e.what());
  } catch (const SysError& e) {
    log->error("{}", e.what());
  } catch (const std::exception& e) {
    log->error("internal error: {}", e.what());
  }
  return exit_code::kSetupFailed;
}
