#include "wasm/compile/wasm_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#include "capabilities/path_text.h"
#include "sys/sys_error.h"
#include "wasm/compile/compile_cache.h"
#include "wasm/compile/module_compiler.h"

extern char** environ;

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

bool prepare_wasm_guest(RunConfig& config, const std::string& self_exe, spdlog::logger& log) {
  ProgramLookup program = find_program(config.command.front());
  // A module is read, not executed: it needs no execute bit.
  char real[PATH_MAX];
  if (program.exit_status == exit_code::kNotExecutable && config.command.front().find('/') != std::string::npos &&
      ::realpath(config.command.front().c_str(), real) && (is_wasm_module(real) || is_wasm_artifact(real))) {
    program = {real, real, 0, ""};
  }
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

  std::vector<std::string> cmd = {find_wasm_runner(self_exe), "--module", compiled.path, "--module-id",
                                  compiled.identity};
  for (const auto& g : config.grants) {
    if (!(g.rights & (kRead | kWrite)) || g.list_only) continue;
    struct stat st{};
    if (::stat(g.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;  // only directories are preopens
    std::string guest = g.guest.empty() ? (g.alias.empty() ? g.path : g.alias) : g.guest;
    cmd.push_back("--dir");
    cmd.push_back(g.path + "::" + guest);
  }
  // Nothing is inherited by accident: the guest's environment is what was
  // set, and the names a policy's env.inherit lists.
  if (config.env.inherit == EnvRequest::Inherit::kListed) {
    for (const auto& name : config.env.keep) {
      if (const char* v = std::getenv(name.c_str())) {
        cmd.push_back("--env");
        cmd.push_back(name + "=" + v);
      }
    }
  }
  for (const auto& [k, v] : config.env.set) {
    cmd.push_back("--env");
    cmd.push_back(k + "=" + v);
  }
  if (config.wasm_max_memory) {
    cmd.push_back("--max-memory");
    cmd.push_back(std::to_string(config.wasm_max_memory));
  }
  cmd.push_back("--");
  cmd.insert(cmd.end(), config.command.begin(), config.command.end());
  config.command = std::move(cmd);
  config.grants.push_back({compiled.path, kRead, "the compiled module"});
  return true;
}

}  // namespace wwjail
