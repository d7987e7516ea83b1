#include "broker/log_sinks.h"

#include <fcntl.h>
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

#include "policy/policy_learner.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

// The log's descriptor, shared by both loggers' sinks (spdlog formats per
// sink, so each logger needs its own): one mutex keeps lines whole.
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

// wwjail's own messages as JSON objects: {"time", "level", "message"}.
class JsonMessageFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json j;
    j["time"] = utc_timestamp();
    j["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                             spdlog::level::to_string_view(msg.level).size());
    j["message"] = std::string(msg.payload.data(), msg.payload.size());
    std::string text = j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonMessageFormatter>(); }
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

LogSinks open_log_sinks(const LogRequest& request, const std::string& level) {
  LogSinks out;
  out.json = request.format == "json";
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
  if (out.json) {
    message_sink->set_formatter(std::make_unique<JsonMessageFormatter>());
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
