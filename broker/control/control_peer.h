// Who may use a jail's control socket: a process of the run's user (or
// root) that is not one of the jail's own guests. A guest that could reach
// its jail's control plane could stop it, watch it, and later grant itself
// more; the directory (control_dir.h) and the broker's refusal of guest
// connects to it are the walls before this one, which decides on the
// connection itself.
//
// Kernel facts this rests on:
//  * SO_PEERCRED is the peer's credentials and pid when it connected,
//    whatever it does after; the pid is translated into our PID namespace
//    (0 when the peer's has no mapping in ours: then it is refused).
//  * A broker performs its guests' connects itself, so their SO_PEERCRED
//    is the broker's: a peer holding a seccomp notification listener (any
//    supervisor's, this jail's own broker included) is refused.
//  * SO_PEERPIDFD (Linux 6.5) pins that process: once it has exited, its
//    pid may name another process, but the pidfd says ESRCH.
//  * The ancestry is walked with each ancestor pinned by a pidfd opened
//    before the child's parent is read again, so every link found was a
//    real parent at some instant, whatever pids are reused meanwhile. A
//    guest's ancestors are guests up to the tree's root, and reparenting
//    only moves a guest to the root (PID 1 of its namespace, or the
//    subreaper): no guest can appear outside the tree.
#pragma once

#include <sys/types.h>

#include <string>

namespace wwjail::control {

// "" when the peer of connected unix socket `fd` may control the run whose
// guests all descend from `tree_root`; otherwise why not, in a few words.
std::string peer_refusal(int fd, pid_t tree_root);

}  // namespace wwjail::control
