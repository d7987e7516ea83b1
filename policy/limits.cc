#include "policy/limits.h"

#include <sys/resource.h>

#include <charconv>

namespace wwjail {

const std::vector<LimitName>& limit_names() {
  static const std::vector<LimitName> names = {
      {"nofile", RLIMIT_NOFILE, false}, {"nproc", RLIMIT_NPROC, false}, {"memory", RLIMIT_AS, true},
      {"fsize", RLIMIT_FSIZE, true},    {"cpu", RLIMIT_CPU, false},     {"core", RLIMIT_CORE, true},
      {"stack", RLIMIT_STACK, true},
  };
  return names;
}

std::string limit_name_list() {
  std::string out;
  for (const auto& l : limit_names()) out += (out.empty() ? "" : ", ") + std::string(l.name);
  return out;
}

std::optional<LimitName> find_limit(std::string_view name) {
  for (const auto& l : limit_names()) {
    if (name == l.name) return l;
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_limit_value(const LimitName& limit, std::string_view value, std::string& error) {
  if (value == "unlimited") return RLIM_INFINITY;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  std::string_view rest(end, value.data() + value.size() - end);
  uint64_t scale = 1;
  if (limit.bytes && rest.size() == 1) {
    switch (rest[0]) {
      case 'K': case 'k': scale = 1ull << 10; break;
      case 'M': case 'm': scale = 1ull << 20; break;
      case 'G': case 'g': scale = 1ull << 30; break;
      default: scale = 0;
    }
    if (scale) rest = {};
  }
  if (ec != std::errc() || end == value.data() || !rest.empty() || scale == 0) {
    error = std::string(limit.name) + " = '" + std::string(value) + "' is not a limit; write a whole number" +
            (limit.bytes ? " (K, M or G may follow)" : "") + " or \"unlimited\"";
    return std::nullopt;
  }
  if (n > RLIM_INFINITY / scale - 1) {
    error = std::string(limit.name) + " = '" + std::string(value) + "' is too large; write \"unlimited\"";
    return std::nullopt;
  }
  return n * scale;
}

std::optional<LimitRequest> parse_limit_request(std::string_view name, std::string_view value, std::string origin,
                                                std::string& error) {
  error.clear();
  auto limit = find_limit(name);
  if (!limit) return std::nullopt;
  auto v = parse_limit_value(*limit, value, error);
  if (!v) return std::nullopt;
  return LimitRequest{limit->resource, *v, std::move(origin)};
}

}  // namespace wwjail
