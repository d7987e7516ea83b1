// Where wwjail's log goes, and in what form.
//
// Two loggers share one sink: `messages` (wwjail's own warnings and errors)
// and `decisions` (one line per decision, already formatted by
// DecisionLog). In JSON mode every line is a JSON object carrying the
// schema version, `event`, `level` (the --log-level names), the run's
// random `run_id` and `program`: messages, decisions, summaries and the
// line `wwjail learn` ends with alike (schema: wwjail(1), LOG FORMAT).
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
#include <string_view>

#include "policy/run_config.h"
#include "sys/unique_fd.h"

namespace wwjail {

// The version of the JSON lines' layout: raised when a field changes
// meaning or goes away (new fields may appear without it).
inline constexpr int kLogSchema = 1;

// What every JSON line of one run says about the run.
struct LogContext {
  std::string run_id;   // 16 hex digits from getrandom, new for each run
  std::string program;  // PROGRAM as the command line gave it
};

// A fresh run id: 16 lowercase hex digits (64 random bits).
std::string new_run_id();

struct LogTarget;  // the log's descriptor (log_sinks.cc)

struct LogSinks {
  std::shared_ptr<spdlog::logger> messages;
  std::shared_ptr<spdlog::logger> decisions;
  bool json = false;
  LogContext context;
  std::shared_ptr<LogTarget> target;
};

// Opens --log FILE (appended, created 0600) or takes --log-fd N. Throws
// SetupError naming the flag when the destination cannot be used.
LogSinks open_log_sinks(const LogRequest& request, const std::string& level, LogContext context = {});

// The current time as RFC 3339 UTC with milliseconds, for JSON lines.
std::string utc_timestamp();

// A level as --log-level spells it: "warn", not spdlog's "warning".
std::string_view log_level_name(spdlog::level::level_enum level);

// One message as a JSON "message" line (no newline), for the formatter
// and for errors written before the log is open.
std::string json_message_line(spdlog::level::level_enum level, std::string_view text, const LogContext& context);

// The line `wwjail learn` ends with. Text: on stderr, as always; JSON: a
// "learned" event on the log, whatever the level.
void report_learned_policy(const LogSinks& logs, const std::string& file, size_t grants,
                           bool writes_outside_tmpdir);

}  // namespace wwjail
