#include "shim/syscall_rules.h"

#include <linux/sched.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "shim/ioctl_allowlist.h"
#include "sys/kernel_abi.h"

namespace wwjail {
namespace {

// Plain register-only syscalls: memory, time, fd I/O on descriptors the guest
// already holds, identity queries, signals handling within the process.
// Socket calls on descriptors the guest holds (accept, recv, shutdown, ...)
// are here; every call that carries or implies an address is notified.
const char* const kAllowed[] = {
    "read", "write", "close", "poll", "lseek", "mmap", "mprotect", "munmap", "brk",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "pread64", "pwrite64", "readv", "writev",
    "pipe", "select", "sched_yield", "mremap", "msync", "mincore", "madvise", "shmget", "shmat",
    "shmctl", "dup", "dup2", "pause", "nanosleep", "getitimer", "alarm", "setitimer", "getpid",
    "sendfile", "accept", "recvfrom", "recvmsg",
    "shutdown", "getsockname", "getpeername", "socketpair",
    "getsockopt", "fork", "vfork", "exit", "wait4", "uname", "semget", "semop", "semctl", "shmdt",
    "msgget", "msgsnd", "msgrcv", "msgctl", "fcntl", "flock", "fsync", "fdatasync", "ftruncate",
    "getdents", "getcwd", "umask", "gettimeofday", "getrlimit", "getrusage", "sysinfo", "times",
    "getuid", "getgid", "geteuid", "getegid", "getppid", "getpgrp", "setsid",
    "getgroups", "getresuid",
    "getresgid", "getpgid", "getsid", "capget", "rt_sigpending",
    "rt_sigtimedwait", "rt_sigsuspend", "sigaltstack", "fstatfs", "getpriority",
    "sched_getparam", "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "mlock", "munlock", "mlockall", "munlockall", "prctl", "arch_prctl",
    "setrlimit", "sync", "gettid", "readahead", "fgetxattr", "flistxattr", "time", "futex",
    "sched_getaffinity", "io_setup", "io_destroy", "io_getevents", "io_submit", "io_cancel",
    "epoll_create", "remap_file_pages", "getdents64", "set_tid_address", "restart_syscall",
    "semtimedop", "fadvise64", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "clock_gettime", "clock_getres", "clock_nanosleep",
    "exit_group", "epoll_wait", "epoll_ctl", "mbind", "set_mempolicy", "get_mempolicy",
    "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "waitid", "ioprio_get",
    "inotify_init", "inotify_rm_watch", "pselect6", "ppoll", "set_robust_list",
    "get_robust_list", "splice", "tee", "sync_file_range", "vmsplice", "epoll_pwait", "signalfd",
    "timerfd_create", "eventfd", "fallocate", "timerfd_settime", "timerfd_gettime", "accept4",
    "signalfd4", "eventfd2", "epoll_create1", "dup3", "pipe2", "inotify_init1", "preadv",
    "pwritev", "recvmmsg", "syncfs", "getcpu", "sched_getattr", "getrandom",
    "membarrier", "mlock2", "copy_file_range", "preadv2", "pwritev2",
    "pkey_mprotect", "pkey_alloc", "pkey_free", "io_pgetevents", "rseq",
    "close_range", "epoll_pwait2", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self", "futex_waitv", "set_mempolicy_home_node",
};

// Every syscall that names a path, or reaches a new filesystem object
// through a descriptor, goes to the broker.
const char* const kNotified[] = {
    "open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx", "access",
    // fstat: an O_PATH descriptor (which the broker cannot inject, so it is
    // opened by CONTINUE) must not become a way to stat what it names.
    "fstat",
    "faccessat", "faccessat2", "readlink", "readlinkat", "unlink", "unlinkat", "mkdir", "mkdirat",
    "mknod", "mknodat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
    "symlinkat", "chmod", "fchmodat", "fchmod", "chown", "lchown", "fchownat", "fchown",
    "truncate", "utime", "utimes", "futimesat", "utimensat", "execve", "execveat", "chdir",
    "fchdir", "statfs", "getxattr", "lgetxattr", "setxattr", "lsetxattr", "fsetxattr",
    "listxattr", "llistxattr", "removexattr", "lremovexattr", "fremovexattr",
    "inotify_add_watch",
    // Calls that carry a socket address, or bind one implicitly (listen).
    "bind", "connect", "listen", "sendmsg", "sendmmsg",
    // Calls that name another process: the target must be in the guest's tree.
    "pidfd_open", "setpgid", "sched_setaffinity", "sched_setparam", "sched_setscheduler",
    "sched_setattr", "ioprio_set",
    // Calls that change the caller's credentials: the kernel decides them,
    // the broker notes that guest identities must now be read per thread
    // (broker/guest_identity.h) and answers CONTINUE.
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "setgroups", "capset",
};

// Path calls that the view and Landlock decide together (FilterOptions::
// kernel_decides_files). Opens, creates, removes, renames and links are
// Landlock rights; stat, readlink, getxattr, statfs, chdir and inotify
// only reveal what exists, and in a view only grants exist. Not here, so
// still the broker's: chmod, chown, utimes and xattr writes (Landlock has
// no right for metadata), execve and execveat (an ELF interpreter is
// executable only through the programs that name it), and access (the
// kernel would answer from the mode bits alone, and X_OK would say yes to
// a program Landlock will not run).
const char* const kKernelDecided[] = {
    "open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx", "fstat",
    "readlink", "readlinkat", "unlink", "unlinkat", "mkdir", "mkdirat",
    "mknod", "mknodat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
    "symlinkat", "truncate", "chdir", "fchdir", "statfs", "getxattr", "lgetxattr", "listxattr",
    "llistxattr", "inotify_add_watch",
};

// Kernel-decided in a view only: without one they show what the grants do
// not (see FilterOptions::without_view).
const char* const kOnlyInView[] = {"getxattr", "lgetxattr", "listxattr", "llistxattr", "inotify_add_watch"};

const char* const kSignalling[] = {"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"};

struct Refusal {
  const char* name;
  int err;
};

// Escape classes from docs/SECURITY.md, refused outright.
const Refusal kRefused[] = {
    {"ptrace", EPERM}, {"process_vm_readv", EPERM}, {"process_vm_writev", EPERM},
    {"kcmp", EPERM}, {"pidfd_getfd", EPERM}, {"process_madvise", EPERM},
    {"process_mrelease", EPERM}, {"mount", EPERM}, {"umount2", EPERM}, {"pivot_root", EPERM},
    {"chroot", EPERM}, {"move_mount", EPERM}, {"open_tree", EPERM}, {"fsopen", EPERM},
    {"fsconfig", EPERM}, {"fsmount", EPERM}, {"fspick", EPERM}, {"mount_setattr", EPERM},
    {"unshare", EPERM}, {"setns", EPERM}, {"name_to_handle_at", EOPNOTSUPP},
    {"open_by_handle_at", EPERM}, {"bpf", EPERM}, {"perf_event_open", EPERM},
    {"userfaultfd", EPERM}, {"kexec_load", EPERM}, {"kexec_file_load", EPERM},
    {"init_module", EPERM}, {"finit_module", EPERM}, {"delete_module", EPERM},
    {"keyctl", EPERM}, {"add_key", EPERM}, {"request_key", EPERM},
    // io_uring operations never pass through seccomp; ENOSYS makes runtimes fall back.
    {"io_uring_setup", ENOSYS}, {"io_uring_enter", ENOSYS}, {"io_uring_register", ENOSYS},
    // clone3 hides its flags in memory the filter cannot read; libc falls back to clone.
    {"clone3", ENOSYS},
    {"acct", EPERM}, {"swapon", EPERM}, {"swapoff", EPERM}, {"reboot", EPERM},
    {"sethostname", EPERM}, {"setdomainname", EPERM}, {"iopl", EPERM}, {"ioperm", EPERM},
    {"settimeofday", EPERM}, {"clock_settime", EPERM}, {"clock_adjtime", EPERM},
    {"adjtimex", EPERM}, {"syslog", EPERM}, {"vhangup", EPERM}, {"quotactl", EPERM},
    {"quotactl_fd", EPERM}, {"lookup_dcookie", EPERM}, {"fanotify_init", EPERM},
    {"fanotify_mark", EPERM}, {"uselib", EPERM}, {"ustat", EPERM}, {"sysfs", EPERM},
    {"modify_ldt", EPERM}, {"mq_open", EPERM}, {"mq_unlink", EPERM}, {"migrate_pages", EPERM},
    {"move_pages", EPERM}, {"personality", EPERM}, {"nfsservctl", EPERM},
    // Secret memory lives on an internal mount Landlock does not check;
    // nothing a normal program needs, so no exec door to reason about.
    {"memfd_secret", ENOSYS},
};

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

}  // namespace

bool kernel_decided_in_view(const std::string& name) {
  for (const char* n : kKernelDecided) {
    if (name == n) return true;
  }
  return false;
}

bool kernel_decided_without_view(const std::string& name) {
  for (const char* n : kOnlyInView) {
    if (name == n) return false;
  }
  return kernel_decided_in_view(name);
}

int filter_variant(const FilterOptions& options) {
  int files = !options.kernel_decides_files ? 0 : options.without_view ? 2 : 1;
  return files * 2 + (options.landlock_scopes_signals ? 1 : 0);
}

FilterOptions filter_variant_options(int variant) {
  int files = variant / 2;
  return {.landlock_scopes_signals = (variant % 2) != 0, .kernel_decides_files = files != 0, .without_view = files == 2};
}

namespace {

void add_listed_rules(const FilterOptions& options, std::vector<SyscallRule>& rules) {
  for (const char* n : kAllowed) rules.push_back({n, -1, FilterAction::kAllow, 0, {}});
  for (const char* n : kNotified) {
    bool kernel = options.kernel_decides_files &&
                  (options.without_view ? kernel_decided_without_view(n) : kernel_decided_in_view(n));
    rules.push_back({n, -1, kernel ? FilterAction::kAllow : FilterAction::kNotify, 0, {}});
  }
  for (const char* n : kSignalling)
    rules.push_back({n, -1, options.landlock_scopes_signals ? FilterAction::kAllow : FilterAction::kNotify, 0, {}});
  // pidfd_send_signal names its target by a descriptor (a pidfd, or a
  // /proc/PID directory), which the broker would have to trace back to a
  // process: where Landlock scopes signals it decides; elsewhere callers
  // are told the call does not exist and fall back to kill.
  rules.push_back({"pidfd_send_signal", -1, options.landlock_scopes_signals ? FilterAction::kAllow : FilterAction::kErrno,
                   options.landlock_scopes_signals ? 0 : ENOSYS, {}});
  for (const auto& r : kRefused) {
    // personality is allowed for the harmless queries below; other personas
    // (READ_IMPLIES_EXEC, foreign ABIs) are refused.
    if (std::string_view(r.name) == "personality") continue;
    rules.push_back({r.name, -1, FilterAction::kErrno, r.err, {}});
  }
}

void add_new_syscall_rules(std::vector<SyscallRule>& rules) {
  // Syscalls newer than libseccomp 2.5.4, by x86_64 number.
  rules.push_back({"fchmodat2", 452, FilterAction::kErrno, ENOSYS, {}});  // libc falls back to fchmodat
  rules.push_back({"statmount", 457, FilterAction::kErrno, EPERM, {}});
  rules.push_back({"listmount", 458, FilterAction::kErrno, EPERM, {}});
  for (int nr = 463; nr <= 466; ++nr)  // *xattrat: struct arguments; libc falls back
    rules.push_back({"xattrat", nr, FilterAction::kErrno, ENOSYS, {}});
  rules.push_back({"open_tree_attr", 467, FilterAction::kErrno, EPERM, {}});
}

void add_clone_rules(std::vector<SyscallRule>& rules) {
  // clone: namespaces refused, everything else (threads, fork) allowed.
  rules.push_back({"clone", -1, FilterAction::kAllow, 0, {SCMP_A0_64(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0)}});
  for (uint64_t bit = 1; bit; bit <<= 1) {
    if (kNamespaceFlags & bit) rules.push_back({"clone", -1, FilterAction::kErrno, EPERM, {SCMP_A0_64(SCMP_CMP_MASKED_EQ, bit, bit)}});
  }
}

void add_ioctl_rules(std::vector<SyscallRule>& rules) {
  // ioctl: an allow-list of commands (shim/ioctl_allowlist.cc), compared on
  // the low 32 bits (the kernel takes the command as unsigned int, so a
  // command with garbage upper bits is that command). Every other command
  // goes to the broker, which refuses it with EPERM and logs it: the
  // filter cannot log a register decision itself.
  // libseccomp 2.5 orders the comparisons on one argument by operator
  // (MASKED_EQ/EQ/NE, then LT/LE, then GT/GE) and, within one operator, by
  // datum, largest first; the first that holds decides. An unconditional
  // rule (or a MASKED_EQ with mask 0, which libseccomp folds into one)
  // would shadow the conditional ones, so the catch-all is "A1 >= 0":
  // true for every value, and placed after every MASKED_EQ. Each listed
  // command is one BPF comparison (the all-ones mask is dropped).
  // tests/unit/seccomp_filter_test.cc sweeps commands and upper bits.
  for (const auto& c : allowed_ioctls())
    rules.push_back({"ioctl", -1, FilterAction::kAllow, 0, {SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, c.cmd)}});
  rules.push_back({"ioctl", -1, FilterAction::kNotify, 0, {SCMP_A1_64(SCMP_CMP_GE, 0)}});
}

void add_self_only_rules(std::vector<SyscallRule>& rules) {
  // seccomp: a guest may add filters (they only restrict it further) but
  // not a listener of its own, which could answer for it.
  rules.push_back({"seccomp", -1, FilterAction::kAllow, 0,
                   {SCMP_A1_64(SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0)}});
  rules.push_back({"seccomp", -1, FilterAction::kErrno, EBUSY,
                   {SCMP_A1_64(SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                               SECCOMP_FILTER_FLAG_NEW_LISTENER)}});

  // prlimit64 and setpriority on the caller itself need no check.
  rules.push_back({"prlimit64", -1, FilterAction::kAllow, 0, {SCMP_A0_32(SCMP_CMP_EQ, 0)}});
  rules.push_back({"prlimit64", -1, FilterAction::kNotify, 0, {SCMP_A0_32(SCMP_CMP_NE, 0)}});
  rules.push_back({"setpriority", -1, FilterAction::kAllow, 0, {SCMP_A0_32(SCMP_CMP_EQ, 0), SCMP_A1_32(SCMP_CMP_EQ, 0)}});
  rules.push_back({"setpriority", -1, FilterAction::kNotify, 0, {SCMP_A0_32(SCMP_CMP_NE, 0)}});
  rules.push_back({"setpriority", -1, FilterAction::kNotify, 0, {SCMP_A1_32(SCMP_CMP_NE, 0)}});
}

void add_socket_rules(std::vector<SyscallRule>& rules) {
  // socket: unix, and TCP/UDP over inet and inet6, plus netlink route
  // (libc asks it for the host's addresses). Raw and packet sockets build
  // their own headers, and the many other families are kernel surface no
  // guest needs; they fail (EPERM for raw inet, ENOSYS for the rest).
  rules.push_back({"socket", -1, FilterAction::kAllow, 0, {SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX)}});
  for (int family : {AF_INET, AF_INET6}) {
    for (int type : {SOCK_STREAM, SOCK_DGRAM})
      rules.push_back({"socket", -1, FilterAction::kAllow, 0,
                       {SCMP_A0_32(SCMP_CMP_EQ, static_cast<uint32_t>(family)), SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xf, type)}});
    rules.push_back({"socket", -1, FilterAction::kErrno, EPERM,
                     {SCMP_A0_32(SCMP_CMP_EQ, static_cast<uint32_t>(family)), SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)}});
  }
  rules.push_back({"socket", -1, FilterAction::kAllow, 0,
                   {SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2_32(SCMP_CMP_EQ, NETLINK_ROUTE)}});

  // setsockopt: everything but source routes. IP_OPTIONS can carry a loose
  // or strict source route and IPV6_RTHDR (and its RFC 2292 spelling) a
  // routing header; either makes the kernel send to the route's first hop,
  // an address no grant was asked about. The level and name are ints the
  // kernel truncates, so only their low 32 bits are compared (masked: an
  // SCMP_A*_32 comparison here still looks at all 64). The catch-all "A1 >= 0" comes
  // last in libseccomp's order (see the ioctl rules above).
  // IPV6_2292PKTOPTIONS sets sticky ancillary data, a routing header among
  // it, in one option.
  constexpr uint32_t kIpv6RthdrRfc2292 = 5;
  constexpr uint32_t kIpv6PktoptionsRfc2292 = 6;
  for (auto [level, name] : {std::pair<uint32_t, uint32_t>{IPPROTO_IP, IP_OPTIONS}, {IPPROTO_IPV6, IPV6_RTHDR},
                             {IPPROTO_IPV6, kIpv6RthdrRfc2292}, {IPPROTO_IPV6, kIpv6PktoptionsRfc2292}})
    rules.push_back({"setsockopt", -1, FilterAction::kErrno, EPERM, 
                     {SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, level), SCMP_A2_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, name)}});
  rules.push_back({"setsockopt", -1, FilterAction::kAllow, 0, {SCMP_A1_64(SCMP_CMP_GE, 0)}});

  // sendto on a connected socket (no address, no Fast Open) is plain
  // traffic; with an address it goes to the broker.
  rules.push_back({"sendto", -1, FilterAction::kAllow, 0,
                   {SCMP_A4_64(SCMP_CMP_EQ, 0), SCMP_A3_32(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0)}});
  rules.push_back({"sendto", -1, FilterAction::kNotify, 0, {SCMP_A4_64(SCMP_CMP_NE, 0)}});
  rules.push_back({"sendto", -1, FilterAction::kNotify, 0, {SCMP_A3_32(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN)}});
}

void add_memfd_and_personality_rules(std::vector<SyscallRule>& rules) {
  // memfd_create: a memfd that can never be executed needs no check; any
  // other is made by the broker with MFD_NOEXEC_SEAL added (see kernel_abi.h).
  rules.push_back({"memfd_create", -1, FilterAction::kAllow, 0,
                   {SCMP_A1_32(SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL | MFD_EXEC, MFD_NOEXEC_SEAL)}});
  rules.push_back({"memfd_create", -1, FilterAction::kNotify, 0,
                   {SCMP_A1_32(SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, 0)}});
  rules.push_back({"memfd_create", -1, FilterAction::kNotify, 0,
                   {SCMP_A1_32(SCMP_CMP_MASKED_EQ, MFD_EXEC, MFD_EXEC)}});

  // personality: queries and PER_LINUX (with ADDR_NO_RANDOMIZE) only.
  for (uint32_t p : {0xffffffffu, 0x0u, 0x0040000u})
    rules.push_back({"personality", -1, FilterAction::kAllow, 0, {SCMP_A0_32(SCMP_CMP_EQ, p)}});
}

}  // namespace

std::vector<SyscallRule> guest_syscall_rules(const FilterOptions& options) {
  std::vector<SyscallRule> rules;
  add_listed_rules(options, rules);
  add_new_syscall_rules(rules);
  add_clone_rules(rules);
  add_ioctl_rules(rules);
  add_self_only_rules(rules);
  add_socket_rules(rules);
  add_memfd_and_personality_rules(rules);
  return rules;
}

}  // namespace wwjail
