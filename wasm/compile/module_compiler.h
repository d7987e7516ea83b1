// WebAssembly modules as wwjail guests: recognising them, and turning one
// into the shared object wwjail's runner (wasm/runner/runner_main.cc) loads.
//
// The execution tier is wasm2c: the module is translated to C and compiled
// once with the system C compiler into a shared object, cached under a
// content-addressed name (SHA-256 of the module's bytes, the identity of the
// wasm2c and compiler binaries, the flags and the runner ABI). Both steps
// run jailed: wwjail runs itself on wasm2c and on the compiler, with read
// grants on the module and the toolchain and write only on a work
// directory inside the cache.
// Before the C compile, every import wasm2c's header declares is checked
// against the WASI functions the runner provides, name and signature; and
// the module is compiled next to the host's declarations
// (wasm/abi/wasi_imports.h), so a signature the check missed would not build.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <optional>
#include <string>

namespace wwjail {

// True when the file starts with the WebAssembly magic and version 1.
bool is_wasm_module(const std::string& path);
// True when the file is a compiled module (an ELF shared object carrying
// the .wwjail_wasm section).
bool is_wasm_artifact(const std::string& path);

// $XDG_CACHE_HOME/wwjail, else $HOME/.cache/wwjail.
std::string default_cache_dir();

// What each compile step (wasm2c, then cc) may use. A module that needs
// more is refused (SetupError, exit 125) with the limit it hit named. The
// defaults are generous for real programs and far below what a hostile
// module would take; WWJAIL_WASM_COMPILE_LIMITS ("memory=8G,cpu=1200,...",
// any subset) overrides them.
struct CompileLimits {
  uint64_t memory = 4ull << 30;  // address space of each process (RLIMIT_AS), bytes
  uint64_t cpu_seconds = 600;    // CPU time of each process (RLIMIT_CPU)
  uint64_t output = 2ull << 30;  // the largest file a step writes (RLIMIT_FSIZE), bytes
  uint64_t wall_seconds = 900;   // each step, from start to end
};

// Parses WWJAIL_WASM_COMPILE_LIMITS's text over the defaults (SetupError
// naming the variable on a mistake); nullptr or "" gives the defaults.
CompileLimits compile_limits_from(const char* text);

struct CompileRequest {
  std::string module;     // the .wasm
  std::string cache_dir;  // where compiled modules are kept
  std::string self_exe;   // wwjail itself, to run the tools jailed
  // nullopt: the defaults, as WWJAIL_WASM_COMPILE_LIMITS changes them.
  std::optional<CompileLimits> limits;
};

struct CompileResult {
  std::string artifact;  // the shared object to run
  std::string identity;  // "DEV:INO" of the artifact as checked (wasm/compile/compile_cache.h)
  bool cached = false;   // found in the cache, nothing compiled
  double seconds = 0;    // compile time (wasm2c + cc), 0 when cached
  long peak_rss_kib = 0; // the largest resident size of any compile step
};

// Finds MODULE's compiled form in the cache or compiles it there. Throws
// SetupError: a tool missing (saying how to precompile), an import the
// host lacks, a feature the tier does not support, a compile failure.
CompileResult compile_module(const CompileRequest& request, spdlog::logger& log);

}  // namespace wwjail
