#include "broker/async_handoff.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "sys/sys_error.h"

namespace wwjail {

AsyncHandoff::AsyncHandoff(RingLoop& ring) : ring_(ring) {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) throw_sys("eventfd");
  ring_.watch_readable(wake_.get(), [this](uint32_t) {
    uint64_t count;
    (void)!::read(wake_.get(), &count, sizeof count);
    drain();
    return true;
  });
}

void AsyncHandoff::openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({dirfd, std::move(path), how, std::move(done)});
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void AsyncHandoff::drain() {
  std::vector<Pending> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (auto& p : batch) ring_.openat2(p.dirfd, std::move(p.path), p.how, std::move(p.done));
}

}  // namespace wwjail
