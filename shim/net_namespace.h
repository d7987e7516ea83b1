// The guest's own network namespace, made by the reaper while the guest
// child builds its mount view.
//
// Creating a network namespace is the single most expensive step of a
// jailed start (unshare(CLONE_NEWNET) sets up a loopback device, per-netns
// sysctl tables and proc entries: ~0.6 ms here). The guest child needs it
// only when it confines itself, after its view is built, so the reaper makes
// it in parallel and hands the child a descriptor for it over a socketpair
// made before the fork:
//
//   reaper:  unshare(CLONE_NEWNET); open /proc/self/ns/net; send errno + fd
//   child:   (builds its view) ... receive; setns(fd, CLONE_NEWNET)
//
// The reaper opens its own /proc/self/ns/net: a process may always reach
// its own namespaces, whereas opening another's (or setns through a pidfd)
// needs ptrace-read access, which an unprivileged run's reaper would not
// grant (its mm belongs to the broker's user namespace).
//
// The reaper is then itself in the new namespace; it does no networking.
// Both steps fail closed: a reaper that could not make the namespace sends
// its errno and the child stops before exec, as it did when it unshared
// the namespace itself.
#pragma once

namespace wwjail {

// Reaper side. Makes a network namespace, moves the caller into it and
// sends the child (over `channel`, an AF_UNIX SOCK_SEQPACKET end) 0 and a
// descriptor for it, or the errno of the step that failed. Never throws,
// allocates nothing; returns that errno.
int make_net_namespace_for_child(int channel);

// Child side. Waits for the reaper's message on `channel` and joins the
// namespace it names. Returns 0, or an errno (EMFILE when the descriptor
// could not be received, EPROTO when the message is malformed or the
// channel closed without one).
int join_net_namespace_from_reaper(int channel);

}  // namespace wwjail
