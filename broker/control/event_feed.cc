#include "broker/control/event_feed.h"

#include <sys/eventfd.h>

#include <chrono>

#include "sys/sys_error.h"

namespace wwjail::control {

EventFeed::EventFeed(size_t capacity)
    : capacity_(capacity), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wake_.valid()) throw_sys("eventfd (the control plane's event feed)");
}

void EventFeed::observe(const DecisionEvent& e) {
  if (!wanted_.load(std::memory_order_relaxed)) return;
  FeedEvent f;
  f.unix_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  f.tid = e.tid;
  f.syscall = e.syscall;
  f.target = e.target;
  f.need = e.need;
  f.kind = decision_kind_name(e.kind);
  if (!e.missing_kind.empty()) f.missing = std::string(e.missing_kind) + " " + std::string(e.missing_target);
  f.reason = e.reason;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= capacity_) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(f));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

EventFeed::Batch EventFeed::drain() {
  uint64_t n;
  (void)!::read(wake_.get(), &n, sizeof n);
  Batch b;
  std::lock_guard lock(mu_);
  b.events.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  b.dropped = dropped_;
  dropped_ = 0;
  return b;
}

}  // namespace wwjail::control
