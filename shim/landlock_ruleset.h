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
uint64_t landlock_rights_for(uint8_t rights, bool directory);

// Throws SetupError when the kernel has Landlock but a grant cannot be added.
// `read_proc`: a read rule on /proc too (kernel-first enforcement without a
// view, where the guest's own /proc entries must open without the broker).
LandlockRuleset build_landlock_ruleset(const StorageCaps& caps, bool read_proc = false);

}  // namespace wwjail
