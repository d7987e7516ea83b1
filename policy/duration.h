// Durations as the command line writes them: N (seconds), Nms, Ns, Nm, Nh.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wwjail {

// Milliseconds, or nullopt when `text` is not a duration (or above 2^32 ms,
// about 49 days).
std::optional<uint32_t> parse_duration_ms(std::string_view text);

}  // namespace wwjail
