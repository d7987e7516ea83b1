#include "broker/log_sinks.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "broker/log_json.h"
#include "policy/policy_learner.h"
#include "sys/sys_error.h"

namespace wwjail {

// The log's descriptor, shared by both loggers' sinks (spdlog formats per
// sink, so each logger needs its own) and by report_learned_policy: one
// mutex keeps lines whole.
struct LogTarget {
  UniqueFd fd;
  std::mutex mu;

  void write_all(const char* p, size_t left) {
    std::lock_guard lock(mu);
    while (left > 0) {
      ssize_t n = ::write(fd.get(), p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a log that cannot be written must not stop the broker
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
};

namespace {

// Writes whole lines with write(2): works for files, pipes and sockets
// alike, and never holds a line back in a buffer across a crash.
class FdSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit FdSink(std::shared_ptr<LogTarget> target) : target_(std::move(target)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    target_->write_all(line.data(), line.size());
  }
  void flush_() override {}

 private:
  std::shared_ptr<LogTarget> target_;
};

// wwjail's own messages as JSON "message" events.
class JsonMessageFormatter final : public spdlog::formatter {
 public:
  explicit JsonMessageFormatter(LogContext context) : context_(std::move(context)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text = json_message_line(msg.level, {msg.payload.data(), msg.payload.size()}, context_) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonMessageFormatter>(context_); }

 private:
  LogContext context_;
};

// %*: the message with every byte escaped visibly. Messages quote what a
// guest chose (paths at debug level, errors), and a text log is one line
// per event: no newline, terminal escape or invalid UTF-8 gets through.
class VisibleMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string text = escape_visibly({msg.payload.data(), msg.payload.size()});
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<VisibleMessage>(); }
};

std::unique_ptr<spdlog::formatter> text_message_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<VisibleMessage>('*').set_pattern("wwjail: %^%l%$: %*");
  return f;
}

}  // namespace

std::string new_run_id() {
  uint64_t bits = 0;
  // 8 bytes from the urandom pool never come back short once it is
  // initialised; a short read leaves zeros, still a valid id.
  while (::getrandom(&bits, sizeof bits, 0) < 0 && errno == EINTR) {
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits));
  return buf;
}

std::string_view log_level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err:
    case spdlog::level::critical: return "error";
    default: return "off";
  }
}

nlohmann::json json_event(std::string_view event, spdlog::level::level_enum level, const LogContext& context) {
  nlohmann::json j;
  j["schema"] = kLogSchema;
  j["time"] = utc_timestamp();
  j["event"] = std::string(event);
  j["level"] = std::string(log_level_name(level));
  j["run_id"] = context.run_id;
  j["program"] = context.program;
  return j;
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

std::string json_message_line(spdlog::level::level_enum level, std::string_view text, const LogContext& context) {
  nlohmann::json j = json_event("message", level, context);
  j["message"] = std::string(text);
  return json_text(j);
}

void report_learned_policy(const LogSinks& logs, const std::string& file, size_t grants,
                           bool writes_outside_tmpdir) {
  if (!logs.json || !logs.target) {
    std::fprintf(stderr, "wwjail: learned policy written to %s (%zu grants%s)\n", file.c_str(), grants,
                 writes_outside_tmpdir ? "; it grants write outside the temp dir, see its comments" : "");
    return;
  }
  nlohmann::json j = json_event("learned", spdlog::level::warn, logs.context);
  j["file"] = file;
  j["grants"] = grants;
  j["writes_outside_tmpdir"] = writes_outside_tmpdir;
  std::string line = json_text(j) + "\n";
  logs.target->write_all(line.data(), line.size());
}

std::string utc_timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

LogSinks open_log_sinks(const LogRequest& request, const std::string& level, LogContext context) {
  LogSinks out;
  out.json = request.format == "json";
  out.context = std::move(context);
  UniqueFd fd;
  bool elsewhere = true;
  if (!request.path.empty()) {
    fd.reset(::open(request.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd.valid()) throw SetupError("--log " + request.path + ": " + std::strerror(errno));
  } else if (request.fd >= 0) {
    if (::fcntl(request.fd, F_GETFL) < 0 || (::fcntl(request.fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
      throw SetupError("--log-fd " + std::to_string(request.fd) + ": not a descriptor open for writing");
    // Our own copy, close-on-exec: the guest never inherits the log.
    fd.reset(::fcntl(request.fd, F_DUPFD_CLOEXEC, 3));
    if (!fd.valid()) throw SetupError("--log-fd " + std::to_string(request.fd) + ": " + std::strerror(errno));
    ::close(request.fd);
  } else {
    fd.reset(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
    if (!fd.valid()) throw SetupError(std::string("cannot use stderr for the log: ") + std::strerror(errno));
    elsewhere = false;
  }
  auto target = std::make_shared<LogTarget>();
  target->fd = std::move(fd);
  auto message_sink = std::make_shared<FdSink>(target);
  auto decision_sink = std::make_shared<FdSink>(target);
  std::vector<spdlog::sink_ptr> message_sinks{message_sink};
  if (elsewhere) {
    auto errors = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    errors->set_level(spdlog::level::err);
    errors->set_formatter(text_message_formatter());
    message_sinks.push_back(errors);
  }
  out.messages = std::make_shared<spdlog::logger>("wwjail", message_sinks.begin(), message_sinks.end());
  out.decisions = std::make_shared<spdlog::logger>("wwjail-decisions", decision_sink);
  out.target = target;
  if (out.json) {
    message_sink->set_formatter(std::make_unique<JsonMessageFormatter>(out.context));
    decision_sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  } else {
    message_sink->set_formatter(text_message_formatter());
    decision_sink->set_pattern("wwjail: %^%l%$: %v");  // DecisionLog escapes its lines itself
  }
  out.messages->set_level(spdlog::level::from_str(level));
  // Denials are warnings and allowed decisions info (DecisionLog decides
  // which are wanted at all): the level cuts them like any message.
  out.decisions->set_level(spdlog::level::from_str(level));
  return out;
}

}  // namespace wwjail
