// The guest's private view of the file system: kernel-first enforcement.
//
// Where a mount namespace can be made (wwjail is root, or an unprivileged
// user namespace maps the caller's uid and gid to themselves), the guest runs
// in a tree that holds only its grants: a read-only tmpfs root, each granted
// path bind-mounted at its own path (read-only unless writable), the
// symbolic links on the way recreated, the directories above the grants
// empty, and a procfs of the guest's own PID namespace. What is not granted
// does not exist, so stat, readlink, access and getxattr need no broker: the
// kernel answers them, and Landlock decides opens, creates, removes and execs
// inside the view. The broker keeps what neither can decide (addresses,
// metadata writes, exec's interpreter rule).
//
// Planned in the broker before fork (it allocates); applied by the guest
// child with syscalls only (apply_mount_view).
//
// Kernel quirks this relies on:
//  * A bind mount's source must be a mount of the caller's own mount
//    namespace (do_loopback refuses others), so sources are opened after
//    unshare(CLONE_NEWNS), through the old root kept by pivot_root.
//  * In a user namespace the flags of the source mount (nosuid, nodev,
//    noexec, read-only) are locked: mount_setattr() only adds to them.
//  * Opening a ptmx node finds its devpts through the "pts" entry beside it
//    in the same file system, which a bind-mounted /dev/ptmx does not have:
//    a granted /dev/ptmx becomes a link to pts/ptmx on a devpts instance of
//    the guest's own (its terminals are its own, and Landlock grants them).
//  * procfs with hidepid=ptraceable shows only the processes the caller may
//    ptrace; Landlock's ptrace scoping hides the reaper (PID 1 of the
//    namespace, outside the guest's domain) among them. subset=pid leaves out
//    /proc/sys, /proc/net (the top-level link) and the other global files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capabilities/storage_caps.h"

namespace wwjail {

struct MountViewPlan {
  struct Entry {
    enum Kind : uint8_t {
      kDir,       // an empty directory of the skeleton (above a grant, or the cwd)
      kBindDir,   // a granted directory, bound with everything below it
      kBindFile,  // a granted file (or device node), bound onto an empty file
      kSymlink,   // a granted symbolic link, recreated with the same target
      kDevpts,    // a devpts of the guest's own at path (a granted /dev/ptmx), readable and writable
    };
    Kind kind = kDir;
    bool read_only = true;
    std::string path;    // where the guest sees it (the same path as on the host)
    std::string source;  // binds: the host path beneath the old root; symlinks: the target
  };
  std::vector<Entry> entries;  // parents before children
  std::string stage = "/tmp";  // an existing directory the new root is mounted on
  std::string old_root;        // stage + "/.wwjail-old-root": the host's tree while binding
  std::string old_root_in_view = "/.wwjail-old-root";
  std::string cwd = "/";       // the guest's start directory inside the view
  // The Landlock rights the guest's ruleset handles: the rules the view adds
  // (its /proc, its terminals) grant no others.
  uint64_t landlock_handled = ~uint64_t{0};
};

const char* kind_name(MountViewPlan::Entry::Kind kind);

// What kind of namespaces the launch makes for a view.
struct ViewNamespaces {
  bool user = false;  // an unprivileged user namespace (uid and gid mapped to themselves)
  std::string uid_map, gid_map;  // "UID UID 1\n", written by the reaper into its own maps
};

// The view for `caps`, or nullopt with `why_not` saying which grant the
// view cannot express (a list-only directory, a grant inside /proc, audit's
// catch-all): such a policy is mediated by the broker instead.
std::optional<MountViewPlan> plan_mount_view(const StorageCaps& caps, const std::string& cwd, std::string& why_not);

// Whether namespaces for a view can be made here, and which; `why_not` says
// why not (no user namespaces, a sysctl, ...).
std::optional<ViewNamespaces> view_namespaces(std::string& why_not);

enum class ViewStep : int {
  kDevpts, kUnshare, kPrivate, kRoot, kPivot, kSkeletonDir, kSymlink, kMountPoint, kBind, kProc, kProcRule, kLeaveHost, kReadOnlyRoot, kChdir,
};
const char* view_step_name(int step);

// In the guest child, after fork and before Landlock: unshare the mount
// namespace and build the view. Adds Landlock's read rule on the view's
// /proc to `landlock_fd`. Returns 0 or an errno; `step` says which step failed.
int apply_mount_view(const MountViewPlan& plan, int landlock_fd, ViewStep* step);

}  // namespace wwjail
