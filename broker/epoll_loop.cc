#include "broker/epoll_loop.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

constexpr uint64_t kWakeToken = 0;  // watches count from 1

// poll(2) and epoll share the bit values of IN, ERR and HUP.
static_assert(EPOLLIN == POLLIN && EPOLLERR == POLLERR && EPOLLHUP == POLLHUP);

int result_of(long rc) { return rc < 0 ? -errno : static_cast<int>(rc); }

}  // namespace

EpollLoop::EpollLoop(BlockingPool::Limits limits) : own_ids_(ThreadIds::of_caller()) {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) throw_sys("epoll_create1");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) throw_sys("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) throw_sys("epoll_ctl");
  pool_ = std::make_unique<BlockingPool>(limits);
}

EpollLoop::~EpollLoop() { pool_.reset(); }

void EpollLoop::watch_readable(int fd, std::function<bool(uint32_t)> cb) {
  uint64_t token = next_token_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw_sys("epoll_ctl (watch)");
  watches_.emplace(token, Watch{fd, std::make_shared<std::function<bool(uint32_t)>>(std::move(cb))});
}

void EpollLoop::submit(std::shared_ptr<Op> state, std::function<int(Op&)> op) {
  BlockingPool::Job job;
  job.as = JobIdentity::of_caller(own_ids_);
  job.op = [raw = state.get(), op = std::move(op)] { return op(*raw); };
  job.then = [this, state = std::move(state)](int result) mutable {
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done_.emplace_back(std::move(state), result);
    }
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  };
  pool_->submit(std::move(job));
}

void EpollLoop::openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) {
  auto op = std::make_shared<Op>();
  op->path = std::move(path);
  op->how = how;
  op->done = std::move(done);
  submit(std::move(op), [dirfd](Op& o) { return result_of(kernel::openat2(dirfd, o.path.c_str(), o.how)); });
}

void EpollLoop::connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
                        std::function<void(int)> done) {
  auto op = std::make_shared<Op>();
  op->addr = addr;
  op->keep = std::move(keep);
  op->done = std::move(done);
  submit(std::move(op), [fd, len](Op& o) {
    return result_of(::connect(fd, reinterpret_cast<const sockaddr*>(&o.addr), len));
  });
}

void EpollLoop::sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
                        std::function<void(int)> done) {
  auto op = std::make_shared<Op>();
  op->message = std::move(message);
  op->keep = std::move(keep);
  op->done = std::move(done);
  submit(std::move(op), [fd, flags](Op& o) { return result_of(::sendmsg(fd, &o.message->msg, flags)); });
}

void EpollLoop::dispatch(uint64_t token, uint32_t events) {
  auto it = watches_.find(token);
  if (it == watches_.end()) return;  // removed earlier in this batch
  // The callback may add watches (rehashing the map): hold it by value.
  std::shared_ptr<std::function<bool(uint32_t)>> cb = it->second.cb;
  int fd = it->second.fd;
  if ((*cb)(events)) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  watches_.erase(token);
}

void EpollLoop::drain_completions() {
  uint64_t count;
  (void)!::read(wake_.get(), &count, sizeof count);
  std::vector<std::pair<std::shared_ptr<Op>, int>> batch;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    batch.swap(done_);
  }
  for (auto& [op, result] : batch) op->done(result);
}

void EpollLoop::run(const std::function<bool()>& stop) {
  while (!stop()) {
    epoll_event events[64];
    int n = ::epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_sys("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeToken) {
        drain_completions();
      } else {
        dispatch(events[i].data.u64, events[i].events);
      }
    }
  }
}

}  // namespace wwjail
