// Writing a whole file so that readers see the old one or the new one,
// never half: a fresh temp file beside it (mkstemp: O_EXCL, never through
// a symlink someone planted), synced, given its mode, renamed over.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace wwjail {

// Throws SetupError "WHAT PATH: reason" (`what` e.g. "writing the learned
// policy to"); nothing is left behind on failure.
void write_file_atomically(const std::string& path, std::string_view content, mode_t mode, const std::string& what);

}  // namespace wwjail
