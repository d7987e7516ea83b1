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

 private:
  Verdict dispatch(const seccomp_notif& n);
  // Families (one file each).
  // may_continue: false when the kernel must not redo the open (openat2,
  // whose open_how lives in guest memory).
  Verdict on_open(const seccomp_notif& n, int dirfd, uint64_t path_addr, uint64_t flags, uint64_t mode,
                  uint64_t resolve, bool may_continue = true);
  Verdict on_openat2(const seccomp_notif& n);
  // memfd_create without MFD_NOEXEC_SEAL: made here, never executable.
  Verdict on_memfd_create(const seccomp_notif& n);
  Verdict emulate_opath(const seccomp_notif& n, ResolvedPath& r, uint64_t flags);
  // Reopens the inode behind `held` (an O_PATH fd the broker opened and
  // decided on) with `flags`, or, for an O_PATH request, read-only.
  Verdict reopen_held(const seccomp_notif& n, const UniqueFd& held, uint64_t flags, bool cloexec, bool opath);
  // openat2 with RESOLVE_BENEATH / RESOLVE_IN_ROOT: walked by the kernel
  // with the guest's own flags, then decided and reopened.
  Verdict open_in_guest_root(const seccomp_notif& n, int dirfd, const std::string& raw, const open_how& how);
  Verdict on_stat(const seccomp_notif& n, int dirfd, uint64_t path_addr, uint64_t buf, int flags, bool statx,
                  unsigned statx_mask);
  Verdict on_access(const seccomp_notif& n, int dirfd, uint64_t path_addr, int mode, int flags);
  Verdict on_readlink(const seccomp_notif& n, int dirfd, uint64_t path_addr, uint64_t buf, uint64_t size);
  Verdict on_statfs(const seccomp_notif& n, uint64_t path_addr, uint64_t buf);
  Verdict on_chmod(const seccomp_notif& n, int dirfd, uint64_t path_addr, mode_t mode);
  Verdict on_chown(const seccomp_notif& n, int dirfd, uint64_t path_addr, uid_t uid, gid_t gid, int flags);
  Verdict on_fd_meta(const seccomp_notif& n);  // fchmod, fchown, fsetxattr, fremovexattr
  Verdict on_truncate(const seccomp_notif& n, uint64_t path_addr, off_t length);
  Verdict on_utimes(const seccomp_notif& n, int dirfd, uint64_t path_addr, uint64_t times, int flags, int kind);
  Verdict on_xattr(const seccomp_notif& n);
  Verdict on_mkdir(const seccomp_notif& n, int dirfd, uint64_t path_addr, mode_t mode);
  Verdict on_mknod(const seccomp_notif& n, int dirfd, uint64_t path_addr, mode_t mode);
  Verdict on_unlink(const seccomp_notif& n, int dirfd, uint64_t path_addr, int flags);
  Verdict on_rename(const seccomp_notif& n, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                    unsigned flags);
  Verdict on_link(const seccomp_notif& n, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, int flags);
  Verdict on_symlink(const seccomp_notif& n, uint64_t target, int newdirfd, uint64_t linkpath);
  Verdict on_exec(const seccomp_notif& n, int dirfd, uint64_t path_addr, int flags);
  Verdict on_chdir(const seccomp_notif& n, bool by_fd);
  Verdict on_inotify_add_watch(const seccomp_notif& n);
  Verdict on_pid_target(const seccomp_notif& n);
  // set*id, setgroups, capset: noted (identities are read from /proc from
  // then on) and left to the kernel.
  Verdict on_credentials_change(const seccomp_notif& n);
  Verdict on_ioctl(const seccomp_notif& n);  // handlers_ioctl.cc: commands off the allow-list
  // Network (handlers_net.cc).
  struct SocketKind {
    int domain = 0;
    int type = 0;
    Transport transport = Transport::kTcp;
  };
  Verdict on_bind(const seccomp_notif& n);
  Verdict on_connect(const seccomp_notif& n);
  Verdict on_listen(const seccomp_notif& n);
  Verdict on_sendto(const seccomp_notif& n);
  Verdict on_sendmsg(const seccomp_notif& n);
  Verdict on_sendmmsg(const seccomp_notif& n);
  int dup_socket(const seccomp_notif& n, int fd, UniqueFd& dup, SocketKind& kind);
  int copy_sockaddr(const seccomp_notif& n, uint64_t addr, uint64_t len, sockaddr_storage& out, socklen_t& out_len);
  // The decision form of a copied address; unix paths resolved against the
  // guest's cwd (bind: last component not followed).
  int socket_target(const seccomp_notif& n, const SocketKind& kind, const sockaddr_storage& sa, socklen_t len,
                    bool binding, NetTarget& t);
  // Decides where a send goes; a unix path is rewritten to its pinned inode
  // (kept open in `held`).
  int check_destination(const seccomp_notif& n, const SocketKind& kind, sockaddr_storage& sa, socklen_t& len,
                        NetTarget& t, NetDecision& d, std::vector<UniqueFd>& held);
  int pin_unix_peer(const NetTarget& t, sockaddr_storage& sa, socklen_t& len, UniqueFd& pinned);
  // Copies a msghdr and everything it points to into `m`; SCM_RIGHTS fds
  // become the broker's duplicates, held by `m`. EACCES: `*denial` holds
  // the logged answer.
  int copy_message(const seccomp_notif& n, uint64_t msg_addr, const SocketKind& kind, AsyncOps::OwnedMessage& m,
                   Verdict* denial);
  // Sends `m` on our duplicate: at once if it fits, else through the ring.
  Verdict send_owned(const seccomp_notif& n, std::shared_ptr<UniqueFd> sock, std::shared_ptr<AsyncOps::OwnedMessage> m,
                     int flags);
  Verdict deny_net(const seccomp_notif& n, const NetTarget& t, const NetDecision& d);

  // Decisions. decide() is caps_.decide plus note(): every storage
  // decision a handler acts on goes through one of them, so allowed and
  // audited ones reach the DecisionLog (denials are logged by deny*).
  Decision decide(std::string_view path, Need need);
  void note(std::string_view path, Need need, const Decision& d);
  NetDecision note_net(const NetTarget& t, NetDecision d, bool bind);
  // resolver_.resolve / resolve_absolute plus note() of the result.
  int resolve_noted(pid_t pid, int dirfd, std::string_view raw, bool follow_last, Need need, ResolvedPath& out);
  int resolve_absolute_noted(pid_t pid, std::string joined, bool follow_last, Need need, ResolvedPath& out);
  // Logs what this notification's handler noted, with the verdict's errno.
  void flush_notes(const seccomp_notif& n, const Verdict& v);
  // Completes `ev` with the notification's pid and syscall and logs it.
  void record(const seccomp_notif& n, DecisionEvent& ev);
  // Logs `ev` as a denial and answers its errno.
  Verdict refuse(const seccomp_notif& n, DecisionEvent ev);

  // Shared steps.
  // Copies a path argument; 0 or an errno.
  int copy_path(const seccomp_notif& n, uint64_t addr, std::string& out);
  // copy_path + resolve. 0 or an errno; a denial is in out.decision.
  int locate(const seccomp_notif& n, int dirfd, uint64_t addr, bool follow_last, Need need, ResolvedPath& out);
  // Logs the denial and returns EACCES.
  Verdict deny(const seccomp_notif& n, const ResolvedPath& r, Need need);
  Verdict deny_text(const seccomp_notif& n, const std::string& what, const std::string& why, int err = EACCES);
  // Opens an allowed target beneath its grant (O_PATH unless flags say
  // otherwise). Falls back to physical resolution when a symlink inside a
  // lexically chosen grant leads out of it (EXDEV). Returns 0 or an errno.
  int open_beneath(const seccomp_notif& n, ResolvedPath& r, Need need, uint64_t flags, mode_t mode,
                   uint64_t extra_resolve, UniqueFd& out);
  // After EXDEV beneath a lexically chosen grant: resolves `dir` (+ `name`)
  // physically and decides `need` again on the real target. 0 when allowed;
  // otherwise logs the denial (EACCES) or returns the resolution errno.
  int redecide_physical(const seccomp_notif& n, ResolvedPath& r, Need need, const std::string& dir,
                        const std::string& name, bool follow_last);
  // The steps every one-entry directory syscall starts with: resolve the
  // entry, decide `need`, open its parent beneath the grant, and confirm the
  // notification is pending. nullopt: act on parent/name; else the answer.
  std::optional<Verdict> enter_parent(const seccomp_notif& n, int dirfd, uint64_t addr, Need need, UniqueFd& parent,
                                      std::string& name);
  // The parent directory of a create/remove target, beneath its grant, and
  // the entry's name. Returns 0 or an errno.
  int open_parent(const seccomp_notif& n, ResolvedPath& r, Need need, UniqueFd& parent, std::string& name);
  // Resolves the parent of `addr` physically and decides `need` on the entry.
  int locate_entry(const seccomp_notif& n, int dirfd, uint64_t addr, Need need, ResolvedPath& out);
  // True while the notification is pending; call after the last guest read.
  bool still_pending(const seccomp_notif& n) { return channel_.id_valid(n.id); }
  // A duplicate of the guest's fd, and the kernel's name for it.
  int dup_guest_fd(const seccomp_notif& n, int fd, UniqueFd& out, std::string& target);
  // The same without the name, for objects decided by what they are (sockets).
  int dup_guest_fd(const seccomp_notif& n, int fd, UniqueFd& out);
  // The path an operation on a held descriptor is decided on, or "" when the
  // object is private to the guest: it has no path (pipe, socket, anon
  // inode) or is unlinked (a deleted file, O_TMPFILE, memfd). Unlinked is
  // read from the descriptor (st_nlink), never from the " (deleted)" the
  // kernel appends to the name: a file may really be called "x (deleted)".
  static std::string decidable_path(int dup, const std::string& name);

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
  // Decisions noted while handling the current notification.
  struct Noted {
    std::string target;
    Need need = Need::kStat;
    bool storage = true;
    bool bind = false;
    DecisionKind kind = DecisionKind::kAllow;
    const Grant* grant = nullptr;
    const NetGrant* net_grant = nullptr;
    std::string missing;
  };
  std::vector<Noted> noted_;
};

}  // namespace wwjail
