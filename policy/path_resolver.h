// Canonical paths for one start-up. Deciding a run's grants resolves the
// same directories over and over (/usr, /usr/lib, /usr/lib/x86_64-linux-gnu
// for every library a program names, every trusted tree, every grant), and
// realpath(3) reads every component of every path with a readlink of its
// own. A PathResolver resolves exactly as glibc's realpath does (symlinks
// followed wherever they are, relative targets against their directory, ".."
// after resolution, the same errno on failure) but keeps each name's link
// status once read: a link's target, or that it is no link.
//
// A kept answer is true of the moment it was read, so a resolver lives for
// one start-up: made by whoever decides the grants and passed down, never
// global. Failures (a missing name, EACCES) are never kept: a name may appear
// later in the same start-up. Names under /proc are never kept either: its
// links (self, thread-self, fd/N) answer differently by who asks and when.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace wwjail {

class PathResolver {
 public:
  // realpath(path): the canonical absolute path, or nullopt with errno set
  // as realpath sets it (ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG, ...).
  std::optional<std::string> resolve(const std::string& path);

  // How many readlink calls it made so far (what the cache saves shows here).
  size_t readlinks() const { return readlinks_; }

 private:
  // readlink(name): true with `target` set for a link, true with `target`
  // empty for no link (EINVAL), false with errno set otherwise.
  bool read_link(const std::string& name, std::optional<std::string>& target);

  std::unordered_map<std::string, std::optional<std::string>> links_;  // name -> target, or no link
  size_t readlinks_ = 0;
};

}  // namespace wwjail
