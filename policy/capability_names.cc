#include "policy/capability_names.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>

namespace wwjail {

std::optional<int> parse_capability(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!lower.starts_with("cap_")) lower = "cap_" + lower;
  // libcap also takes a bare number; a number is no name here.
  if (lower.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) return std::nullopt;
  cap_value_t v;
  if (cap_from_name(lower.c_str(), &v) != 0 || v < 0 || v > 63) return std::nullopt;
  return static_cast<int>(v);
}

std::string capability_name(int cap) {
  char* text = cap_to_name(static_cast<cap_value_t>(cap));
  std::string out = text ? text : "cap_" + std::to_string(cap);
  cap_free(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string capability_list(uint64_t mask) {
  std::string out;
  for (int cap = 0; cap < 64; ++cap) {
    if (!(mask & (uint64_t{1} << cap))) continue;
    if (!out.empty()) out += ", ";
    out += capability_name(cap);
  }
  return out;
}

}  // namespace wwjail
