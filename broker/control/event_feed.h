// The broker's decisions on their way to `wwjail ctl events`: the threads
// that decide (the notify thread, the event loop) hand each one to the
// feed, and the control thread (broker/control/control_server.h) drains
// it. A decision costs the deciding thread one relaxed load when nobody
// subscribes, and a short critical section and an eventfd write when
// somebody does; it never waits for a subscriber. Past `capacity` queued
// events, new ones are counted as dropped instead.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "broker/decision_log.h"
#include "sys/unique_fd.h"

namespace wwjail::control {

// A decision copied out of the views DecisionEvent holds.
struct FeedEvent {
  uint64_t unix_ms = 0;
  pid_t tid = 0;
  std::string syscall, target, need, kind, missing, reason;
};

class EventFeed final : public DecisionObserver {
 public:
  explicit EventFeed(size_t capacity = 4096);

  // Called by deciding threads (DecisionLog's watcher).
  void observe(const DecisionEvent& e) override;

  // The control thread's side. subscribe(true) when a first subscriber
  // comes, subscribe(false) when the last goes.
  void subscribe(bool on) { wanted_.store(on, std::memory_order_relaxed); }
  // Readable when events are queued (an eventfd; reading it is drain()'s).
  int fd() const { return wake_.get(); }
  struct Batch {
    std::vector<FeedEvent> events;
    uint64_t dropped = 0;  // lost since the last drain, before these events
  };
  Batch drain();

 private:
  const size_t capacity_;
  std::atomic<bool> wanted_{false};
  UniqueFd wake_;
  std::mutex mu_;
  std::deque<FeedEvent> queue_;
  uint64_t dropped_ = 0;
};

}  // namespace wwjail::control
