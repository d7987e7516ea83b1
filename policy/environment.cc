#include "policy/environment.h"

#include <algorithm>
#include <cstring>

namespace wwjail {

bool valid_env_name(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

void env_inherit_all(EnvRequest& env, bool all) {
  env.inherit = all ? EnvRequest::Inherit::kAll : EnvRequest::Inherit::kNone;
  env.keep.clear();
}

bool env_inherit_only(EnvRequest& env, const std::string& name) {
  if (!valid_env_name(name)) return false;
  env.inherit = EnvRequest::Inherit::kListed;
  env.keep.push_back(name);
  return true;
}

bool env_unset(EnvRequest& env, const std::string& name) {
  if (!valid_env_name(name)) return false;
  env.unset.push_back(name);
  return true;
}

bool env_set(EnvRequest& env, const std::string& name, std::string value) {
  if (!valid_env_name(name)) return false;
  env.set.push_back({name, std::move(value)});
  return true;
}

std::vector<std::string> build_environment(const EnvRequest& request, const char* const* parent) {
  auto listed = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  std::vector<std::string> out;
  for (const char* const* e = parent; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    std::string_view name(*e, static_cast<size_t>(eq - *e));
    bool inherit = request.inherit == EnvRequest::Inherit::kAll ||
                   (request.inherit == EnvRequest::Inherit::kListed && listed(request.keep, name));
    if (!inherit || listed(request.unset, name)) continue;
    out.emplace_back(*e);
  }
  for (const auto& [name, value] : request.set) {
    std::string prefix = name + "=";
    std::erase_if(out, [&](const std::string& s) { return s.starts_with(prefix); });
    out.push_back(prefix + value);
  }
  return out;
}

}  // namespace wwjail
