// The handler of every notified syscall (see shim/syscall_rules.cc for
// which), as free functions over one call and the services (broker/call.h,
// broker/services.h); broker/syscall_handlers.cc routes to them.
//
// Each handler: copies its arguments out of guest memory once, resolves the
// path (broker/path_resolver.h), asks StorageCaps::decide, confirms the
// notification is still pending (Call::pending), then either performs the
// operation itself beneath the grant's pinned directory or, for opens and
// execs that Landlock enforces identically, answers CONTINUE.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "broker/call.h"
#include "broker/services.h"
#include "broker/verdict.h"

namespace wwjail {

// Opens (broker/handlers/open.cc). may_continue: false when the kernel must not
// redo the open (openat2, whose open_how lives in guest memory).
Verdict on_open(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t flags, uint64_t mode,
                uint64_t resolve, bool may_continue = true);
Verdict on_openat2(Call& n, const Services& s);
// memfd_create without MFD_NOEXEC_SEAL: made here, never executable.
Verdict on_memfd_create(Call& n, const Services& s);

// Metadata (broker/handlers/meta.cc).
Verdict on_stat(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t buf, int flags, bool statx,
                unsigned statx_mask);
Verdict on_access(Call& n, const Services& s, int dirfd, uint64_t path_addr, int mode, int flags);
Verdict on_readlink(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t buf, uint64_t size);
Verdict on_statfs(Call& n, const Services& s, uint64_t path_addr, uint64_t buf);
Verdict on_chmod(Call& n, const Services& s, int dirfd, uint64_t path_addr, mode_t mode);
Verdict on_chown(Call& n, const Services& s, int dirfd, uint64_t path_addr, uid_t uid, gid_t gid, int flags);
Verdict on_fd_meta(Call& n, const Services& s);  // fchmod, fchown, fsetxattr, fremovexattr
Verdict on_truncate(Call& n, const Services& s, uint64_t path_addr, off_t length);
// kind 0: utime(utimbuf), 1: utimes/futimesat(timeval[2]), 2: utimensat(timespec[2]).
Verdict on_utimes(Call& n, const Services& s, int dirfd, uint64_t path_addr, uint64_t times, int flags, int kind);
Verdict on_xattr(Call& n, const Services& s);

// Directory entries (broker/handlers/dirent.cc).
Verdict on_mkdir(Call& n, const Services& s, int dirfd, uint64_t path_addr, mode_t mode);
Verdict on_mknod(Call& n, const Services& s, int dirfd, uint64_t path_addr, mode_t mode);
Verdict on_unlink(Call& n, const Services& s, int dirfd, uint64_t path_addr, int flags);
Verdict on_rename(Call& n, const Services& s, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                  unsigned flags);
Verdict on_link(Call& n, const Services& s, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                int flags);
Verdict on_symlink(Call& n, const Services& s, uint64_t target, int newdirfd, uint64_t linkpath);

// Processes (broker/handlers/process.cc).
Verdict on_exec(Call& n, const Services& s, int dirfd, uint64_t path_addr, int flags);
Verdict on_chdir(Call& n, const Services& s, bool by_fd);
Verdict on_inotify_add_watch(Call& n, const Services& s);
Verdict on_pid_target(Call& n, const Services& s);
// set*id, setgroups, capset: noted (identities are read from /proc from
// then on) and left to the kernel.
Verdict on_credentials_change(Call& n, const Services& s);
// ioctl commands off the allow-list (broker/handlers/ioctl.cc).
Verdict on_ioctl(Call& n, const Services& s);

// Network (broker/handlers/net.cc).
Verdict on_bind(Call& n, const Services& s);
Verdict on_connect(Call& n, const Services& s);
Verdict on_listen(Call& n, const Services& s);
Verdict on_sendto(Call& n, const Services& s);
Verdict on_sendmsg(Call& n, const Services& s);
Verdict on_sendmmsg(Call& n, const Services& s);

}  // namespace wwjail
