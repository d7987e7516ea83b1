#include "broker/enforcement.h"

#include <unistd.h>

namespace wwjail {

Enforcement choose_enforcement(bool mediate_files, const std::string& why_mediated, const StorageCaps& caps,
                               const std::string& cwd, bool holds_sys_admin) {
  Enforcement e;
  if (mediate_files) {
    e.reason = "the broker mediates file calls: " + why_mediated;
    return e;
  }
  std::string why_not;
  std::optional<ViewNamespaces> ns = view_namespaces(why_not);
  if (ns && !ns->user && !holds_sys_admin) {
    ns.reset();
    why_not = "wwjail runs as root without CAP_SYS_ADMIN";
  }
  if (!ns) {
    e.reason = "the broker mediates file calls: no namespaces for a view (" + why_not + ")";
    return e;
  }
  e.view = plan_mount_view(caps, cwd, why_not);
  if (!e.view) {
    e.reason = "the broker mediates file calls: the policy has " + why_not;
    return e;
  }
  e.namespaces = std::move(*ns);
  e.reason = std::string("the kernel decides file calls in a view of ") + std::to_string(e.view->entries.size()) +
             " entries (" + (e.namespaces.user ? "an unprivileged user namespace" : "a mount namespace") + ")";
  return e;
}

}  // namespace wwjail
