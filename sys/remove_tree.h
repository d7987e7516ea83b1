// Recursive removal that never follows symlinks, for trees a guest wrote.
#pragma once

namespace wwjail {

// Removes `name` under `dirfd` and everything below it. Symlinks are removed,
// never followed; directories the guest made unreadable (chmod 000) are made
// accessible to their owner first. Best effort: errors are ignored.
void remove_tree_at(int dirfd, const char* name);

}  // namespace wwjail
