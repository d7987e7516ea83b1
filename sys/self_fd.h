// "/proc/self/fd/N": the path of one of our own descriptors. Opened (or
// chmod'ed, dlopen'ed, used as a link source), it reaches the very inode the
// descriptor holds, not whatever now has its name: the kernel follows the
// magic link to the object. This is how an O_PATH descriptor the broker
// decided on is turned into a real open, a mode change or a hard link.
// Always the broker's (or the runner's) own table: a guest's descriptors are
// never reached through it (see broker/guest_walk.h for the guest's links).
#pragma once

#include <string>

namespace wwjail {

inline std::string self_fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace wwjail
