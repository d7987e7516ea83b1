#include "policy/enforcement.h"

#include <utility>

namespace wwjail {
namespace {

constexpr std::pair<std::string_view, MediateMode> kMediateNames[] = {
    {"auto", MediateMode::kAuto}, {"files", MediateMode::kFiles}};
constexpr std::pair<std::string_view, MetadataMode> kMetadataNames[] = {
    {"hidden", MetadataMode::kHidden}, {"visible", MetadataMode::kVisible}};

template <typename Mode, size_t N>
std::optional<Mode> parse_in(const std::pair<std::string_view, Mode> (&names)[N], std::string_view text) {
  for (const auto& [name, mode] : names) {
    if (name == text) return mode;
  }
  return std::nullopt;
}

template <typename Mode, size_t N>
std::string_view name_in(const std::pair<std::string_view, Mode> (&names)[N], Mode mode) {
  for (const auto& [name, m] : names) {
    if (m == mode) return name;
  }
  return "?";
}

template <typename Mode, size_t N>
std::string list_of(const std::pair<std::string_view, Mode> (&names)[N]) {
  std::string out;
  for (const auto& [name, mode] : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

}  // namespace

std::optional<MediateMode> parse_mediate(std::string_view text) { return parse_in(kMediateNames, text); }
std::optional<MetadataMode> parse_metadata(std::string_view text) { return parse_in(kMetadataNames, text); }
std::string_view mediate_name(MediateMode mode) { return name_in(kMediateNames, mode); }
std::string_view metadata_name(MetadataMode mode) { return name_in(kMetadataNames, mode); }
std::string mediate_names() { return list_of(kMediateNames); }
std::string metadata_names() { return list_of(kMetadataNames); }

MediateMode effective_mediation(MediateMode asked, bool learning, bool audit, std::string_view log_level,
                                std::string* why, bool explicit_ask) {
  bool logs_allowed = log_level == "info" || log_level == "debug" || log_level == "trace";
  const char* reason = learning                       ? "learn"
                       : audit                        ? "--audit"
                       : logs_allowed && !explicit_ask ? "--log-level"
                                                      : nullptr;
  if (!reason) return asked;
  if (why) *why = std::string(reason) + " sees every file call";
  return MediateMode::kFiles;
}

}  // namespace wwjail
