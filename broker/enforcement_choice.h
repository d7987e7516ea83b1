// Which walls enforce the storage grants of a run: the kernel (Landlock and
// the seccomp filter decide file calls, in a view of the file system where
// only grants exist when namespaces can be made) or the broker (every file
// call mediated). The broker always keeps addresses, metadata writes and exec.
#pragma once

#include <optional>
#include <string>

#include "capabilities/storage_caps.h"
#include "shim/mount_view.h"

namespace wwjail {

struct EnforcementRequest {
  // The broker must see every file call (learn, audit, info-level logs,
  // --mediate files); `why_mediated` says which.
  bool mediate_files = false;
  std::string why_mediated;
  // [storage] metadata = "visible": without a view, the kernel may still
  // decide file calls, and what exists outside the grants is visible to
  // stat (as in a Landlock-only sandbox).
  bool metadata_visible = false;
  bool holds_sys_admin = false;
  std::string cwd = "/";
};

struct Enforcement {
  bool kernel_decides_files = false;  // the filter lets the kernel decide opens and the stat family
  std::optional<MountViewPlan> view;  // set: in this view (kernel_decides_files is then true)
  ViewNamespaces namespaces;          // how the view's namespaces are made
  // What applies when no view is made (none planned, or the kernel refuses
  // its namespaces at launch): the kernel still decides file calls when
  // metadata may be visible. The guest's own /proc is then readable through
  // a Landlock rule on the host's /proc (Landlock's ptrace scoping keeps
  // other processes' private entries closed); in a view that rule names a
  // file system the guest cannot reach, and /proc is its PID namespace's.
  bool kernel_decides_without_view = false;
  std::string reason;  // why this choice, for the debug log
};

Enforcement choose_enforcement(const EnforcementRequest& request, const StorageCaps& caps);

// The first grant Landlock alone cannot express (a list-only directory,
// audit's catch-all), in words; empty when there is none.
std::string landlock_cannot_express(const StorageCaps& caps);

}  // namespace wwjail
