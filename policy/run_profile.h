// The grants wwjail adds to every run (Grant::automatic), as data: what any
// program needs to start and nothing more. build_storage_caps
// (policy/run_config.h) walks this table after the run's own grants;
// README's "What a guest may do without grants" describes it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace wwjail {

// The origin of the private temp dir's grant (learn recognises it by this).
inline constexpr std::string_view kTmpdirOrigin = "private temp dir";

struct ProfileGrant {
  enum class Source {
    kPath,           // `path` itself
    kProgram,        // PROGRAM (and the links of the name it was invoked by)
    kProgramDeps,    // PROGRAM's interpreters ("#!" ones too) and libraries
    kExecGrantDeps,  // the interpreters and libraries of every exec grant's programs
    kTmpdir,         // the private temp dir, when the run has one
  };
  Source source;
  std::string_view path;  // kPath only
  uint8_t rights = 0;     // kPath, kProgram, kTmpdir (deps get their own: policy/program_deps.h)
  std::string_view origin;
  bool required = false;  // absent: a SetupError (otherwise skipped)
};

std::span<const ProfileGrant> run_profile();

}  // namespace wwjail
