// Acting as the guest: what the broker performs for a guest thread (opens,
// creates, chmod, bind, connect, sends) it performs with that thread's
// credentials, never with its own.
//
// Why: the broker may run as root with every capability while the guest
// called setuid(65534), or runs as root with its capabilities dropped
// (shim/guest_child.cc). An open, a chmod or a bind the broker performs is
// checked by the kernel against the *calling thread's* credentials: the
// file-system uid and gid, the supplementary groups and the effective
// capabilities. So the thread that performs it takes the guest's for the
// duration of the operation.
//
// Kernel facts this rests on:
//  * setfsuid, setfsgid and capset change only the calling thread; so does
//    the raw setgroups syscall (glibc's setgroups() would change every thread
//    of the broker, which is why it is called directly);
//  * changing the fs uid from 0 to another clears the file-system
//    capabilities from the effective set; capset then sets exactly the
//    guest's effective set, bounded by the broker's permitted set;
//  * raising the effective set back within the permitted set needs no
//    capability, so restoring always works: capset first, then the ids.
//
// What the broker needs for itself (reading guest memory, /proc/PID of the
// guest, pidfd_getfd) is done as the broker: `AsBroker` lifts the guest's
// identity for a scope (a no-op while the identity is the launch one, which
// passes those checks as it is). A step that forgets it fails (EACCES, EPERM): it
// never gains anything, which is why the guest's identity is the default
// for the whole handling of a notification.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

namespace wwjail {

// The calling thread's capability sets, as bit masks (capget). Throws
// SysError.
struct CapabilitySets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};
CapabilitySets thread_capabilities();

// The credentials the kernel checks file and socket operations against.
struct GuestIdentity {
  uid_t ruid = 0, euid = 0, fsuid = 0;
  gid_t rgid = 0, egid = 0, fsgid = 0;
  std::vector<gid_t> groups;
  uint64_t cap_effective = 0;
  uint64_t cap_permitted = 0;
  // The identity every guest thread starts with: the broker's own ids, and
  // permitted == effective == the kept capabilities. Acting as it, the
  // broker passes every ptrace-access check on the guest (same real and fs
  // ids, and the guest's permitted set within the acting effective one), so
  // AsBroker need not switch back for introspection.
  bool at_launch = false;

  // Thread `tid`'s credentials from /proc/TID/status; nullopt when gone.
  static std::optional<GuestIdentity> of_thread(pid_t tid);
  // The identity access(2) checks with: the real ids, and for a real uid
  // of 0 the permitted capabilities (none otherwise), as the kernel does.
  GuestIdentity for_access() const;
  bool operator==(const GuestIdentity&) const = default;
};

// Where the identities come from for one run. A guest starts with the
// broker's ids and groups and only the capabilities it keeps; until some
// guest thread changes its credentials (the set*id and capset calls are
// notified for this: seccomp/filter rules) that identity holds for every
// thread and no /proc read is needed.
class GuestIdentities {
 public:
  // `active`: false when the broker holds nothing the guest lacks (an
  // ordinary user with no capabilities): then nothing is ever switched.
  GuestIdentities(bool active, GuestIdentity at_launch) : active_(active), launch_(std::move(at_launch)) {}
  // The broker's own situation: active unless it is an ordinary user with
  // no capability at all.
  static GuestIdentities for_this_broker(uint64_t kept_capabilities);

  bool active() const { return active_; }
  // The identity every guest thread has until one changes its credentials.
  const GuestIdentity& at_launch() const { return launch_; }
  // A guest thread is about to change its credentials.
  void note_change() { changed_.store(true, std::memory_order_release); }
  // The identity of thread `tid` now (nullopt: the thread is gone).
  std::optional<GuestIdentity> of(pid_t tid) const;

 private:
  bool active_;
  GuestIdentity launch_;
  std::atomic<bool> changed_{false};
};

// The part of a thread's credentials the switch sets.
struct ThreadCredentials {
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  std::vector<gid_t> groups;
  uint64_t effective = 0;
};

// For its lifetime, the calling thread acts as `who`. Nests with AsBroker
// and with itself: an inner scope switches from the outer one's guest and
// back to it, and AsBroker always lifts to the broker's own credentials
// (those the outermost scope found). Throws SysError when the switch cannot
// be made (the operation must then not happen at all); a thread that could
// not switch back terminates the broker rather than go on with the guest's
// credentials or its own.
//
// A thread that handles notifications rests in an outer scope of the launch
// identity (NotifyThread): a call by a guest thread that still has it then
// switches nothing, where a switch and its way back cost two capset(2)
// calls, about 4 us on the machine this was measured on (commit_creds
// allocates and RCU-frees a cred each time).
class ActingAs {
 public:
  explicit ActingAs(const GuestIdentity& who);
  ~ActingAs();
  ActingAs(const ActingAs&) = delete;
  ActingAs& operator=(const ActingAs&) = delete;

  // Whom the calling thread acts for now, if anyone (for work handed to
  // another thread, which must act as the same guest).
  static std::optional<GuestIdentity> current();

 private:
  friend class AsBroker;
  friend class PeerIdsAsGuest;
  GuestIdentity who_;
  ThreadCredentials guest_, broker_;
  ActingAs* outer_ = nullptr;
};

// For its lifetime, the calling thread (acting as a guest) also takes the
// guest's effective uid and gid, which is what a unix-socket peer learns of
// whoever connects or sends (SO_PEERCRED; SCM_CREDENTIALS the kernel adds).
// File access goes by the fs ids and needs no such switch; this scope is
// for connect and send on unix sockets only. The peer still sees the
// broker's pid (docs/SECURITY.md). A no-op when the ids already match or
// the broker cannot switch back (it is not root).
class PeerIdsAsGuest {
 public:
  PeerIdsAsGuest();
  ~PeerIdsAsGuest();
  PeerIdsAsGuest(const PeerIdsAsGuest&) = delete;
  PeerIdsAsGuest& operator=(const PeerIdsAsGuest&) = delete;

 private:
  bool switched_ = false;
  gid_t rgid_ = 0, egid_ = 0;  // the broker's, restored with its uid 0
};

// For its lifetime, the calling thread acts as the broker again (no-op when
// it is not acting as a guest).
class AsBroker {
 public:
  AsBroker();
  ~AsBroker();
  AsBroker(const AsBroker&) = delete;
  AsBroker& operator=(const AsBroker&) = delete;

 private:
  ActingAs* lifted_ = nullptr;
};

}  // namespace wwjail
