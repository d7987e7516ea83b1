// Grants that would reach the kernel's own file systems by a side door.
//
// A directory grant covers whatever is mounted beneath it: Landlock's rules
// follow paths across mounts, the broker decides on paths, and the view binds
// a grant with its submounts. A procfs, sysfs or cgroup file system mounted
// inside a granted tree (a chroot's /proc, a container's /sys) would hand the
// guest the host's processes and, with a write grant and a root guest, the
// host's sysctls (core_pattern runs a program as root). wwjail refuses such
// policies at start. The host's own /proc, /sys and /dev are where a broad
// read grant (--read /) meets them, and they are handled there (the guest's
// own /proc only; sysfs and devices read-only): they are allowed below read
// grants, never below write grants.
#pragma once

#include <string>
#include <string_view>

#include "capabilities/storage_caps.h"

namespace wwjail {

// The first grant that holds a kernel file system beneath it, in words
// (for the one-line error); empty when there is none. `mountinfo` is the
// text of /proc/self/mountinfo.
std::string kernel_mount_under_grants(const StorageCaps& caps, std::string_view mountinfo);

// The same, with this process's mount table.
std::string kernel_mount_under_grants(const StorageCaps& caps);

}  // namespace wwjail
