// How a run's grants are enforced: which calls the broker mediates, and
// whether the guest may see metadata (stat, readlink, access) outside its
// grants. broker/enforcement_choice.h turns them into the walls of a run.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wwjail {

// --mediate auto|files
enum class MediateMode {
  kAuto,   // the kernel decides what it can (Landlock, the filter); the broker the rest
  kFiles,  // the broker sees and decides every file call
};

// [storage] metadata = "hidden" | "visible", --metadata hidden|visible
enum class MetadataMode {
  kHidden,   // metadata outside the grants is denied like any other access
  kVisible,  // the guest may look at what it cannot open (Landlock-only sandboxes do)
};

std::optional<MediateMode> parse_mediate(std::string_view text);
std::optional<MetadataMode> parse_metadata(std::string_view text);
std::string_view mediate_name(MediateMode mode);
std::string_view metadata_name(MetadataMode mode);
// "auto, files" and "hidden, visible", for messages and --help.
std::string mediate_names();
std::string metadata_names();

// The mode a run gets. Learning, auditing and logging allowed decisions
// (--log-level info, debug or trace) need the broker to see every file
// call, so each of them makes `asked` files; `why` (if given) says which.
// A mode asked for explicitly (`explicit_ask`, --mediate given) stands
// against the log level: the kernel's decisions are then not logged.
MediateMode effective_mediation(MediateMode asked, bool learning, bool audit, std::string_view log_level,
                                std::string* why = nullptr, bool explicit_ask = false);

}  // namespace wwjail
