// The parts every JSON log line shares (log_sinks.cc), for the writers of
// such lines in broker/: messages, decisions, summaries, learn's result.
#pragma once

#include <spdlog/common.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "broker/log_sinks.h"

namespace wwjail {

// A JSON line begun: schema, time, event, level, run_id, program.
nlohmann::json json_event(std::string_view event, spdlog::level::level_enum level, const LogContext& context);

// `j` as one line (no newline): ASCII only, invalid UTF-8 as U+FFFD.
std::string json_text(const nlohmann::json& j);

}  // namespace wwjail
