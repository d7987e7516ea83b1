// Requests to end the run, from threads other than the broker's main one
// (the control thread: `wwjail ctl stop` and its grace timer), to the
// supervisor, which acts on them on its own thread (broker/supervisor.h):
// the other threads never signal the guests themselves, so only the
// thread that reaps them ever names them.
#pragma once

#include <atomic>

#include "sys/unique_fd.h"

namespace wwjail::control {

class StopRequests {
 public:
  enum Level : int { kNone = 0, kTerminate = 1, kKill = 2 };

  StopRequests();

  // Any thread: asks for at least `level` (a request never lowers one).
  void ask(Level level);
  // Whether a stop was asked for at all.
  bool asked() const { return level_.load(std::memory_order_relaxed) != kNone; }

  // The supervisor's side: readable after ask(); take() reads it and says
  // the levels not taken before (each level is taken once).
  int fd() const { return wake_.get(); }
  struct Taken {
    bool terminate = false, kill = false;
  };
  Taken take();

 private:
  std::atomic<int> level_{kNone};
  int taken_ = kNone;  // the supervisor's thread only
  UniqueFd wake_;
};

}  // namespace wwjail::control
