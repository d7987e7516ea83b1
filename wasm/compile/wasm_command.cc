#include "wasm/compile/wasm_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#include "capabilities/path_text.h"
#include "sys/sys_error.h"
#include "wasm/abi/runner_args.h"
#include "wasm/compile/compile_cache.h"
#include "wasm/compile/module_compiler.h"

namespace wwjail {

std::string find_wasm_runner(const std::string& self_exe) {
  std::string dir = path_text::split_last(self_exe).parent;
  for (const std::string& candidate : {dir + "/wwjail-wasm-run", dir + "/../libexec/wwjail/wwjail-wasm-run"}) {
    if (::access(candidate.c_str(), X_OK) == 0) {
      char real[PATH_MAX];
      if (::realpath(candidate.c_str(), real)) return real;
    }
  }
  throw SetupError("wwjail-wasm-run is not installed next to " + self_exe + " (nor in ../libexec/wwjail)");
}

namespace {

// The program config.command names, found as execvp would; a module is
// read, not executed, so one without the execute bit is found too.
ProgramLookup find_guest_program(const RunConfig& config) {
  ProgramLookup program = find_program(config.command.front());
  char real[PATH_MAX];
  if (program.exit_status == exit_code::kNotExecutable && config.command.front().find('/') != std::string::npos &&
      ::realpath(config.command.front().c_str(), real) && (is_wasm_module(real) || is_wasm_artifact(real))) {
    program = {real, real, 0, ""};
  }
  return program;
}

// The runner's arguments: the compiled module, the granted directories as
// preopens, the environment that was set, and the guest's argv.
RunnerArgs runner_args(const RunConfig& config, const CheckedArtifact& compiled) {
  RunnerArgs args{compiled.path, compiled.identity};
  for (const auto& g : config.grants) {
    if (!(g.rights & (kRead | kWrite)) || g.list_only) continue;
    struct stat st{};
    if (::stat(g.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;  // only directories are preopens
    args.dirs.push_back({g.path, g.guest.empty() ? (g.alias.empty() ? g.path : g.alias) : g.guest});
  }
  // Nothing is inherited by accident: the guest's environment is what was
  // set, and the names a policy's env.inherit lists.
  if (config.env.inherit == EnvRequest::Inherit::kListed) {
    for (const auto& name : config.env.keep) {
      if (const char* v = std::getenv(name.c_str())) args.env.push_back(name + "=" + v);
    }
  }
  for (const auto& [k, v] : config.env.set) args.env.push_back(k + "=" + v);
  args.max_memory = config.wasm_max_memory;
  args.argv = config.command;
  return args;
}

}  // namespace

bool prepare_wasm_guest(RunConfig& config, const std::string& self_exe, spdlog::logger& log) {
  ProgramLookup program = find_guest_program(config);
  bool module = program.exit_status == 0 && is_wasm_module(program.path);
  bool artifact = program.exit_status == 0 && !module && is_wasm_artifact(program.path);
  if (!module && !artifact) {
    for (const auto& g : config.grants) {
      if (!g.guest.empty()) throw SetupError(g.origin + ": a guest name (::" + g.guest + ") is for WebAssembly modules");
    }
    return false;  // a native program (run_guest reports one it cannot find)
  }
  // The runner loads exactly the file checked here (compile_cache.h).
  CheckedArtifact compiled;
  if (module) {
    CompileRequest req{program.path, config.wasm_cache.empty() ? default_cache_dir() : config.wasm_cache, self_exe};
    CompileResult r = compile_module(req, log);
    compiled = {r.artifact, r.identity};
    log.debug("{} {}", r.cached ? "cached module:" : "compiled module:", compiled.path);
  } else {
    compiled = check_artifact(program.path);
  }
  config.command = runner_args(config, compiled).to_argv(find_wasm_runner(self_exe));
  config.grants.push_back({compiled.path, kRead, "the compiled module"});
  return true;
}

}  // namespace wwjail
