// Lexical path operations. These never touch the filesystem, so they are
// only ever used to *choose* a grant; the operation itself is then resolved
// by the kernel beneath that grant's pinned directory (RESOLVE_BENEATH), which
// is what makes a wrong lexical guess harmless.
#pragma once

#include <string>
#include <string_view>

namespace wwjail::path_text {

// Collapses "//", "." and ".." (".." at the root stays at the root).
// The input must be absolute; the result is absolute with no trailing slash.
std::string normalize(std::string_view absolute);

// base + "/" + rel, or rel alone when rel is absolute. No normalization.
std::string join(std::string_view base, std::string_view rel);

// True when `path` equals `dir` or lies below it (both normalized).
bool is_within(std::string_view path, std::string_view dir);

// True when `path` contains a ".." component.
bool has_dotdot(std::string_view path);

// Splits a normalized absolute path into its parent and its last component.
// "/" yields {"/", ""}.
struct Split {
  std::string parent;
  std::string name;
};
Split split_last(std::string_view normalized);

// `path` relative to `dir` (is_within must hold); "." when equal.
std::string relative_to(std::string_view path, std::string_view dir);

}  // namespace wwjail::path_text
