#include "shim/landlock_ruleset.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

// landlock_ruleset_attr as of ABI 6; the kernel accepts any prefix whose
// size it knows, so older kernels are given the 8- or 16-byte head.
struct RulesetAttrV6 {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // Linux 6.12, ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;              // Linux 6.12, ABI 6
constexpr uint64_t kNetBindTcp = 1ULL << 0;                // Linux 6.7, ABI 4
constexpr uint64_t kNetConnectTcp = 1ULL << 1;

constexpr uint64_t kFileOnlyRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                     LANDLOCK_ACCESS_FS_IOCTL_DEV;

uint64_t handled_for_abi(int abi) {
  uint64_t h = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) h |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) h |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return h;
}

}  // namespace

uint64_t landlock_rights_for(uint8_t rights, bool directory, bool read_only_mount) {
  uint64_t r = 0;
  if (rights & kRead) r |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  if ((rights & kRead) && read_only_mount) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (rights & kExec) r |= LANDLOCK_ACCESS_FS_EXECUTE;
  if (rights & kWrite) {
    // Never MAKE_CHAR or MAKE_BLOCK: device nodes are refused everywhere.
    r |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
         LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
         LANDLOCK_ACCESS_FS_REFER;
  }
  // ioctl on granted devices (/dev/null and friends, a granted tty).
  if (rights & (kRead | kWrite)) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  if (!directory) r &= kFileOnlyRights;
  return r;
}

LandlockRuleset build_landlock_ruleset(const StorageCaps& caps, const LandlockScope& scope) {
  LandlockRuleset rs;
  rs.abi = kernel::landlock_abi();
  if (rs.abi == 0) return rs;
  rs.handled_fs = handled_for_abi(rs.abi);
  if (rs.abi < 3) rs.notes.push_back("Landlock ABI < 3: truncation is not checked in the kernel");

  RulesetAttrV6 attr{rs.handled_fs, 0, 0};
  size_t attr_size = sizeof(uint64_t);
  if (rs.abi >= 4) {
    // Linux 6.7 (ABI 4): TCP bind and connect. The broker performs every
    // bind and connect itself, on its own duplicate of the guest's socket,
    // so the guest never needs either right: both are handled and no rule
    // grants them, and a direct attempt (were the filter ever bypassed) is
    // refused by the kernel.
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
    attr_size = 2 * sizeof(uint64_t);
    rs.handles_tcp = true;
  } else {
    rs.notes.push_back("Landlock ABI < 4: no in-kernel backstop for TCP bind/connect");
  }
  if (rs.abi >= 6) {
    attr.scoped = kScopeSignal | kScopeAbstractUnixSocket;
    attr_size = sizeof attr;
    rs.scopes_signals = true;
  } else {
    rs.notes.push_back("Landlock ABI < 6: signals are checked by the broker");
  }
  rs.fd.reset(kernel::landlock_create_ruleset(reinterpret_cast<const landlock_ruleset_attr*>(&attr), attr_size, 0));
  if (!rs.fd.valid()) throw_sys("landlock_create_ruleset");

  for (const auto& g : caps.grants()) {
    if (g.link) continue;
    UniqueFd target(::open(g.path.c_str(), O_PATH | O_CLOEXEC));
    if (!target.valid()) throw_sys("landlock: opening grant " + g.path);
    landlock_path_beneath_attr pb{};
    pb.allowed_access = landlock_rights_for(g.rights, g.directory, scope.in_view) & rs.handled_fs;
    struct stat st{};
    if (!g.directory && ::fstat(target.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
      // A listing grant (storage.list): a rule on a directory covers its
      // whole subtree, so it carries READ_DIR alone.
      pb.allowed_access = (g.rights & kRead ? LANDLOCK_ACCESS_FS_READ_DIR : 0) & rs.handled_fs;
    }
    pb.parent_fd = target.get();
    if (pb.allowed_access == 0) continue;
    if (kernel::landlock_add_rule(rs.fd.get(), LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
      throw_sys("landlock_add_rule for " + g.path);
  }
  if (scope.read_proc) {
    UniqueFd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    landlock_path_beneath_attr pb{LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, proc.get()};
    if (!proc.valid() || kernel::landlock_add_rule(rs.fd.get(), LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
      throw_sys("landlock_add_rule for /proc");
  }
  return rs;
}

}  // namespace wwjail
