// AsyncOps for handlers that run on the notify thread: each operation is
// queued and handed to the main thread (an eventfd wakes its event loop),
// which submits it to the loop it owns, as the guest the notify thread
// acted for; a loop that takes submissions from any thread (epoll's) gets
// them directly. Completion callbacks run on the main thread.
#pragma once

#include <mutex>
#include <vector>

#include "broker/async_ops.h"
#include "broker/event_loop.h"
#include "sys/unique_fd.h"

namespace wwjail {

class AsyncHandoff final : public AsyncOps {
 public:
  // Must be constructed on the loop's thread.
  explicit AsyncHandoff(EventLoop& ring);
  // Any thread.
  void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) override;
  void connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
               std::function<void(int)> done) override;
  void sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
               std::function<void(int)> done) override;

 private:
  // Runs `submit` on the ring's thread, as the guest this thread acts for;
  // `peer_ids`: with its effective and real ids too (socket operations).
  void hand_over(std::function<void()> submit, bool peer_ids = false);
  void drain();  // ring thread

  EventLoop& ring_;
  UniqueFd wake_;
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
};

}  // namespace wwjail
