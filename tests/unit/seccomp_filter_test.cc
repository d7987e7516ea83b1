// The compiled guest filter, evaluated in userspace: table-driven checks of
// what the kernel will answer for each syscall, arch and argument.
#include "shim/seccomp_filter.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <map>
#include <set>

#include "bpf_eval.h"
#include "shim/ioctl_allowlist.h"
#include "shim/precompiled_filter.h"
#include "shim/syscall_rules.h"

namespace wwjail {
namespace {

constexpr uint32_t kX32Bit = 0x40000000;

class Filter : public ::testing::TestWithParam<bool> {
 protected:
  Filter() : filter_(compile_guest_filter(guest_syscall_rules({GetParam()}))) {}
  uint32_t eval(int nr, std::initializer_list<uint64_t> args = {}, uint32_t arch = AUDIT_ARCH_X86_64) {
    seccomp_data d{};
    d.nr = nr;
    d.arch = arch;
    int i = 0;
    for (uint64_t a : args) d.args[i++] = a;
    return testing::run_bpf(filter_.program(), d);
  }
  CompiledFilter filter_;
};

uint32_t action(uint32_t ret) { return ret & SECCOMP_RET_ACTION_FULL; }
uint32_t errno_of(uint32_t ret) { return ret & SECCOMP_RET_DATA; }

TEST_P(Filter, PathSyscallsGoToTheBroker) {
  for (int nr : {SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_stat, SYS_lstat, SYS_newfstatat, SYS_statx,
                 SYS_access, SYS_faccessat, SYS_faccessat2, SYS_readlink, SYS_readlinkat, SYS_unlink, SYS_unlinkat,
                 SYS_mkdir, SYS_mkdirat, SYS_mknod, SYS_mknodat, SYS_rmdir, SYS_rename, SYS_renameat,
                 SYS_renameat2, SYS_link, SYS_linkat, SYS_symlink, SYS_symlinkat, SYS_chmod, SYS_fchmodat,
                 SYS_chown, SYS_lchown, SYS_fchownat, SYS_truncate, SYS_utime, SYS_utimes, SYS_utimensat,
                 SYS_futimesat, SYS_execve, SYS_execveat, SYS_chdir, SYS_fchdir, SYS_statfs, SYS_getxattr,
                 SYS_lgetxattr, SYS_setxattr, SYS_lsetxattr, SYS_listxattr, SYS_llistxattr, SYS_removexattr,
                 SYS_lremovexattr, SYS_inotify_add_watch, SYS_fstat, SYS_fchmod, SYS_fchown, SYS_fsetxattr,
                 SYS_fremovexattr}) {
    EXPECT_EQ(action(eval(nr)), SECCOMP_RET_USER_NOTIF) << "nr " << nr;
  }
}

TEST_P(Filter, PlainSyscallsNeverReachTheBroker) {
  for (int nr : {SYS_read, SYS_write, SYS_getppid, SYS_pread64, SYS_mmap, SYS_futex, SYS_close, SYS_exit_group})
    EXPECT_EQ(action(eval(nr)), SECCOMP_RET_ALLOW) << "nr " << nr;
}

TEST_P(Filter, EscapeClassesAreRefused) {
  struct Case {
    int nr;
    int err;
  } cases[] = {{SYS_ptrace, EPERM},         {SYS_process_vm_readv, EPERM}, {SYS_process_vm_writev, EPERM},
               {SYS_kcmp, EPERM},           {SYS_mount, EPERM},            {SYS_umount2, EPERM},
               {SYS_pivot_root, EPERM},     {SYS_unshare, EPERM},          {SYS_setns, EPERM},
               {SYS_open_by_handle_at, EPERM}, {SYS_name_to_handle_at, EOPNOTSUPP}, {SYS_bpf, EPERM},
               {SYS_perf_event_open, EPERM}, {SYS_userfaultfd, EPERM},     {SYS_kexec_load, EPERM},
               {SYS_init_module, EPERM},    {SYS_keyctl, EPERM},           {SYS_io_uring_setup, ENOSYS},
               {SYS_io_uring_enter, ENOSYS}, {SYS_io_uring_register, ENOSYS}, {SYS_clone3, ENOSYS},
               {SYS_chroot, EPERM},         {SYS_fsopen, EPERM},           {SYS_move_mount, EPERM},
               {SYS_pidfd_getfd, EPERM}};
  for (auto c : cases) {
    uint32_t r = eval(c.nr);
    EXPECT_EQ(action(r), SECCOMP_RET_ERRNO) << "nr " << c.nr;
    EXPECT_EQ(errno_of(r), static_cast<uint32_t>(c.err)) << "nr " << c.nr;
  }
}

TEST_P(Filter, UnknownAndFutureSyscallsAreRefused) {
  for (int nr : {500, 470, 1000}) {
    uint32_t r = eval(nr);
    EXPECT_EQ(action(r), SECCOMP_RET_ERRNO) << nr;
    EXPECT_EQ(errno_of(r), static_cast<uint32_t>(ENOSYS)) << nr;
  }
}

TEST_P(Filter, ForeignAbisNeverPass) {
  // i386 (int 0x80): the whole process is killed.
  EXPECT_EQ(action(eval(5 /* i386 open */, {}, AUDIT_ARCH_I386)), SECCOMP_RET_KILL_PROCESS);
  // x32 numbers share the x86_64 audit arch and must not be allowed or notified.
  for (int nr : {SYS_openat, SYS_read, SYS_getppid, SYS_execve}) {
    uint32_t r = action(eval(static_cast<int>(nr | kX32Bit)));
    EXPECT_NE(r, SECCOMP_RET_ALLOW) << nr;
    EXPECT_NE(r, SECCOMP_RET_USER_NOTIF) << nr;
  }
}

TEST_P(Filter, CloneWithNamespacesIsRefused) {
  EXPECT_EQ(action(eval(SYS_clone, {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(action(eval(SYS_clone, {SIGCHLD})), SECCOMP_RET_ALLOW);
  for (uint64_t ns : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC,
                      CLONE_NEWCGROUP}) {
    uint32_t r = eval(SYS_clone, {ns | SIGCHLD});
    EXPECT_EQ(action(r), SECCOMP_RET_ERRNO) << ns;
    EXPECT_EQ(errno_of(r), static_cast<uint32_t>(EPERM)) << ns;
  }
}

// ioctl commands by number, written out here (not taken from the allow-list)
// so that dropping one from shim/ioctl_allowlist.cc fails a test.
constexpr uint32_t kTcgets = 0x5401, kTcsetsw = 0x5403, kTiocgwinsz = 0x5413, kTiocsctty = 0x540e;  // tmux, script
constexpr uint32_t kFionread = 0x541b, kFionbio = 0x5421, kFioclex = 0x5451, kTiocgptn = 0x80045430;
constexpr uint32_t kSiocgifconf = 0x8912, kSiocgifindex = 0x8933, kFsIocGetflags = 0x80086601;
constexpr uint32_t kFiclone = 0x40049409, kFiclonerange = 0x4020940d, kFideduperange = 0xc0189436;
constexpr uint32_t kFsIocSetflags = 0x40086602, kFsIocSetversion = 0x40087602, kFsIocGetversion = 0x80087601;
constexpr uint32_t kFifreeze = 0xc0045877, kFithaw = 0xc0045878, kTiocsti = 0x5412, kTioclinux = 0x541c;
constexpr uint32_t kSiocaddrt = 0x890b, kSiocsifflags = 0x8914, kFsIocFssetxattr = 0x401c5820, kTiocexcl = 0x540c;

TEST(IoctlAllowList, NumbersMatchTheKernelHeaders) {
  EXPECT_EQ(kTcgets, static_cast<uint32_t>(TCGETS));
  EXPECT_EQ(kTiocgwinsz, static_cast<uint32_t>(TIOCGWINSZ));
  EXPECT_EQ(kTiocsctty, static_cast<uint32_t>(TIOCSCTTY));
  EXPECT_EQ(kFionread, static_cast<uint32_t>(FIONREAD));
  EXPECT_EQ(kFioclex, static_cast<uint32_t>(FIOCLEX));
  EXPECT_EQ(kTiocsti, static_cast<uint32_t>(TIOCSTI));
  EXPECT_EQ(kTioclinux, static_cast<uint32_t>(TIOCLINUX));
  EXPECT_STREQ(allowed_ioctl(kFsIocGetflags)->name, "FS_IOC_GETFLAGS");
  EXPECT_EQ(describe_ioctl(0xdead00000000ull | kFsIocSetflags), "0x40086602 FS_IOC_SETFLAGS");
  EXPECT_EQ(describe_ioctl(0x12345678), "0x12345678");
}

TEST_P(Filter, CommonIoctlsAreAllowedInTheFilter) {
  for (uint32_t cmd : {kTcgets, kTcsetsw, kTiocgwinsz, kTiocsctty, kFionread, kFionbio, kFioclex, kTiocgptn, kSiocgifconf,
                       kSiocgifindex, kFsIocGetflags, kFiclone, kFiclonerange, kFideduperange}) {
    EXPECT_EQ(action(eval(SYS_ioctl, {1, cmd})), SECCOMP_RET_ALLOW) << std::hex << cmd;
    // The kernel truncates the command to 32 bits; so does the filter.
    EXPECT_EQ(action(eval(SYS_ioctl, {1, 0xffffffff00000000ull | cmd})), SECCOMP_RET_ALLOW) << std::hex << cmd;
  }
  for (const auto& c : allowed_ioctls())
    EXPECT_EQ(action(eval(SYS_ioctl, {3, c.cmd, 0})), SECCOMP_RET_ALLOW) << c.name;
}

TEST_P(Filter, OtherIoctlsGoToTheBrokerToBeRefused) {
  // Inode and filesystem writes, terminal injection, network configuration:
  // never allowed by the filter, never the default ENOSYS either (the
  // broker answers EPERM and logs the command).
  for (uint32_t cmd : {kFsIocSetflags, kFsIocSetversion, kFsIocGetversion, kFifreeze, kFithaw, kTiocsti,
                       kTioclinux, kSiocaddrt, kSiocsifflags, kFsIocFssetxattr, kTiocexcl, 0u, 0xffffffffu}) {
    for (uint64_t high : {0ull, 0x100000000ull, 0xffffffff00000000ull})
      EXPECT_EQ(action(eval(SYS_ioctl, {3, high | cmd})), SECCOMP_RET_USER_NOTIF) << std::hex << (high | cmd);
  }
  // An allowed command in the upper half cannot carry a refused one.
  EXPECT_EQ(action(eval(SYS_ioctl, {3, (uint64_t{kTcgets} << 32) | kFsIocSetflags})), SECCOMP_RET_USER_NOTIF);
}

TEST_P(Filter, IoctlSweepLooksAtTheLow32BitsOnly) {
  // Whatever the upper register bits, the kernel sees the low 32 bits: the
  // filter's answer must be the allow-list's answer for them.
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  auto listed = allowed_ioctls();
  for (int i = 0; i < 30000; ++i) {
    uint64_t high = (next() >> 11) << 32;
    uint32_t low;
    switch (i % 5) {
      case 0: low = listed[next() % listed.size()].cmd; break;
      case 1: low = listed[next() % listed.size()].cmd ^ (1u << (next() % 32)); break;  // one bit off
      case 2: low = static_cast<uint32_t>(0x5400 + (next() & 0xff)); break;             // the tty range
      case 3: low = static_cast<uint32_t>(0x8900 + (next() & 0xff)); break;             // the socket range
      default: low = static_cast<uint32_t>(next()); break;
    }
    bool allowed = allowed_ioctl(low) != nullptr;
    EXPECT_EQ(action(eval(SYS_ioctl, {next(), high | low, next()})), allowed ? SECCOMP_RET_ALLOW : SECCOMP_RET_USER_NOTIF)
        << std::hex << (high | low);
  }
}

TEST_P(Filter, HotSyscallsCostFewInstructions) {
  // What the kernel runs for the calls every program makes: counted, never
  // timed. The syscall number is found by binary search, then ioctl scans
  // its allow-list (one comparison per command).
  auto steps_for = [&](int nr, std::initializer_list<uint64_t> args) {
    seccomp_data d{};
    d.nr = nr;
    d.arch = AUDIT_ARCH_X86_64;
    int i = 0;
    for (uint64_t a : args) d.args[i++] = a;
    size_t steps = 0;
    testing::run_bpf(filter_.program(), d, &steps);
    return steps;
  };
  for (int nr : {SYS_read, SYS_write, SYS_futex, SYS_epoll_wait, SYS_openat, SYS_close, SYS_mmap})
    EXPECT_LE(steps_for(nr, {}), 30u) << "nr " << nr;
  for (uint32_t cmd : {kTcgets, kTiocgwinsz, kFionread, kFsIocSetflags})
    EXPECT_LE(steps_for(SYS_ioctl, {1, cmd}), 100u) << std::hex << cmd;
  EXPECT_LE(filter_.program().size(), 800u);
}

TEST_P(Filter, NoNestedListeners) {
  EXPECT_EQ(action(eval(SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0})), SECCOMP_RET_ALLOW);
  uint32_t r = eval(SYS_seccomp, {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER});
  EXPECT_EQ(action(r), SECCOMP_RET_ERRNO);
  EXPECT_EQ(errno_of(r), static_cast<uint32_t>(EBUSY));
}

TEST_P(Filter, SignalsAreScopedOrChecked) {
  uint32_t expected = GetParam() ? SECCOMP_RET_ALLOW : SECCOMP_RET_USER_NOTIF;
  for (int nr : {SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo})
    EXPECT_EQ(action(eval(nr, {1, 9})), expected) << nr;
  EXPECT_EQ(action(eval(SYS_prlimit64, {0})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(action(eval(SYS_prlimit64, {1})), SECCOMP_RET_USER_NOTIF);
  // A pidfd (or a /proc/PID directory) names the target: only Landlock's
  // scoping decides it; unscoped, the call is refused as absent.
  uint32_t pidfd = eval(SYS_pidfd_send_signal, {3, 9, 0, 0});
  if (GetParam()) {
    EXPECT_EQ(action(pidfd), SECCOMP_RET_ALLOW);
  } else {
    EXPECT_EQ(action(pidfd), SECCOMP_RET_ERRNO);
    EXPECT_EQ(errno_of(pidfd), static_cast<uint32_t>(ENOSYS));
  }
}

TEST_P(Filter, OnlyUnixInetAndNetlinkRouteSockets) {
  for (uint64_t type : {uint64_t{SOCK_STREAM}, uint64_t{SOCK_DGRAM}, uint64_t{SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC}}) {
    EXPECT_EQ(action(eval(SYS_socket, {AF_INET, type, 0})), SECCOMP_RET_ALLOW) << type;
    EXPECT_EQ(action(eval(SYS_socket, {AF_INET6, type, 0})), SECCOMP_RET_ALLOW) << type;
  }
  EXPECT_EQ(action(eval(SYS_socket, {AF_UNIX, SOCK_SEQPACKET, 0})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(action(eval(SYS_socket, {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE})), SECCOMP_RET_ALLOW);
  uint32_t raw = eval(SYS_socket, {AF_INET, SOCK_RAW, IPPROTO_ICMP});
  EXPECT_EQ(action(raw), SECCOMP_RET_ERRNO);
  EXPECT_EQ(errno_of(raw), static_cast<uint32_t>(EPERM));
  EXPECT_EQ(action(eval(SYS_socket, {AF_INET6, SOCK_RAW | SOCK_CLOEXEC, 0})), SECCOMP_RET_ERRNO);
  for (uint64_t family : {uint64_t{AF_PACKET}, uint64_t{AF_ALG}, uint64_t{AF_VSOCK}, uint64_t{AF_BLUETOOTH}, uint64_t{AF_KEY}})
    EXPECT_EQ(action(eval(SYS_socket, {family, SOCK_DGRAM, 0})), SECCOMP_RET_ERRNO) << family;
  EXPECT_EQ(action(eval(SYS_socket, {AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */})), SECCOMP_RET_ERRNO);
  // Upper register bits of the family cannot smuggle another family in.
  EXPECT_NE(action(eval(SYS_socket, {0x100000000ull | AF_PACKET, SOCK_DGRAM, 0})), SECCOMP_RET_ALLOW);
}

TEST_P(Filter, NoSourceRoutesOnSockets) {
  // IP_OPTIONS can carry a loose or strict source route, and IPV6_RTHDR a
  // routing header: the kernel then sends to the route's first hop, an
  // address no grant was asked about. Refused in the filter, on registers.
  auto refused = [&](uint64_t level, uint64_t name) {
    uint32_t r = eval(SYS_setsockopt, {3, level, name, 0x1000, 8});
    return action(r) == SECCOMP_RET_ERRNO && errno_of(r) == static_cast<uint32_t>(EPERM);
  };
  EXPECT_TRUE(refused(IPPROTO_IP, IP_OPTIONS));
  EXPECT_TRUE(refused(IPPROTO_IPV6, IPV6_RTHDR));
  EXPECT_TRUE(refused(IPPROTO_IPV6, 5 /* IPV6_2292RTHDR */));
  EXPECT_TRUE(refused(IPPROTO_IPV6, 6 /* IPV6_2292PKTOPTIONS: sticky ancillary data, a routing header too */));
  EXPECT_TRUE(refused(0xffffffff00000000ull | IPPROTO_IP, 0xffffffff00000000ull | IP_OPTIONS)) << "upper bits";
  // Control: everyday options pass without the broker.
  for (auto [level, name] : std::initializer_list<std::pair<uint64_t, uint64_t>>{
           {SOL_SOCKET, SO_REUSEADDR}, {IPPROTO_TCP, 1 /* TCP_NODELAY */}, {IPPROTO_IP, IP_TOS},
           {IPPROTO_IPV6, IPV6_V6ONLY}, {IPPROTO_IP, IP_PKTINFO}, {IPPROTO_UDP, 1}, {SOL_SOCKET, SO_BROADCAST}})
    EXPECT_EQ(action(eval(SYS_setsockopt, {3, level, name, 0x1000, 4})), SECCOMP_RET_ALLOW) << level << " " << name;
}

TEST_P(Filter, OnlyHarmlessPersonalities) {
  EXPECT_EQ(action(eval(SYS_personality, {0xffffffff})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(action(eval(SYS_personality, {0})), SECCOMP_RET_ALLOW);
  EXPECT_NE(action(eval(SYS_personality, {0x0400000 /* READ_IMPLIES_EXEC */})), SECCOMP_RET_ALLOW);
}

INSTANTIATE_TEST_SUITE_P(LandlockScopesSignals, Filter, ::testing::Bool());

TEST(SyscallRules, PrecompiledFilterMatchesTheRules) {
  for (int variant = 0; variant < kFilterVariants; ++variant) {
    FilterOptions options = filter_variant_options(variant);
    ASSERT_EQ(filter_variant(options), variant);
    auto fresh = compile_guest_filter(guest_syscall_rules(options));
    auto built = precompiled_guest_filter(options);
    ASSERT_EQ(fresh.program().size(), built.program().size()) << variant;
    for (size_t i = 0; i < fresh.program().size(); ++i) {
      EXPECT_EQ(fresh.program()[i].code, built.program()[i].code) << i;
      EXPECT_EQ(fresh.program()[i].k, built.program()[i].k) << i;
      EXPECT_EQ(fresh.program()[i].jt, built.program()[i].jt) << i;
      EXPECT_EQ(fresh.program()[i].jf, built.program()[i].jf) << i;
    }
  }
  EXPECT_STREQ(native_syscall_name(SYS_openat), "openat");
}

// In a view the kernel decides opens and the stat family; the broker keeps
// what Landlock has no right for (metadata writes) and exec.
TEST(SyscallRules, AViewMovesOnlyKernelDecidedCallsToTheKernel) {
  std::map<std::string, FilterAction> mediated, view;
  for (const auto& r : guest_syscall_rules({})) {
    if (r.when.empty()) mediated[r.name] = r.action;
  }
  for (const auto& r : guest_syscall_rules({.kernel_decides_files = true})) {
    if (r.when.empty()) view[r.name] = r.action;
  }
  for (const char* n : {"openat", "newfstatat", "fstat", "statx", "readlink", "unlinkat", "renameat2", "chdir"}) {
    EXPECT_EQ(mediated[n], FilterAction::kNotify) << n;
    EXPECT_EQ(view[n], FilterAction::kAllow) << n;
  }
  for (const char* n : {"execve", "execveat", "fchmodat", "fchownat", "utimensat", "setxattr", "fsetxattr",
                        "connect", "bind", "sendmsg", "pidfd_open"})
    EXPECT_EQ(view[n], FilterAction::kNotify) << n;
  for (const auto& [name, action] : view) {
    if (action != mediated[name]) {
      EXPECT_TRUE(kernel_decided_in_view(name)) << name;
    }
  }
}

// Without a view everything outside the grants exists: xattr values and
// inotify's names stay the broker's, stat and readlink go to the kernel.
TEST(SyscallRules, WithoutAViewOnlyMetadataAndLandlocksCallsGoToTheKernel) {
  std::map<std::string, FilterAction> no_view;
  for (const auto& r : guest_syscall_rules({.kernel_decides_files = true, .without_view = true})) {
    if (r.when.empty()) no_view[r.name] = r.action;
  }
  for (const char* n : {"getxattr", "lgetxattr", "listxattr", "llistxattr", "inotify_add_watch"})
    EXPECT_EQ(no_view[n], FilterAction::kNotify) << n;
  for (const char* n : {"openat", "newfstatat", "statx", "readlink", "unlinkat", "chdir"})
    EXPECT_EQ(no_view[n], FilterAction::kAllow) << n;
}

TEST(SyscallRules, NoSyscallIsBothAllowedAndNotifiedUnconditionally) {
  std::set<std::string> allowed, notified;
  for (const auto& r : guest_syscall_rules({false})) {
    if (!r.when.empty()) continue;
    if (r.action == FilterAction::kAllow) allowed.insert(r.name);
    if (r.action == FilterAction::kNotify) notified.insert(r.name);
  }
  for (const auto& n : notified) EXPECT_EQ(allowed.count(n), 0u) << n;
}

}  // namespace
}  // namespace wwjail
