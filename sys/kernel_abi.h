// Kernel interfaces newer than the build machine's headers, and raw syscalls
// glibc does not wrap. Debian 12 ships linux-libc-dev 6.1; the machines we run
// on are newer, so every constant added after 6.1 is defined here with the
// kernel version that introduced it, and its presence is probed at run time.
#pragma once

#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

// Linux 6.6: the supervisor asks the kernel to wake it on the same CPU as the
// guest thread that raised the notification, cutting a notify round trip.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

// Linux 6.2 (Landlock ABI 3): truncate(2), ftruncate of files opened here,
// and O_TRUNC become a separate right. Before ABI 3 truncation is unchecked.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
// Linux 6.10 (Landlock ABI 5): ioctl on character/block devices.
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

// Linux 6.15 (Landlock ABI 7): landlock_restrict_self flag. Without it the
// kernel writes audit records of a domain's denials only until the next
// execve, so none for the program the guest runs; with it, every denial of
// the guest's domain reaches the audit log (where audit is enabled: records
// go to auditd, `ausearch -m LANDLOCK_ACCESS`). Older kernels answer EINVAL.
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#endif

// Linux 6.3: memfd_create flags. MFD_NOEXEC_SEAL makes the memfd
// non-executable for good (mode bits cleared, F_SEAL_EXEC set); MFD_EXEC asks
// for an executable one. Landlock does not check files on internal mounts
// such as memfd's, so an executable memfd is a way to exec code no exec grant
// covers (a path swapped to /proc/self/fd/N after the broker decided).
#ifndef MFD_EXEC
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif

namespace wwjail::kernel {

inline int openat2(int dirfd, const char* path, const open_how& how) {
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}
inline int pidfd_open(pid_t pid, unsigned flags = 0) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
inline int pidfd_getfd(int pidfd, int targetfd) {
  return static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, targetfd, 0));
}
inline int seccomp(unsigned op, unsigned flags, void* args) {
  return static_cast<int>(::syscall(SYS_seccomp, op, flags, args));
}
inline int landlock_create_ruleset(const landlock_ruleset_attr* attr, size_t size, uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}
inline int landlock_add_rule(int ruleset, landlock_rule_type type, const void* attr, uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_add_rule, ruleset, type, attr, flags));
}
inline int landlock_restrict_self(int ruleset, uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_restrict_self, ruleset, flags));
}
// Landlock ABI version, or 0 where Landlock is off or absent.
inline int landlock_abi() {
  int v = landlock_create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v < 0 ? 0 : v;
}

}  // namespace wwjail::kernel
