// poll_oneoff: clock and descriptor subscriptions, waited on with one
// poll(2) (or one sleep when only clocks are subscribed).
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <functional>
#include <vector>

#include "sys/sys_error.h"
#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_native.h"

namespace wwjail {

using namespace wasi;

namespace {

uint64_t monotonic_now() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return nanos(ts);
}

// One call of poll_oneoff: its subscriptions, read from the guest's array,
// and the events written to the guest's array at `out`, in order.
class PollRound {
 public:
  // `host_fd`: the host descriptor of a guest fd, or -1.
  PollRound(LinearMemory& mem, uint32_t out, std::function<int(uint32_t)> host_fd)
      : mem_(mem), out_(out), host_fd_(std::move(host_fd)), now_(monotonic_now()) {}

  // Reads `count` subscriptions at `in` (already bounds-checked); one that
  // cannot be waited on (an unknown clock or type, a bad fd) is answered at
  // once with its error.
  void subscribe(uint32_t in, uint32_t count) {
    subs_.assign(count, Sub{0, 0, 0, 0});
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t s = in + i * layout::kSubscription;
      Sub& sub = subs_[i];
      mem_.load(s, sub.userdata);
      mem_.load(s + 8, sub.tag);
      if (sub.tag == kEventClock) subscribe_clock(sub, s);
      else if (sub.tag == kEventFdRead || sub.tag == kEventFdWrite) subscribe_fd(sub, s, i);
      else answer_now(sub, kInval);
    }
  }

  // Waits for the first subscription to fire and writes the events of all
  // that did. Only when no error was answered already.
  Errno wait() {
    if (pfds_.empty()) {
      sleep_until_earliest();
    } else if (Errno e = poll_fds()) {
      return e;
    }
    now_ = monotonic_now();
    for (const auto& sub : subs_) {
      if (sub.tag == kEventClock && sub.deadline <= now_) event(sub.userdata, kSuccess, kEventClock, 0, 0);
    }
    return kSuccess;
  }

  uint32_t events() const { return nevents_; }

 private:
  struct Sub {
    uint64_t userdata;
    uint8_t tag;
    uint64_t deadline;  // clock: monotonic deadline in ns
    uint32_t fd;
  };
  static constexpr uint8_t kAnswered = 0xff;  // a subscription answered when read

  void event(uint64_t userdata, uint16_t error, uint8_t type, uint64_t nbytes, uint16_t flags) {
    uint32_t e = out_ + nevents_ * layout::kEvent;
    std::memset(mem_.at(e), 0, layout::kEvent);
    mem_.store<uint64_t>(e, userdata);
    mem_.store<uint16_t>(e + 8, error);
    mem_.store<uint8_t>(e + 10, type);
    mem_.store<uint64_t>(e + 16, nbytes);
    mem_.store<uint16_t>(e + 24, flags);
    ++nevents_;
  }

  void answer_now(Sub& sub, Errno error) {
    event(sub.userdata, error, sub.tag, 0, 0);
    sub.tag = kAnswered;
  }

  void subscribe_clock(Sub& sub, uint32_t s) {
    uint32_t id = 0;
    uint64_t timeout = 0;
    uint16_t flags = 0;
    mem_.load(s + 16, id);
    mem_.load(s + 24, timeout);
    mem_.load(s + 40, flags);
    clockid_t c;
    if (!clock_of(id, c)) return answer_now(sub, kInval);
    uint64_t relative = timeout;
    if (flags & kSubclockAbstime) {
      struct timespec t;
      ::clock_gettime(c, &t);
      relative = timeout > nanos(t) ? timeout - nanos(t) : 0;
    }
    sub.deadline = relative > UINT64_MAX - now_ ? UINT64_MAX : now_ + relative;  // "never" stays never
    earliest_ = std::min(earliest_, sub.deadline);
  }

  void subscribe_fd(Sub& sub, uint32_t s, uint32_t index) {
    mem_.load(s + 16, sub.fd);
    int host = host_fd_(sub.fd);
    if (host < 0) return answer_now(sub, kBadf);
    pfds_.push_back({host, static_cast<short>(sub.tag == kEventFdRead ? POLLIN : POLLOUT), 0});
    pfd_sub_.push_back(index);
  }

  void sleep_until_earliest() {
    if (earliest_ <= now_) return;
    struct timespec until = to_timespec(earliest_);
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
  }

  Errno poll_fds() {
    int timeout_ms = -1;
    if (earliest_ != UINT64_MAX) {
      uint64_t wait = earliest_ > now_ ? earliest_ - now_ : 0;
      timeout_ms = static_cast<int>(std::min<uint64_t>((wait + 999999) / 1000000, INT32_MAX));
    }
    if (retry_eintr([&] { return ::poll(pfds_.data(), pfds_.size(), timeout_ms); }) < 0) return last_error();
    for (size_t k = 0; k < pfds_.size(); ++k) {
      if (!pfds_[k].revents) continue;
      const Sub& sub = subs_[pfd_sub_[k]];
      uint16_t flags = (pfds_[k].revents & POLLHUP) ? kEventHangup : 0;
      uint16_t err = (pfds_[k].revents & POLLNVAL) ? kBadf : 0;
      uint64_t nbytes = 0;
      if (sub.tag == kEventFdRead) {
        int avail = 0;
        if (::ioctl(pfds_[k].fd, FIONREAD, &avail) == 0 && avail > 0) nbytes = static_cast<uint64_t>(avail);
      }
      event(sub.userdata, err, sub.tag, nbytes, flags);
    }
    return kSuccess;
  }

  LinearMemory& mem_;
  uint32_t out_;
  std::function<int(uint32_t)> host_fd_;
  uint64_t now_;
  uint64_t earliest_ = UINT64_MAX;
  uint32_t nevents_ = 0;
  std::vector<Sub> subs_;
  std::vector<struct pollfd> pfds_;
  std::vector<uint32_t> pfd_sub_;  // per pollfd: its subscription
};

}  // namespace

uint32_t WasiHost::poll_oneoff(uint32_t in, uint32_t out, uint32_t count, uint32_t nevents_out) {
  if (count == 0) return kInval;
  if (!mem_.in_bounds(in, uint64_t{count} * layout::kSubscription) ||
      !mem_.in_bounds(out, uint64_t{count} * layout::kEvent) || !mem_.in_bounds(nevents_out, 4))
    return kFault;
  PollRound round(mem_, out, [this](uint32_t fd) { return host_fd(fd); });
  round.subscribe(in, count);
  if (round.events() == 0) {
    if (Errno e = round.wait()) return e;
  }
  mem_.store<uint32_t>(nevents_out, round.events());
  return kSuccess;
}

}  // namespace wwjail
