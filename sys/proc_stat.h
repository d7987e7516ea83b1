// Reading a process's parent from /proc, for the guest-tree checks the
// broker and the reaper both make.
#pragma once

#include <sys/types.h>

namespace wwjail {

// The ppid field of /proc/PID/stat (parsed after the last ')', since the
// command name may contain one), or -1 when the process is gone.
pid_t parent_pid(pid_t pid);

}  // namespace wwjail
