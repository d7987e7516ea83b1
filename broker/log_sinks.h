// Where wwjail's log goes, and in what form.
//
// Two loggers share one sink: `messages` (wwjail's own warnings and errors)
// and `decisions` (one line per decision, already formatted by
// DecisionLog). In JSON mode messages are JSON objects too, so a log
// pipeline reading --log-format json gets nothing but JSON lines.
// Errors are also copied to stderr when the log goes elsewhere: a user who
// sent the log to a file still sees why a run did not start.
//
// Messages quote what guests chose, so a text line escapes every control
// character, DEL and invalid UTF-8 byte (escape_visibly, policy_learner.h)
// and stays one line; a JSON line replaces invalid UTF-8 with U+FFFD.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "policy/run_config.h"
#include "sys/unique_fd.h"

namespace wwjail {

struct LogSinks {
  std::shared_ptr<spdlog::logger> messages;
  std::shared_ptr<spdlog::logger> decisions;
  bool json = false;
};

// Opens --log FILE (appended, created 0600) or takes --log-fd N. Throws
// SetupError naming the flag when the destination cannot be used.
LogSinks open_log_sinks(const LogRequest& request, const std::string& level);

// The current time as RFC 3339 UTC with milliseconds, for JSON lines.
std::string utc_timestamp();

}  // namespace wwjail
