// wwjail compile MODULE.wasm [-o FILE] [--cache DIR]: compiles a
// WebAssembly module ahead of time, into the cache and optionally a file.
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/verbs.h"
#include "policy/run_config.h"
#include "sys/atomic_file.h"
#include "sys/sys_error.h"
#include "wasm/compile/module_compiler.h"
#include "wasm/compile/wasm_command.h"

namespace wwjail::cli {

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw SetupError("cannot find wwjail's own executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

int compile_verb(int argc, char** argv) {
  std::string module, output, cache;
  CLI::App app{"wwjail compile: compile a WebAssembly module once, for running it where no compiler is"};
  app.name("wwjail compile");
  app.add_option("MODULE", module, "the .wasm module")->required();
  app.add_option("-o,--output", output, "write the compiled module here (default: only into the cache)")
      ->type_name("FILE");
  app.add_option("--cache", cache, "the cache directory (default $XDG_CACHE_HOME/wwjail)")->type_name("DIR");
  if (auto done = parse_command_line(app, argc, argv, "compile ")) return *done;
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

}  // namespace wwjail::cli
