#include "broker/async_handoff.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "broker/guest_identity.h"
#include "sys/sys_error.h"

namespace wwjail {

AsyncHandoff::AsyncHandoff(EventLoop& ring) : ring_(ring) {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) throw_sys("eventfd");
  ring_.watch_readable(wake_.get(), [this](uint32_t) {
    uint64_t count;
    (void)!::read(wake_.get(), &count, sizeof count);
    drain();
    return true;
  });
}

void AsyncHandoff::hand_over(std::function<void()> submit, bool peer_ids) {
  if (ring_.submits_from_any_thread()) {
    // This thread acts as the guest already; the loop takes that identity.
    std::optional<PeerIdsAsGuest> peer;
    if (peer_ids && ActingAs::current()) peer.emplace();
    submit();
    return;
  }
  // The ring's thread submits as the guest this thread acts for, if any.
  auto as_guest = [who = ActingAs::current(), peer_ids, submit = std::move(submit)] {
    std::optional<ActingAs> acting;
    std::optional<PeerIdsAsGuest> peer;
    if (who) acting.emplace(*who);
    if (who && peer_ids) peer.emplace();
    submit();
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(as_guest));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void AsyncHandoff::openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) {
  hand_over([this, dirfd, path = std::move(path), how, done = std::move(done)]() mutable {
    ring_.openat2(dirfd, std::move(path), how, std::move(done));
  });
}

void AsyncHandoff::connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
                           std::function<void(int)> done) {
  hand_over([this, fd, addr, len, keep = std::move(keep), done = std::move(done)]() mutable {
    ring_.connect(fd, addr, len, std::move(keep), std::move(done));
  }, /*peer_ids=*/true);
}

void AsyncHandoff::sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
                           std::function<void(int)> done) {
  hand_over([this, fd, message = std::move(message), flags, keep = std::move(keep), done = std::move(done)]() mutable {
    ring_.sendmsg(fd, std::move(message), flags, std::move(keep), std::move(done));
  }, /*peer_ids=*/true);
}

void AsyncHandoff::drain() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (auto& submit : batch) submit();
}

}  // namespace wwjail
