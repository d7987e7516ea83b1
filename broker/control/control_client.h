// The client's side of control.capnp, for `wwjail ctl` (cli/ctl.cc): one
// connection to one jail's control socket, blocking calls with a bound on
// how long each may take, and plain structs for what comes back.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "broker/control/event_feed.h"

namespace wwjail::control {

// A jail that cannot be reached or that answered with an error.
class ControlError : public std::runtime_error {
 public:
  enum Kind {
    kAbsent,  // nothing listens there: the jail has ended (or never ran)
    kClosed,  // it closed the connection: it refused this client, or its run ended
    kOther,
  };
  ControlError(const std::string& what, Kind kind) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  bool absent() const { return kind_ == kAbsent; }

 private:
  Kind kind_;
};

struct JailSummary {
  std::string name, run_id, program, mode;
  std::vector<std::string> args;
  pid_t wwjail_pid = 0, main_pid = 0;
  uint64_t started_unix_ms = 0;
  uint32_t uid = 0;
  uint64_t allowed = 0, audited = 0, denied = 0;
  bool stopping = false;
};

struct ReceivedEvent : FeedEvent {
  uint64_t dropped_before = 0;
};

class ControlClient {
 public:
  // Connects to the socket at `path`; the server must run as this user or
  // root. Throws ControlError.
  explicit ControlClient(const std::string& path, uint32_t timeout_ms = 5000);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  JailSummary info();
  // Returns once the jail took the request. ControlError kClosed: it
  // closed the connection first (it refused this client, or the run
  // ended before it could answer).
  void stop(uint32_t grace_ms);
  // Waits until the jail closes the connection (its run is over); false
  // when `timeout_ms` passed first.
  bool wait_closed(uint32_t timeout_ms);
  // Calls `on_event` for each decision until the run ends: true when it
  // said so (done), false when the connection broke first.
  bool events(const std::function<void(const ReceivedEvent&)>& on_event);

  struct State;

 private:
  std::unique_ptr<State> state_;
  uint32_t timeout_ms_;
};

// The names of the jails with sockets in `dir` (NAME.sock), sorted; some
// may have ended, which connecting says.
std::vector<std::string> socket_names(const std::string& dir);

}  // namespace wwjail::control
