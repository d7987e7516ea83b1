#include "broker/enforcement_choice.h"

namespace wwjail {
namespace {

constexpr const char* kMediated = "the broker mediates file calls: ";

// Kernel-first without a view, when the user traded metadata hiding for speed.
Enforcement without_view(const EnforcementRequest& request, const StorageCaps& caps, const std::string& why_no_view) {
  Enforcement e;
  if (!request.metadata_visible) {
    e.reason = kMediated + why_no_view + "; [storage] metadata = \"visible\" lets the kernel decide them";
    return e;
  }
  if (std::string why = landlock_cannot_express(caps); !why.empty()) {
    e.reason = kMediated + std::string("the policy has ") + why;
    return e;
  }
  e.kernel_decides_files = e.kernel_decides_without_view = true;
  e.reason = "the kernel decides file calls without a view (" + why_no_view +
             "; metadata is visible, as the policy asks)";
  return e;
}

}  // namespace

std::string landlock_cannot_express(const StorageCaps& caps) {
  for (const auto& g : caps.grants()) {
    if (g.audit_fallback) return "audit's catch-all (only the broker can log what it allows)";
    if (g.list_only) return "the list-only grant on " + g.path + " (Landlock grants a directory with its subtree)";
  }
  return {};
}

Enforcement choose_enforcement(const EnforcementRequest& request, const StorageCaps& caps) {
  Enforcement e;
  if (request.mediate_files) {
    e.reason = kMediated + request.why_mediated;
    return e;
  }
  std::string why_not;
  std::optional<ViewNamespaces> ns = view_namespaces(why_not);
  if (ns && !ns->user && !request.holds_sys_admin) {
    ns.reset();
    why_not = "wwjail runs as root without CAP_SYS_ADMIN";
  }
  if (!ns) return without_view(request, caps, "no namespaces for a view: " + why_not);
  e.view = plan_mount_view(caps, request.cwd, why_not);
  if (!e.view) return without_view(request, caps, "the policy has " + why_not);
  e.kernel_decides_files = true;
  e.kernel_decides_without_view = without_view(request, caps, "").kernel_decides_files;
  e.namespaces = std::move(*ns);
  e.reason = std::string("the kernel decides file calls in a view of ") + std::to_string(e.view->entries.size()) +
             " entries (" + (e.namespaces.user ? "an unprivileged user namespace" : "a mount namespace") + ")";
  return e;
}

}  // namespace wwjail
