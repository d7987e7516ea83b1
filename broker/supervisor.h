// The supervisor of one guest tree: wwjail's PID-1 duties towards it.
// Signals reach wwjail through a signalfd on the broker's loop: SIGCHLD
// drives reaping, termination and job-control signals are forwarded to the
// main guest. The reaper (shim/reaper.cc) reports the main guest's wait
// status; its own exit is the end of the run. Afterwards the supervisor
// gives the terminal back and turns what happened into wwjail's exit status.
//
// Threads: everything here runs on the broker's main thread (the loop's).
#pragma once

#include <spdlog/logger.h>

#include <string>

#include "broker/control/stop_requests.h"
#include "broker/event_loop.h"
#include "shim/guest_launch.h"
#include "sys/unique_fd.h"

namespace wwjail {

class Supervisor {
 public:
  // Blocks the signals it handles (before the guest is forked, so none is
  // lost) and ignores SIGPIPE and SIGTTOU.
  explicit Supervisor(spdlog::logger& log);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Whether wwjail runs in the terminal's foreground process group: the
  // guest's group then takes the terminal.
  bool foreground() const { return foreground_; }

  // Watches the launch socket, the reaper's status pipe and the signals on
  // `loop`. `guest` must outlive the run.
  void watch(const LaunchedGuest& guest, EventLoop& loop);
  // Acts on stops asked for from other threads (`wwjail ctl stop`): SIGTERM
  // to the main guest, then SIGKILL to the tree.
  void watch_stops(control::StopRequests& stops, EventLoop& loop);
  // Stops the run after `timeout_ms` (--timeout) the same way, with
  // `grace_ms` between SIGTERM and SIGKILL.
  void watch_deadline(uint32_t timeout_ms, uint32_t grace_ms, EventLoop& loop);
  // Collects every exited child without waiting (one that exited before
  // the signalfd was watched, too).
  void reap();
  bool tree_gone() const { return tree_gone_; }
  // The guests can no longer be served: ends the tree now.
  void end_tree();
  // A stop's grace is over: kills the main guest, and the reaper the rest.
  void kill_tree();

  // After the loop: the terminal goes back to wwjail's group.
  void hand_back_terminal();
  // wwjail's exit status: the main guest's (128+N for a signal), or 126,
  // 127 or 125 when it never ran (said in the log). `ran`: exec succeeded
  // and the status is the guest's.
  struct Outcome {
    int exit_status = 0;
    bool ran = false;
  };
  Outcome outcome(const std::string& program);

 private:
  bool read_status();
  void forward(int signo);

  spdlog::logger& log_;
  UniqueFd sigfd_;
  UniqueFd deadline_;  // timerfd: --timeout, then its grace
  bool deadline_passed_ = false;
  bool foreground_ = false;
  const LaunchedGuest* guest_ = nullptr;
  bool main_exited_ = false, tree_gone_ = false;
  int main_status_ = 0;
  ChildReport exec_failure_;
};

}  // namespace wwjail
