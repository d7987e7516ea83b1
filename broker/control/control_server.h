// The control plane of one run: a Cap'n Proto server (control.capnp) on a
// thread of its own, with its own KJ event loop, listening on the run's
// control socket (control_dir.h). It never touches the guests: it reads
// facts fixed at start and counters, asks the supervisor to stop through
// StopRequests, and relays decisions from the EventFeed. So the broker's
// threads never wait for it, and a hostile or slow client costs the guests
// nothing.
//
// Each accepted connection is checked (control_peer.h) before any byte of
// it is read, and gets its own Jail capability; a client may hold at most
// kMaxConnections at once and its messages are bounded (kMaxMessageWords).
//
//   ControlServer server(dir, facts, feed, stops, counts, log);  // binds: a name in use fails here
//   ... launch the guest ...
//   server.start();          // serves from now on
//   ...                      // the run
//   ~ControlServer           // subscribers told done(), thread joined, socket removed
#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/control/event_feed.h"
#include "broker/control/stop_requests.h"
#include "broker/decision_log.h"
#include "sys/unique_fd.h"

namespace wwjail::control {

struct ControlFacts {
  std::string name, run_id, program, mode;
  std::vector<std::string> args;
  pid_t main_pid = 0;
  pid_t tree_root = 0;  // the reaper: a peer descending from it is a guest
  uint64_t started_unix_ms = 0;
};

class ControlServer {
 public:
  static constexpr int kMaxConnections = 16;
  static constexpr uint64_t kMaxMessageWords = 1 << 17;  // 1 MiB

  // Makes the directory if needed and binds DIR/NAME.sock (0600). Throws
  // SetupError when the directory cannot be trusted or a jail of that name
  // is running; a socket left by a run that died is replaced.
  ControlServer(const std::string& dir, ControlFacts facts, EventFeed& feed, StopRequests& stops,
                std::function<DecisionLog::Counts()> counts, spdlog::logger& log);
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();

  // Starts the control thread, once the guest tree is known.
  void start(pid_t main_pid, pid_t tree_root);
  const std::string& socket_path() const { return path_; }

  struct Shared;  // what the thread's objects see (control_server.cc)

 private:
  void serve();

  std::string path_;
  ino_t socket_inode_ = 0;
  UniqueFd listen_fd_;
  UniqueFd quit_;  // eventfd: the thread's signal to finish
  std::unique_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace wwjail::control
