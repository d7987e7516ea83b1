// Turns a guest's (dirfd, path) into the absolute path a decision is made on.
//
// Two routes:
//  * lexical: the joined path, normalized as text. Used only when the raw path
//    has no ".." and a grant covers the text. Any symlink inside it is then
//    resolved by the kernel beneath the grant (RESOLVE_BENEATH) or checked by
//    Landlock, so a wrong guess can only fail, never escape.
//  * physical: the broker walks the path itself, following symlinks one hop
//    at a time (at most 40, like the kernel), each hop producing a new
//    absolute path that is decided again. This finds the real target of
//    /lib -> usr/lib style links and of symlinks that leave a grant.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "capabilities/storage_caps.h"

namespace wwjail {

struct ResolvedPath {
  std::string path;
  bool physical = false;  // true: symlinks were resolved by the broker
  Decision decision;
  // The guest wrote the entry with a trailing slash ("f/"): the kernel then
  // wants a directory there (unlink, rename: ENOTDIR otherwise).
  bool trailing_slash = false;
};

class PathResolver {
 public:
  explicit PathResolver(const StorageCaps& caps) : caps_(caps) {}

  // Returns 0 and fills `out` (whose decision may be a denial), or an errno
  // for a path that cannot be resolved at all. A failure to resolve a path
  // that no grant covers is reported as a denial, so non-granted parts of the
  // filesystem do not leak existence through ENOENT.
  int resolve(pid_t pid, int dirfd, std::string_view raw, bool follow_last, Need need, ResolvedPath& out) const;

  // Decides an absolute path the broker already knows (an fd's target).
  // Audit mode: when the path does not resolve and the grants would deny
  // it, the errno is returned with `out` holding the audited decision.
  int resolve_absolute(std::string joined, bool follow_last, Need need, ResolvedPath& out) const;

  // For a path that does not resolve: the canonical path of its deepest
  // existing ancestor with the rest appended, lexically. False when not
  // even / resolves.
  static bool canonical_prefix(const std::string& lexical, std::string& out);

  // Physical resolution of an absolute path (see above). 0 or an errno.
  static int physical(std::string joined, bool follow_last, std::string& out);

 private:
  const StorageCaps& caps_;
};

}  // namespace wwjail
