// What the broker learns about a guest process from /proc. The broker is
// not confined, so it may follow /proc/PID magic links; the guest never can.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "sys/unique_fd.h"

namespace wwjail::guest_proc {

// The absolute path of the guest's cwd (dirfd == AT_FDCWD) or of its dirfd.
// Returns 0, EBADF (no such fd), ENOTDIR (not a path: socket, pipe, anon
// inode), or ENOENT (the directory was deleted).
int dir_path(pid_t pid, int dirfd, std::string& out);

// The kernel's name for the guest's fd, as /proc/PID/fd/N reads (may be
// "pipe:[..]", or end in " (deleted)"). Returns 0 or EBADF.
int fd_target(pid_t pid, int fd, std::string& out);

// The thread group (process) of thread `tid`, or -1 when it is gone.
pid_t tgid_of(pid_t tid);

// The guest's umask, for operations the broker performs on its behalf.
mode_t umask_of(pid_t pid);

// True when `pid` descends from `root` (the reaper; every guest does, as
// orphans re-parent to it) and is not `root` itself.
bool in_tree(pid_t pid, pid_t root);

// Pins /proc/PID (an O_PATH directory descriptor, which names that very
// process for as long as it is held, whatever later takes its number) and
// returns it when the process descends from `root`, the run's reaper, and
// is not the reaper itself. Decided race-free against pid reuse: each
// parent is pinned in turn, then the child's PPid is read again through the
// child's own descriptor; had the parent died in between, the child would
// have been re-parented (to the reaper or a nearer subreaper) and the PPid
// would differ. The walk ends at the pinned process numbered `root` whose
// parent is this broker (while the run lasts its only child of that number is
// the reaper: a zombie keeps its pid until waited for). Being in the tree cannot
// change while a process lives (orphans re-parent to a subreaper inside it,
// and nothing outside gains a descendant inside), so the pin's answer
// holds for every later read through it. Invalid on any doubt.
UniqueFd pin_in_tree(pid_t pid, pid_t root);

// A path below a /proc/PID directory, as the kernel names it
// ("/proc/123/fd/4"): the pid (-1 when the digits are too many to be one)
// and what follows it ("fd/4", or "" for the directory itself). nullopt
// for /proc itself, /proc/cpuinfo, /proc/sys/..., and paths outside /proc.
struct ProcPidPath {
  pid_t pid = -1;
  std::string_view rest;
};
std::optional<ProcPidPath> split_proc_pid(std::string_view path);

// If `path` (after rewrite_proc_self) is /proc/PID/fd/N of this guest
// process, returns N; otherwise -1.
int own_fd_link(const std::string& path, pid_t pid);

// Rewrites a leading /proc/self or /proc/thread-self to the guest's own
// /proc entry: from the broker they would name the broker.
std::string rewrite_proc_self(std::string path, pid_t pid);

}  // namespace wwjail::guest_proc
