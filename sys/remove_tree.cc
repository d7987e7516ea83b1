#include "sys/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "sys/unique_fd.h"
#include "sys/self_fd.h"

namespace wwjail {

void remove_tree_at(int dirfd, const char* name) {
  if (::unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM)) return;
  UniqueFd dir(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    // A directory without read or search permission: open it by O_PATH and
    // restore owner access through its descriptor, then try again.
    UniqueFd path(::openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!path.valid()) return;
    ::fchmodat(AT_FDCWD, self_fd_path(path.get()).c_str(), 0700, 0);
    dir.reset(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) return;
  }
  ::fchmod(dir.get(), 0700);
  std::vector<std::string> entries;
  if (DIR* d = ::fdopendir(::dup(dir.get()))) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") entries.push_back(n);
    }
    ::closedir(d);
  }
  for (const auto& e : entries) remove_tree_at(dir.get(), e.c_str());
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

}  // namespace wwjail
