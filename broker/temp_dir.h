// The guest's private temp dir: created 0700 for one run, exposed as
// $TMPDIR, removed with everything in it when the run ends (unless kept).
//
// Where: the first of $TMPDIR, /tmp, /dev/shm and $XDG_RUNTIME_DIR in which
// a directory can be created. A container with a read-only root and no
// tmpfs on /tmp usually still has /dev/shm (runc, Podman and Kubernetes
// mount one); when none of them takes a directory the run fails with one
// line saying what to do (mount a tmpfs, or --no-tmpdir).
#pragma once

#include <string>
#include <vector>

namespace wwjail {

// The places tried, in order: $TMPDIR and $XDG_RUNTIME_DIR count only when
// absolute (a relative one would depend on the guest's cwd); duplicates are
// dropped. Null or empty arguments are unset variables.
std::vector<std::string> temp_dir_candidates(const char* tmpdir, const char* xdg_runtime_dir);

class PrivateTempDir {
 public:
  // Creates wwjail.XXXXXX in the first of temp_dir_candidates(getenv(...)).
  PrivateTempDir();
  // Creates it in the first of `candidates` that takes it. Throws
  // SetupError (one line, every candidate's reason) when none does.
  explicit PrivateTempDir(const std::vector<std::string>& candidates);
  ~PrivateTempDir();
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;

  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }
  // Removes the tree now; never follows symlinks the guest left behind.
  void remove();

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace wwjail
