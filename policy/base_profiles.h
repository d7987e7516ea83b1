// The base profiles shipped with wwjail (policy/profiles/*.toml), compiled
// into the binary so `include = ["base:NAME"]` works wherever wwjail runs.
// They are also installed to share/wwjail/profiles for reading.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace wwjail {

struct BaseProfile {
  std::string_view name;  // "dynamic-elf"
  std::string_view text;  // the TOML
};

const std::vector<BaseProfile>& base_profiles();
std::optional<std::string_view> find_base_profile(std::string_view name);

}  // namespace wwjail
