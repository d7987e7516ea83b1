// Which walls enforce the storage grants of a run: the kernel (a view of the
// file system where only grants exist, decided by Landlock and the seccomp
// filter) or the broker (every file call mediated). The broker always keeps
// addresses, metadata writes and exec.
#pragma once

#include <optional>
#include <string>

#include "capabilities/storage_caps.h"
#include "shim/mount_view.h"

namespace wwjail {

struct Enforcement {
  std::optional<MountViewPlan> view;  // set: the kernel decides file calls in this view
  ViewNamespaces namespaces;          // how the view's namespaces are made
  std::string reason;                 // why this choice, for the debug log
};

// `mediate_files`: the broker must see every file call (learn, audit,
// info-level logs, --mediate files); `why_mediated` says which.
Enforcement choose_enforcement(bool mediate_files, const std::string& why_mediated, const StorageCaps& caps,
                               const std::string& cwd, bool holds_sys_admin);

}  // namespace wwjail
