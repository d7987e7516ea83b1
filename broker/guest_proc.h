// What the broker learns about a guest process from /proc. The broker is
// not confined, so it may follow /proc/PID magic links; the guest never can.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "sys/unique_fd.h"

namespace wwjail::guest_proc {

// The /proc link of the guest's descriptor `fd`, "/proc/PID/fd/FD", or of
// its cwd, "/proc/PID/cwd", for AT_FDCWD (the broker's to read).
std::string fd_link(pid_t pid, int fd);

// The absolute path of the guest's cwd (dirfd == AT_FDCWD) or of its dirfd.
// Returns 0, EBADF (no such fd), ENOTDIR (not a path: socket, pipe, anon
// inode), or ENOENT (the directory was deleted).
int dir_path(pid_t pid, int dirfd, std::string& out);

// A path the guest wrote, made absolute as the kernel would read it: as it
// is when it starts with '/', else joined to the guest's cwd or dirfd
// (dir_path, whose errors it returns). Not normalized. `raw` not empty.
int absolute_path(pid_t pid, int dirfd, std::string_view raw, std::string& out);

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
// returns it when the process is the caller (thread group `caller`) or one
// of its descendants: the line Yama's ptrace scope 1 draws, and the one
// Landlock draws between a process that sandboxed itself and its parent.
// A guest's /proc entries are opened by the broker, outside the guest's
// Landlock domain, so an ancestor's entries must never be among them.
// Decided race-free against pid reuse: each parent is pinned in turn, then
// the child's PPid is read again through the child's own descriptor; had
// the parent died in between, the child would have been re-parented (to
// the reaper or a nearer subreaper) and the PPid would differ. `caller`
// is the notifying thread's group, alive while its notification is
// pending, so its number names it: the caller checks that the
// notification is still pending (id_valid) before it acts on the pin.
// Invalid on any doubt.
UniqueFd pin_caller_or_descendant(pid_t pid, pid_t caller);

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
