#include "broker/temp_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "sys/remove_tree.h"
#include "sys/sys_error.h"
#include "sys/unique_fd.h"

namespace wwjail {

PrivateTempDir::PrivateTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base == '/' ? base : "/tmp") + "/wwjail.XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw_sys("creating the private temp dir under " + tmpl.substr(0, tmpl.rfind('/')));
  char resolved[PATH_MAX];
  path_ = ::realpath(tmpl.c_str(), resolved) ? resolved : tmpl;
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
