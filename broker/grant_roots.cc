#include "broker/grant_roots.h"

#include <fcntl.h>

#include "sys/sys_error.h"

namespace wwjail {

GrantRoots::GrantRoots(const StorageCaps& caps) : caps_(caps) {
  for (const auto& g : caps.grants()) {
    int flags = O_PATH | O_CLOEXEC | (g.directory ? O_DIRECTORY : 0) | (g.link ? O_NOFOLLOW : 0);
    UniqueFd fd(::open(g.path.c_str(), flags));
    if (!fd.valid()) throw_sys("opening grant " + g.path);
    fds_.push_back(std::move(fd));
  }
}

int GrantRoots::fd_for(const Grant& grant) const {
  return fds_.at(static_cast<size_t>(&grant - caps_.grants().data())).get();
}

}  // namespace wwjail
