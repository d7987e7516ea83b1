// Handlers for every notified syscall (see shim/syscall_rules.cc for which).
//
// Each handler: copies its arguments out of guest memory once, resolves the
// path (broker/path_resolver.h), asks StorageCaps::decide, confirms the
// notification is still pending (id_valid), then either performs the
// operation itself beneath the grant's pinned directory or, for opens and
// execs that Landlock enforces identically, answers CONTINUE.
#pragma once

#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <spdlog/logger.h>

#include <array>
#include <optional>
#include <vector>
#include <string>

#include "broker/async_ops.h"
#include "broker/decision_log.h"
#include "broker/grant_roots.h"
#include "broker/guest_identity.h"
#include "broker/guest_memory.h"
#include "broker/notify_channel.h"
#include "broker/path_resolver.h"
#include "broker/verdict.h"
#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

struct HandlerOptions {
  // The guest runs under a Landlock ruleset derived from the same grants, so
  // opens and execs the broker allows may CONTINUE.
  bool landlock_active = false;
  int landlock_abi = 0;
  // Perform every open in the broker, even where CONTINUE would be safe.
  bool broker_performs_opens = false;
  // The reaper: every guest process descends from it (it is a subreaper).
  pid_t tree_root = 0;
  // The handling thread has its own cwd and umask (unshare(CLONE_FS)), so
  // handlers may fchdir and change the umask around an operation.
  bool private_fs = false;
  // Paths that standard runtimes probe on every start and that usually do
  // not exist (glibc's /etc/ld.so.preload). When one is absent, a denial is
  // answered ENOENT and logged at debug level, not as a warning: the guest
  // learns nothing it could not know, and logs stay readable. Optional
  // grants absent at start (StorageCaps::named_absent) are treated alike.
  std::vector<std::string> quiet_absent_paths = {"/etc/ld.so.preload"};
  // Whose credentials the broker acts with (nullptr: its own, for tests
  // of the decisions alone).
  GuestIdentities* identities = nullptr;
  // The same for unix sockets libc probes (nscd's, where no nscd runs).
  std::vector<std::string> quiet_absent_sockets = {"/run/nscd/socket", "/var/run/nscd/socket"};
};

// An allowed or audited decision a handler acted on, logged once the call
// is answered (denials are logged where they are made).
struct NotedDecision {
  std::string target;
  Need need = Need::kStat;
  bool storage = true;
  bool bind = false;
  DecisionKind kind = DecisionKind::kAllow;
  const Grant* grant = nullptr;
  const NetGrant* net_grant = nullptr;
  DecisionHint hint = DecisionHint::kNone;  // network audits: an address probe
};

// One notification being handled: the kernel's record of the call and what
// handling it learns. Handlers get it by reference; a completion that
// answers later (through the ring, maybe on another thread) takes its own
// copy, so nothing about one call is kept on the shared SyscallHandlers.
struct Call : seccomp_notif {
  explicit Call(const seccomp_notif& n) : seccomp_notif(n) {}
  std::vector<NotedDecision> noted;
};

// Delivers a verdict to the kernel. kDeferred is delivered later by whoever
// completes it.
void deliver(NotifyChannel& channel, uint64_t id, Verdict verdict);

class SyscallHandlers {
 public:
  SyscallHandlers(const StorageCaps& caps, const GrantRoots& roots, NotifyChannel& channel, GuestMemory& memory,
                  AsyncOps& async, spdlog::logger& log, HandlerOptions options, const NetCaps* net = nullptr,
                  DecisionLog* decisions = nullptr);

  Verdict handle(const seccomp_notif& n);
  // Called by the handling thread itself once it has its own cwd and umask.
  void set_private_fs(bool v) { options_.private_fs = v; }

  static const char* syscall_name(int nr);
  // True when a handler takes syscall `nr` (x86_64 number).
  static bool has_route(int nr);

 private:
  Verdict dispatch(Call& n);
  // A notified syscall's handler, reading its arguments from the registers.
  struct Route {
    int nr;
    Verdict (*handle)(SyscallHandlers& h, Call& n, const __u64* args);
  };
  static const std::vector<Route>& routes();
  // Families (one file each).
  // may_continue: false when the kernel must not redo the open (openat2,
  // whose open_how lives in guest memory).
  Verdict on_open(Call& n, int dirfd, uint64_t path_addr, uint64_t flags, uint64_t mode,
                  uint64_t resolve, bool may_continue = true);
  Verdict on_openat2(Call& n);
  // memfd_create without MFD_NOEXEC_SEAL: made here, never executable.
  Verdict on_memfd_create(Call& n);
  Verdict emulate_opath(Call& n, ResolvedPath& r, uint64_t flags);
  // Reopens the inode behind `held` (an O_PATH fd the broker opened and
  // decided on) with `flags`, or, for an O_PATH request, read-only.
  Verdict reopen_held(Call& n, const UniqueFd& held, uint64_t flags, bool cloexec, bool opath);
  // openat2 with RESOLVE_BENEATH / RESOLVE_IN_ROOT: walked by the kernel
  // with the guest's own flags, then decided and reopened.
  Verdict open_in_guest_root(Call& n, int dirfd, const std::string& raw, const open_how& how);
  Verdict on_stat(Call& n, int dirfd, uint64_t path_addr, uint64_t buf, int flags, bool statx,
                  unsigned statx_mask);
  Verdict on_access(Call& n, int dirfd, uint64_t path_addr, int mode, int flags);
  Verdict on_readlink(Call& n, int dirfd, uint64_t path_addr, uint64_t buf, uint64_t size);
  Verdict on_statfs(Call& n, uint64_t path_addr, uint64_t buf);
  Verdict on_chmod(Call& n, int dirfd, uint64_t path_addr, mode_t mode);
  Verdict on_chown(Call& n, int dirfd, uint64_t path_addr, uid_t uid, gid_t gid, int flags);
  Verdict on_fd_meta(Call& n);  // fchmod, fchown, fsetxattr, fremovexattr
  Verdict on_truncate(Call& n, uint64_t path_addr, off_t length);
  Verdict on_utimes(Call& n, int dirfd, uint64_t path_addr, uint64_t times, int flags, int kind);
  Verdict on_xattr(Call& n);
  Verdict on_mkdir(Call& n, int dirfd, uint64_t path_addr, mode_t mode);
  Verdict on_mknod(Call& n, int dirfd, uint64_t path_addr, mode_t mode);
  Verdict on_unlink(Call& n, int dirfd, uint64_t path_addr, int flags);
  Verdict on_rename(Call& n, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                    unsigned flags);
  Verdict on_link(Call& n, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, int flags);
  Verdict on_symlink(Call& n, uint64_t target, int newdirfd, uint64_t linkpath);
  Verdict on_exec(Call& n, int dirfd, uint64_t path_addr, int flags);
  Verdict on_chdir(Call& n, bool by_fd);
  Verdict on_inotify_add_watch(Call& n);
  Verdict on_pid_target(Call& n);
  // set*id, setgroups, capset: noted (identities are read from /proc from
  // then on) and left to the kernel.
  Verdict on_credentials_change(Call& n);
  Verdict on_ioctl(Call& n);  // handlers_ioctl.cc: commands off the allow-list
  // Network (handlers_net.cc).
  struct SocketKind {
    int domain = 0;
    int type = 0;
    Transport transport = Transport::kTcp;
  };
  Verdict on_bind(Call& n);
  Verdict on_connect(Call& n);
  Verdict on_listen(Call& n);
  Verdict on_sendto(Call& n);
  Verdict on_sendmsg(Call& n);
  Verdict on_sendmmsg(Call& n);
  int dup_socket(Call& n, int fd, UniqueFd& dup, SocketKind& kind);
  int copy_sockaddr(Call& n, uint64_t addr, uint64_t len, sockaddr_storage& out, socklen_t& out_len);
  // The decision form of a copied address; unix paths resolved against the
  // guest's cwd (bind: last component not followed).
  int socket_target(Call& n, const SocketKind& kind, const sockaddr_storage& sa, socklen_t len,
                    bool binding, NetTarget& t);
  // Decides where a send goes; a unix path is rewritten to its pinned inode
  // (kept open in `held`).
  int check_destination(Call& n, const SocketKind& kind, sockaddr_storage& sa, socklen_t& len,
                        NetTarget& t, NetDecision& d, std::vector<UniqueFd>& held);
  int pin_unix_peer(const NetTarget& t, sockaddr_storage& sa, socklen_t& len, UniqueFd& pinned);
  // Copies a msghdr and everything it points to into `m`; SCM_RIGHTS fds
  // become the broker's duplicates, held by `m`. EACCES: `*denial` holds
  // the logged answer.
  int copy_message(Call& n, uint64_t msg_addr, const SocketKind& kind, AsyncOps::OwnedMessage& m,
                   Verdict* denial);
  // Sends `m` on our duplicate: at once if it fits, else through the ring.
  Verdict send_owned(Call& n, std::shared_ptr<UniqueFd> sock, std::shared_ptr<AsyncOps::OwnedMessage> m,
                     int flags);
  Verdict deny_net(Call& n, const NetTarget& t, const NetDecision& d);
  // A UDP connect that looks like getaddrinfo's source-address probe;
  // `minor`: one of the unspecified address, logged at info.
  struct ProbeHint {
    DecisionHint hint = DecisionHint::kNone;
    bool minor = false;
  };
  ProbeHint address_probe(const Call& n, const NetTarget& t) const;

  // Decisions. decide() is caps_.decide plus note(): every storage
  // decision a handler acts on goes through one of them, so allowed and
  // audited ones reach the DecisionLog (denials are logged by deny*).
  Decision decide(Call& n, std::string_view path, Need need);
  void note(Call& n, std::string_view path, Need need, const Decision& d);
  NetDecision note_net(Call& n, const NetTarget& t, NetDecision d, bool bind);
  // resolver_.resolve / resolve_absolute plus note() of the result.
  int resolve_noted(Call& n, int dirfd, std::string_view raw, bool follow_last, Need need, ResolvedPath& out);
  int resolve_absolute_noted(Call& n, std::string joined, bool follow_last, Need need, ResolvedPath& out);
  // Logs what the call's handler noted, with the verdict's errno.
  void flush_notes(Call& n, const Verdict& v);
  // Completes `ev` with the notification's pid and syscall and logs it.
  void record(Call& n, DecisionEvent& ev);
  // Logs `ev` as a denial and answers its errno.
  Verdict refuse(Call& n, DecisionEvent ev);

  // Shared steps.
  // Copies a path argument; 0 or an errno.
  int copy_path(Call& n, uint64_t addr, std::string& out);
  // copy_path + resolve. 0 or an errno; a denial is in out.decision.
  int locate(Call& n, int dirfd, uint64_t addr, bool follow_last, Need need, ResolvedPath& out);
  // Logs the denial and returns EACCES.
  Verdict deny(Call& n, const ResolvedPath& r, Need need);
  Verdict deny_text(Call& n, const std::string& what, const std::string& why, int err = EACCES);
  // Opens an allowed target beneath its grant (O_PATH unless flags say
  // otherwise). Falls back to physical resolution when a symlink inside a
  // lexically chosen grant leads out of it (EXDEV). Returns 0 or an errno.
  int open_beneath(Call& n, ResolvedPath& r, Need need, uint64_t flags, mode_t mode,
                   uint64_t extra_resolve, UniqueFd& out);
  // After EXDEV beneath a lexically chosen grant: resolves `dir` (+ `name`)
  // physically and decides `need` again on the real target. 0 when allowed;
  // otherwise logs the denial (EACCES) or returns the resolution errno.
  int redecide_physical(Call& n, ResolvedPath& r, Need need, const std::string& dir,
                        const std::string& name, bool follow_last);
  // The steps every one-entry directory syscall starts with: resolve the
  // entry, decide `need`, open its parent beneath the grant, and confirm the
  // notification is pending. nullopt: act on parent/name; else the answer.
  std::optional<Verdict> enter_parent(Call& n, int dirfd, uint64_t addr, Need need, UniqueFd& parent,
                                      std::string& name);
  // The parent directory of a create/remove target, beneath its grant, and
  // the entry's name. Returns 0 or an errno.
  int open_parent(Call& n, ResolvedPath& r, Need need, UniqueFd& parent, std::string& name);
  // Resolves the parent of `addr` physically and decides `need` on the entry.
  int locate_entry(Call& n, int dirfd, uint64_t addr, Need need, ResolvedPath& out);
  // True while the notification is pending; call after the last guest read.
  bool still_pending(Call& n) { return channel_.id_valid(n.id); }
  // A duplicate of the guest's fd, and the kernel's name for it.
  int dup_guest_fd(Call& n, int fd, UniqueFd& out, std::string& target);
  // The same without the name, for objects decided by what they are (sockets).
  int dup_guest_fd(Call& n, int fd, UniqueFd& out);
  // The path an operation on a held descriptor is decided on, or "" when the
  // object is private to the guest: it has no path (pipe, socket, anon
  // inode) or is unlinked (a deleted file, O_TMPFILE, memfd). Unlinked is
  // read from the descriptor (st_nlink), never from the " (deleted)" the
  // kernel appends to the name: a file may really be called "x (deleted)".
  static std::string decidable_path(int dup, const std::string& name);
  // True when `fd` (opened by the broker) is a /proc entry of a process
  // outside the calling guest's thread group. The broker never opens those
  // for a guest: its own credentials would stand in for the kernel's
  // process-access checks (another process's environ, mem, fds; the
  // broker's own entries above all), which a CONTINUEd open meets in full.
  static bool foreign_proc_object(int fd, pid_t tid);
  // The refusal for one (EACCES, logged).
  Verdict refuse_foreign_proc(Call& n, const std::string& what);
  // Opens an entry of the guest's own tree (path_resolver.h) for reading
  // or by path, beneath its pinned process. 0 or an errno.
  static int open_own_proc(const OwnProcEntry& e, uint64_t flags, UniqueFd& out);
  // Resolve flags added beneath grant `g`: a grant that holds /proc (that
  // is, /) is walked with no symlink at all, since the walk the decision
  // rests on already resolved them and /proc/self beneath it would mean
  // the broker.
  static uint64_t beneath_resolve(const Grant& g);

  const StorageCaps& caps_;
  const NetCaps& net_;
  const GrantRoots& roots_;
  NotifyChannel& channel_;
  GuestMemory& memory_;
  AsyncOps& async_;
  spdlog::logger& log_;
  std::unique_ptr<DecisionLog> own_decisions_;  // when the caller passed none
  DecisionLog& decisions_;
  HandlerOptions options_;
  PathResolver resolver_;
};

}  // namespace wwjail
