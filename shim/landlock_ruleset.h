// Derives a Landlock ruleset from the storage grants: the in-kernel backstop
// for every access the broker answers with CONTINUE (open, exec), and for
// signals when the kernel can scope them (ABI 6).
//
// Built before fork (it allocates); the child only calls
// landlock_restrict_self on the finished ruleset fd.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capabilities/storage_caps.h"
#include "sys/unique_fd.h"

namespace wwjail {

struct LandlockRuleset {
  UniqueFd fd;         // invalid when Landlock is unavailable
  int abi = 0;         // kernel's Landlock ABI (0: none)
  uint64_t handled_fs = 0;
  bool scopes_signals = false;
  bool handles_tcp = false;  // direct TCP bind/connect refused in the kernel
  std::vector<std::string> notes;  // what was left out for this ABI, for debug logs
};

// Landlock file-system rights that grant `rights` on a file or directory.
// `read_only_mount`: the grant is seen through a read-only mount (a read
// grant in the guest's view), so read rights also carry TRUNCATE.
//
// Why: every open asks Landlock for TRUNCATE as an optional right
// (hook_file_open records whether the file may later be ftruncate()d), and
// Landlock climbs from the file towards the root until every requested right
// is found or the root is reached. A read rule without TRUNCATE therefore
// never ends the climb: each open of a read-granted file walked to the root,
// about 0.2 us per path component here. Through a read-only mount the right
// grants nothing: truncate(2) and O_TRUNC fail with EROFS at the mount
// (mnt_want_write) before Landlock is asked, and ftruncate needs a
// descriptor opened for writing, which the mount refuses too.
uint64_t landlock_rights_for(uint8_t rights, bool directory, bool read_only_mount = false);

// Where a ruleset will be used.
struct LandlockScope {
  // In the guest's view (shim/mount_view.h), where every read grant is a
  // read-only mount, and the guest can hold no descriptor that reaches a
  // read grant through the host's mounts (an inherited file or directory,
  // one received over a unix socket: broker/guest_run.cc). Never for a
  // guest without its view: there a read rule with TRUNCATE would let
  // truncate(2) empty a read-granted file.
  bool in_view = false;
  // A read rule on /proc too (kernel-first enforcement without a view, where
  // the guest's own /proc entries must open without the broker).
  bool read_proc = false;
};

// Throws SetupError when the kernel has Landlock but a grant cannot be added.
LandlockRuleset build_landlock_ruleset(const StorageCaps& caps, const LandlockScope& scope = {});

}  // namespace wwjail
