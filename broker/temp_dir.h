// The guest's private temp dir: created 0700 for one run, exposed as
// $TMPDIR, removed with everything in it when the run ends (unless kept).
#pragma once

#include <string>

namespace wwjail {

class PrivateTempDir {
 public:
  // Creates wwjail.XXXXXX under $TMPDIR (of wwjail's own environment) or /tmp.
  PrivateTempDir();
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
