// wwjail's command line. Parses flags into a RunConfig (data) and hands it
// to run_guest; everything else is passed down from here, no globals.
//
//   wwjail [OPTIONS] -- PROGRAM [ARGS...]     run PROGRAM jailed
//   wwjail learn -o FILE [OPTIONS] -- PROGRAM  run it with everything allowed
//                                               and write the policy it needed
//   wwjail check FILE                          validate a policy, print its grants
//   wwjail compile MODULE.wasm [-o FILE]       compile a WebAssembly module ahead of time
#include <pwd.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <fstream>
#include <sstream>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "broker/guest_run.h"
#include "broker/learn_observer.h"
#include "broker/log_sinks.h"
#include "wasm/compile/module_compiler.h"
#include "wasm/compile/wasm_command.h"
#include "policy/environment.h"
#include "policy/capability_names.h"
#include "policy/limits.h"
#include "policy/policy_file.h"
#include "policy/policy_learner.h"
#include "policy/run_config.h"
#include "sys/atomic_file.h"
#include "sys/sys_error.h"

#ifndef WWJAIL_VERSION
#define WWJAIL_VERSION "0.1.0"
#endif

namespace {

using namespace wwjail;

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw SetupError("cannot find wwjail's own executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

// wwjail compile MODULE.wasm [-o FILE] [--cache DIR]: compiles ahead of time.
int compile_command(int argc, char** argv) {
  std::string module, output, cache;
  CLI::App app{"wwjail compile: compile a WebAssembly module once, for running it where no compiler is"};
  app.name("wwjail compile");
  app.add_option("MODULE", module, "the .wasm module")->required();
  app.add_option("-o,--output", output, "write the compiled module here (default: only into the cache)")
      ->type_name("FILE");
  app.add_option("--cache", cache, "the cache directory (default $XDG_CACHE_HOME/wwjail)")->type_name("DIR");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wwjail: %s (see wwjail compile --help)\n", e.what());
    return exit_code::kSetupFailed;
  }
  auto log = std::make_shared<spdlog::logger>("wwjail", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_pattern("wwjail: %v");
  try {
    if (!is_wasm_module(module)) throw SetupError(module + " is not a WebAssembly module (no \\0asm header)");
    char real[PATH_MAX];
    if (!::realpath(module.c_str(), real)) throw SetupError(module + ": " + std::strerror(errno));
    CompileResult r = compile_module({real, cache.empty() ? default_cache_dir() : cache, self_exe()}, *log);
    std::fprintf(stderr, "wwjail: %s %s\n", r.cached ? "already compiled:" : "compiled:", r.artifact.c_str());
    if (!output.empty()) {
      std::ifstream in(r.artifact, std::ios::binary);
      std::stringstream content;
      content << in.rdbuf();
      if (!in.good() && !in.eof()) throw SetupError("reading " + r.artifact + ": " + std::strerror(errno));
      write_file_atomically(output, content.str(), 0755, "writing");
      std::fprintf(stderr, "wwjail: wrote %s (run it with: wwjail [grants] -- %s ARGS)\n", output.c_str(),
                   output.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wwjail: %s\n", e.what());
    return exit_code::kSetupFailed;
  }
  return 0;
}

// wwjail check FILE: validates a policy and prints what it grants.
int check_policy(int argc, char** argv) {
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

// Flags as the user wrote them, turned into RunConfig entries after any
// policy files are read (command-line grants add to the files').
struct Flags {
  std::vector<std::string> policies, reads, lists, writes, writes_broad, execs, binds, connects, connects_broad, listens;
  std::vector<std::string> env_set, env_unset, env_keep, limits, caps_kept;
  bool clean_env = false, no_tmpdir = false, keep_tmpdir = false;
  std::string learn_output;
  std::string max_memory;
};

void add_run_options(CLI::App& app, RunConfig& config, Flags& f) {
  app.add_option("-p,--policy", f.policies, "a policy file (TOML; repeatable); command-line grants add to it")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--read", f.reads,
                 "read-only access to PATH (a file, or a directory subtree); ?PATH: if it exists; "
                 "PATH::NAME: a WebAssembly guest sees it as NAME")
      ->type_name("PATH")->allow_extra_args(false);
  app.add_option("--list", f.lists, "may list DIR's entries (and stat it), nothing below it")->type_name("DIR")->allow_extra_args(false);
  app.add_option("--write", f.writes, "read-write access to PATH (create, delete, rename inside it)")->type_name("PATH")->allow_extra_args(false);
  app.add_option("--write-broad", f.writes_broad, "write on / or a system tree, made deliberate")->type_name("PATH")->allow_extra_args(false);
  app.add_option("--exec", f.execs, "may execve PATH (a file or a subtree); PROGRAM itself always may")
      ->type_name("PATH")->allow_extra_args(false);
  app.add_option("--bind", f.binds, "may bind (and listen) there: tcp:ADDR:PORT, udp:ADDR:PORT, unix:PATH, unix:@NAME")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_option("--connect", f.connects, "may connect or send datagrams there (same SPEC; ?unix:PATH: if its directory exists), or 'dns' for the resolvers")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_option("--connect-broad", f.connects_broad, "connect to any peer on any port (tcp:*:*), made deliberate")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_option("--listen", f.listens, "wwjail binds and listens there and hands the socket to the guest (LISTEN_FDS)")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_flag("--no-tmpdir", f.no_tmpdir, "no private temp dir (and no TMPDIR)");
  app.add_flag("--keep-tmpdir", f.keep_tmpdir, "keep the private temp dir after the run and print where it is");
  app.add_option("--env", f.env_set, "set NAME=VALUE in the guest's environment")->type_name("NAME=VALUE")->allow_extra_args(false);
  app.add_option("--unset-env", f.env_unset, "remove NAME from the inherited environment")->type_name("NAME")->allow_extra_args(false);
  app.add_flag("--clean-env", f.clean_env, "inherit no environment variables (but --keep-env and --env ones)");
  app.add_option("--keep-env", f.env_keep, "inherit only the NAMEs given (repeatable)")->type_name("NAME")->allow_extra_args(false);
  app.add_option("--limit", f.limits, "a resource limit: " + limit_name_list() + " (e.g. nofile=256, memory=1G)")
      ->type_name("NAME=VALUE")->allow_extra_args(false);
  app.add_option("--cap-keep", f.caps_kept,
                 "keep this capability (e.g. CAP_NET_BIND_SERVICE); the guest has none otherwise, even as root")
      ->type_name("NAME")->allow_extra_args(false);
  app.add_option("--cache", config.wasm_cache, "WebAssembly: where compiled modules are kept (default "
                 "$XDG_CACHE_HOME/wwjail)")->type_name("DIR");
  app.add_option("--max-memory", f.max_memory, "WebAssembly: the most linear memory the module may have (e.g. 256M)")
      ->type_name("BYTES");
  app.add_flag("--audit", config.audit,
               "enforce no grant (the program may touch whatever you may): log what would be denied, and a "
               "summary at exit");
  app.add_flag("--broker-opens", config.broker_performs_opens,
               "perform every open in the broker (never CONTINUE, even where Landlock enforces the same rule)");
  app.add_option("--log", config.log.path, "write the log to FILE (appended) instead of stderr")->type_name("FILE");
  // 0, 1 and 2 are the guest's stdio, which wwjail would take over (and
  // close); a negative N is no descriptor at all and was silently ignored.
  app.add_option("--log-fd", config.log.fd, "write the log to descriptor N (3 or more, opened by the caller)")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& n) -> std::string {
            long v = 0;
            auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
            if (ec != std::errc() || end != n.data() + n.size() || v > INT_MAX)
              return "'" + n + "' is not a descriptor number";
            if (v < 3) return "descriptor " + n + " cannot take the log: give 3 or more (0, 1 and 2 are the guest's stdio)";
            return {};
          },
          "N >= 3"));
  app.add_option("--log-format", config.log.format, "text (default) or json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", config.log_level,
                 "trace, debug, info (also logs allowed decisions), warn (default), error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

// Applies the flags to `config` after the policy files. Throws SetupError.
void apply_flags(const Flags& f, RunConfig& config) {
  for (const auto& p : f.policies) load_policy_file(p, config);
  auto grant = [&](const std::string& raw, uint8_t rights, const char* flag, bool check_broad, bool list = false) {
    GrantRequest g{raw, rights, std::string(flag) + " " + raw};
    g.list_only = list;
    if (g.path.starts_with("?")) {
      g.path.erase(0, 1);
      g.optional = true;
    }
    // HOST::GUEST: the directory's name inside a WebAssembly guest.
    if (!split_guest_name(g.path, g.guest))
      throw SetupError(std::string(flag) + " " + raw + ": the guest name after :: must be absolute, e.g. ::/data");
    if (g.path.empty()) throw SetupError(std::string(flag) + ": an empty path; write a path");
    char real[PATH_MAX];
    if (check_broad && ::realpath(g.path.c_str(), real) && too_broad_to_write(real))
      throw SetupError(std::string(flag) + " " + raw + ": write on " + real +
                       " is too broad to be deliberate; grant the directories the program writes, or write "
                       "--write-broad " + raw + " if you mean it");
    config.grants.push_back(std::move(g));
  };
  for (const auto& p : f.reads) grant(p, kRead, "--read", false);
  for (const auto& p : f.lists) grant(p, kRead, "--list", false, true);
  for (const auto& p : f.writes) grant(p, kRead | kWrite, "--write", true);
  for (const auto& p : f.writes_broad) grant(p, kRead | kWrite, "--write-broad", false);
  for (const auto& p : f.execs) grant(p, kRead | kExec, "--exec", false);
  for (const auto& s : f.binds) config.net.push_back({s, "--bind"});
  for (const auto& s : f.connects) {
    std::string err;
    auto e = s == "dns" ? std::nullopt : parse_net_spec(s, err);
    if (e && too_broad_to_connect(*e))
      throw SetupError("--connect " + s + " reaches any peer on any port, too broad to be deliberate; name the "
                       "peers, or write --connect-broad " + s + " if you mean it");
    config.net.push_back({s, "--connect"});
  }
  for (const auto& s : f.connects_broad) config.net.push_back({s, "--connect", "--connect-broad " + s});
  for (const auto& s : f.listens) config.net.push_back({s, "--listen"});
  if (f.no_tmpdir) config.tmpdir = false;
  if (f.keep_tmpdir) config.keep_tmpdir = true;
  if (f.clean_env) {
    config.env.inherit = EnvRequest::Inherit::kNone;
    config.env.keep.clear();
  }
  for (const auto& name : f.env_keep) {
    if (!valid_env_name(name)) throw SetupError("--keep-env " + name + ": not a variable name");
    config.env.inherit = EnvRequest::Inherit::kListed;
    config.env.keep.push_back(name);
  }
  for (const auto& name : f.env_unset) {
    if (!valid_env_name(name)) throw SetupError("--unset-env " + name + ": not a variable name");
    config.env.unset.push_back(name);
  }
  for (const auto& kv : f.env_set) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || !valid_env_name(kv.substr(0, eq)))
      throw SetupError("--env " + kv + ": write NAME=VALUE");
    config.env.set.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
  }
  for (const auto& kv : f.limits) {
    auto eq = kv.find('=');
    auto limit = eq == std::string::npos ? std::nullopt : find_limit(kv.substr(0, eq));
    if (!limit) throw SetupError("--limit " + kv + ": write NAME=VALUE, NAME one of " + limit_name_list());
    std::string err;
    auto v = parse_limit_value(*limit, kv.substr(eq + 1), err);
    if (!v) throw SetupError("--limit " + kv + ": " + err);
    config.limits.push_back({limit->resource, *v, "--limit " + kv});
  }
  for (const auto& name : f.caps_kept) {
    auto cap = parse_capability(name);
    if (!cap) throw SetupError("--cap-keep " + name + ": not a capability name; write one such as CAP_NET_BIND_SERVICE");
    config.cap_keep.push_back({*cap, "--cap-keep " + capability_name(*cap)});
  }
  if (!config.log.path.empty() && config.log.fd >= 0) throw SetupError("--log and --log-fd: give one of them");
  if (!f.max_memory.empty()) {
    std::string err;
    auto v = parse_limit_value(*find_limit("memory"), f.max_memory, err);
    if (!v) throw SetupError("--max-memory " + f.max_memory + ": write a number of bytes (K, M or G may follow)");
    config.wasm_max_memory = *v;
  }
}

int run_command(int argc, char** argv, bool learn) {
  RunConfig config;
  Flags flags;
  CLI::App app{learn ? "wwjail learn -o FILE [OPTIONS] -- PROGRAM [ARGS...]: run a program with everything "
                       "allowed but recorded, and write the policy it needed"
                     : "wwjail [OPTIONS] -- PROGRAM [ARGS...]: run a program with only the access it was granted"};
  app.set_version_flag("--version", WWJAIL_VERSION);
  app.name(learn ? "wwjail learn" : "wwjail");
  if (!learn)
    app.footer("Verbs:\n  wwjail learn -o FILE [OPTIONS] -- PROGRAM [ARGS...]   write the policy a run needed\n"
               "  wwjail check POLICY_FILE                             validate a policy, print what it grants\n"
               "  wwjail compile MODULE.wasm [-o FILE] [--cache DIR]   compile a WebAssembly module ahead of time\n"
               "Exit status: the guest's; 125 wwjail failed; 126 not executable; 127 not found; 134 wasm trap.\n"
               "See wwjail(1) and wwjail.policy(5).");
  if (learn) app.add_option("-o,--output", flags.learn_output, "where to write the learned policy")->type_name("FILE")
                 ->required();
  add_run_options(app, config, flags);
  app.prefix_command();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wwjail: %s (see wwjail%s --help)\n", e.what(), learn ? " learn" : "");
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
    std::fprintf(stderr, "wwjail: no program given (usage: wwjail %s[OPTIONS] -- PROGRAM [ARGS...])\n",
                 learn ? "learn -o FILE " : "");
    return exit_code::kSetupFailed;
  }
  LogSinks logs;
  LogContext context{new_run_id(), config.command.front()};
  try {
    apply_flags(flags, config);
    logs = open_log_sinks(config.log, config.log_level, context);
  } catch (const std::exception& e) {
    // No log yet: the error goes to stderr, in the format asked for.
    if (config.log.format == "json") {
      std::fprintf(stderr, "%s\n", json_message_line(spdlog::level::err, e.what(), context).c_str());
    } else {
      std::fprintf(stderr, "wwjail: %s\n", e.what());
    }
    return exit_code::kSetupFailed;
  }

  spdlog::logger& log = *logs.messages;
  try {
    prepare_wasm_guest(config, self_exe(), log);
    if (!learn) return run_guest(config, logs);
    PolicyLearner learner(config.command);
    if (const passwd* pw = ::getpwuid(::getuid())) learner.set_home(pw->pw_dir, std::getenv("HOME") ? std::getenv("HOME") : "");
    LearnObserver observer(learner);
    bool started = false;
    int status = run_guest(config, logs, &observer, &started);
    if (!started) return status;  // nothing ran: nothing learned, no file written
    LearnedPolicy learned = learner.render();
    write_learned_policy(flags.learn_output, learned.text);
    report_learned_policy(logs, flags.learn_output, learned.grants, learned.writes_outside_tmpdir);
    return status;
  } catch (const SetupError& e) {
    log.error("{}", e.what());
  } catch (const SysError& e) {
    log.error("{}", e.what());
  } catch (const std::exception& e) {
    log.error("internal error: {}", e.what());
  }
  return exit_code::kSetupFailed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "check") return check_policy(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "learn") return run_command(argc - 1, argv + 1, true);
  if (argc >= 2 && std::string(argv[1]) == "compile") return compile_command(argc - 1, argv + 1);
  return run_command(argc, argv, false);
}
