// One pinned O_PATH descriptor per grant, opened at start-up. Every operation
// the broker performs is resolved beneath one of these, so renaming or
// replacing a path component later cannot move a grant somewhere else.
#pragma once

#include <vector>

#include "capabilities/storage_caps.h"
#include "sys/unique_fd.h"

namespace wwjail {

class GrantRoots {
 public:
  // Throws SysError naming the grant that cannot be opened.
  explicit GrantRoots(const StorageCaps& caps);
  int fd_for(const Grant& grant) const;

 private:
  const StorageCaps& caps_;
  std::vector<UniqueFd> fds_;
};

}  // namespace wwjail
