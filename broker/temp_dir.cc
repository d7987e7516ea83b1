#include "broker/temp_dir.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sys/remove_tree.h"
#include "sys/sys_error.h"

namespace wwjail {

std::vector<std::string> temp_dir_candidates(const char* tmpdir, const char* xdg_runtime_dir) {
  std::vector<std::string> out;
  auto add = [&](const char* dir) {
    if (!dir || dir[0] != '/') return;
    std::string d(dir);
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    for (const auto& seen : out)
      if (seen == d) return;
    out.push_back(std::move(d));
  };
  add(tmpdir);
  add("/tmp");
  add("/dev/shm");
  add(xdg_runtime_dir);
  return out;
}

PrivateTempDir::PrivateTempDir()
    : PrivateTempDir(temp_dir_candidates(std::getenv("TMPDIR"), std::getenv("XDG_RUNTIME_DIR"))) {}

PrivateTempDir::PrivateTempDir(const std::vector<std::string>& candidates) {
  std::string reasons;
  for (const auto& dir : candidates) {
    std::string tmpl = (dir == "/" ? std::string() : dir) + "/wwjail.XXXXXX";
    if (::mkdtemp(tmpl.data())) {
      char resolved[PATH_MAX];
      path_ = ::realpath(tmpl.c_str(), resolved) ? resolved : tmpl;
      return;
    }
    reasons += (reasons.empty() ? "" : ", ") + dir + ": " + std::strerror(errno);
  }
  throw SetupError("no writable place for the private temp dir (" + reasons +
                   "): mount a tmpfs on /tmp (or set TMPDIR to a writable directory), or pass --no-tmpdir");
}

PrivateTempDir::~PrivateTempDir() {
  if (!keep_) remove();
}

void PrivateTempDir::remove() {
  if (path_.empty()) return;
  remove_tree_at(AT_FDCWD, path_.c_str());
  path_.clear();
}

}  // namespace wwjail
