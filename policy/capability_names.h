// Linux capability names, as the user writes them (--cap-keep, the policy's
// [capabilities] keep): "CAP_NET_BIND_SERVICE", "cap_net_bind_service" or
// "net_bind_service". Parsing and printing are libcap's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wwjail {

// The capability's number, or nullopt for a name libcap does not know.
std::optional<int> parse_capability(const std::string& name);

// "CAP_NET_BIND_SERVICE" for its number.
std::string capability_name(int cap);

// A bit mask of capabilities (bit N: capability N), printed as names.
std::string capability_list(uint64_t mask);

}  // namespace wwjail
