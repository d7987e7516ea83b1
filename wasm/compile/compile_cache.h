// The cache of compiled WebAssembly modules, and how an artifact comes to
// be trusted. Artifacts are native code the runner loads, so whoever could
// write one, or swap a directory on the way to it, would run code with the
// runner's grants. So:
//   - the cache is opened from "/" one component at a time with
//     O_NOFOLLOW, never by path: a component swapped for a symlink after
//     it was checked is not followed;
//   - each directory above the cache must be root's or the user's, and
//     writable by no one else unless sticky (as /tmp: others cannot rename
//     what is not theirs); the cache and its wasm/ directory, and each
//     artifact, must be the user's and writable by no one else;
//   - an artifact is opened once, through the checked directory, and what
//     the runner loads is that file: the runner is told its identity
//     (device and inode) and loads it through a descriptor it has matched
//     against it (wasm/runner/runner_main.cc).
#pragma once

#include <optional>
#include <string>

#include "sys/unique_fd.h"

namespace wwjail {

struct CacheDir {
  UniqueFd fd;       // CACHE/wasm, opened O_PATH
  std::string path;  // its canonical path
};

// Opens CACHE/wasm, creating what is missing (0700) like mkdir -p. Throws
// SetupError naming the directory that is not safe, and saying to choose
// another with --cache.
CacheDir open_cache_dir(const std::string& cache_dir);

struct CheckedArtifact {
  std::string path;      // to name it (messages, wwjail compile -o)
  std::string identity;  // "DEV:INO" of the file checked, for the runner
};

// The artifact NAME in the cache, checked; nullopt when there is none (or
// a file there is not a wwjail artifact, to be compiled again). Throws
// SetupError when one is there that someone else could have written.
std::optional<CheckedArtifact> open_cached_artifact(const CacheDir& dir, const std::string& name);

// An artifact given by path (from `wwjail compile -o`): the identity of
// the file checked. Throws SetupError if it is not an artifact.
CheckedArtifact check_artifact(const std::string& path);

// True when the open file is an ELF shared object carrying the
// .wwjail_wasm section.
bool is_wasm_artifact_fd(int fd);

}  // namespace wwjail
