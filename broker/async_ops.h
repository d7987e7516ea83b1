// Operations that can block (opening a FIFO, a slow filesystem) go through
// the broker's io_uring, so one guest's slow open never stalls the others.
// Behind an interface so handlers are testable with a synchronous fake.
#pragma once

#include <linux/openat2.h>
#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sys/unique_fd.h"

namespace wwjail {

class AsyncOps {
 public:
  virtual ~AsyncOps() = default;
  // openat2 through the ring; `done` receives the new fd or -errno, later,
  // on the broker's thread. `path` and `how` are kept alive until then.
  virtual void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) = 0;

  // A message the broker sends for a guest: everything it points to is owned
  // here, copied out of guest memory once.
  struct OwnedMessage {
    sockaddr_storage name{};
    socklen_t name_len = 0;
    std::vector<char> payload;
    std::vector<char> control;
    // Descriptors the message refers to (SCM_RIGHTS duplicates, a pinned
    // unix socket inode): open until the message is sent.
    std::vector<UniqueFd> held;
    msghdr msg{};
    iovec iov{};
    // Points msg at the owned buffers (call after filling them).
    void seal() {
      iov = {payload.data(), payload.size()};
      msg = {};
      msg.msg_name = name_len ? &name : nullptr;
      msg.msg_namelen = name_len;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.empty() ? nullptr : control.data();
      msg.msg_controllen = control.size();
    }
  };
  // connect / sendmsg through the ring on a socket the broker holds (`keep`
  // keeps it, and anything else, alive until `done` runs).
  virtual void connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
                       std::function<void(int)> done) = 0;
  virtual void sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
                       std::function<void(int)> done) = 0;
};

}  // namespace wwjail
