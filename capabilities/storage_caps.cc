#include "capabilities/storage_caps.h"

#include "capabilities/path_text.h"

namespace wwjail {

std::string_view need_name(Need need) {
  switch (need) {
    case Need::kStat: return "stat";
    case Need::kRead: return "read";
    case Need::kWrite: return "write";
    case Need::kExec: return "exec";
    case Need::kCreate: return "create";
    case Need::kRemove: return "remove";
  }
  return "?";
}

void StorageCaps::add(Grant grant) {
  if (grant.rights & (kWrite | kExec)) grant.rights |= kRead;
  for (auto& g : grants_) {
    if (g.path == grant.path && g.directory == grant.directory && g.link == grant.link && !g.audit_fallback) {
      // Only a grant that brings exec in its own right makes an ELF
      // interpreter executable by name; a read grant on it (ld.so is also a
      // DT_NEEDED of libc) must not.
      bool direct_exec = ((g.rights & kExec) && !g.interpreter_only) ||
                         ((grant.rights & kExec) && !grant.interpreter_only);
      g.rights |= grant.rights;
      g.interpreter_only = (g.rights & kExec) && !direct_exec;
      g.automatic = g.automatic && grant.automatic;  // asked for once is asked for
      g.list_only = g.list_only && grant.list_only;  // a read of the directory itself is more than its list
      return;
    }
  }
  grants_.push_back(std::move(grant));
}

const Grant* StorageCaps::covering(std::string_view path, uint8_t rights) const {
  const Grant* best = nullptr;
  for (const auto& g : grants_) {
    if ((g.rights & rights) != rights || g.audit_fallback) continue;
    bool covers = g.directory ? path_text::is_within(path, g.path) : path == g.path;
    if (!covers) continue;
    // A link grant pins the link as it was at start; any other grant that
    // covers the name sees it as it is now, so that one is preferred.
    if (!best || (best->link && !g.link) || (best->link == g.link && g.path.size() > best->path.size())) best = &g;
  }
  return best;
}

bool StorageCaps::is_ancestor_of_grant(std::string_view path) const {
  for (const auto& g : grants_) {
    if (g.audit_fallback) continue;
    if (g.path != path && path_text::is_within(g.path, path)) return true;
  }
  return false;
}

void StorageCaps::enable_audit() {
  if (audit_) return;
  audit_ = true;
  Grant all{"/", static_cast<uint8_t>(kRead | kWrite | kExec), true, "audit mode (would be denied)"};
  all.audit_fallback = true;
  grants_.push_back(std::move(all));
}

bool StorageCaps::named_absent(std::string_view path) const {
  for (const auto& a : absent_) {
    if (path_text::is_within(path, a)) return true;  // an absent directory's whole subtree
  }
  return false;
}

Decision StorageCaps::decide(std::string_view path, Need need) const {
  Decision d = decide_granted(path, need);
  if (d.allowed || !audit_) return d;
  for (const auto& g : grants_) {
    if (g.audit_fallback) {
      d.allowed = true;
      d.audited = true;
      d.grant = &g;
      break;
    }
  }
  return d;
}

Decision StorageCaps::decide_granted(std::string_view path, Need need) const {
  Decision d;
  switch (need) {
    case Need::kStat:
      d.grant = covering(path, kRead);
      d.allowed = d.grant != nullptr || is_ancestor_of_grant(path);
      if (!d.allowed) d.missing = "read on " + std::string(path);
      return d;
    case Need::kRead:
    case Need::kWrite:
    case Need::kExec: {
      uint8_t right = need == Need::kRead ? kRead : need == Need::kWrite ? kWrite : kExec;
      d.grant = covering(path, right);
      d.allowed = d.grant != nullptr;
      if (!d.allowed) d.missing = std::string(need_name(need)) + " on " + std::string(path);
      return d;
    }
    case Need::kCreate:
    case Need::kRemove: {
      // A new or removed entry lives in its parent directory, which must lie
      // within a directory write grant. The grant's own root cannot be
      // removed or replaced: that would detach the subtree the grant names.
      d.grant = covering(path, kWrite);
      d.allowed = d.grant != nullptr && d.grant->directory && d.grant->path != path;
      if (!d.allowed) {
        d.grant = nullptr;
        d.missing = "write on the directory holding " + std::string(path);
      }
      return d;
    }
  }
  return d;
}

}  // namespace wwjail
