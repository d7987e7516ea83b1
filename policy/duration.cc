#include "policy/duration.h"

#include <charconv>

namespace wwjail {

std::optional<uint32_t> parse_duration_ms(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t scale = unit.empty() || unit == "s" ? 1000 : unit == "ms" ? 1 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
  if (scale == 0 || v > UINT32_MAX / scale) return std::nullopt;
  return static_cast<uint32_t>(v * scale);
}

}  // namespace wwjail
