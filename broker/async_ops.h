// Operations that can block (opening a FIFO, a slow filesystem) go through
// the broker's io_uring, so one guest's slow open never stalls the others.
// Behind an interface so handlers are testable with a synchronous fake.
#pragma once

#include <linux/openat2.h>

#include <functional>
#include <string>

namespace wwjail {

class AsyncOps {
 public:
  virtual ~AsyncOps() = default;
  // openat2 through the ring; `done` receives the new fd or -errno, later,
  // on the broker's thread. `path` and `how` are kept alive until then.
  virtual void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) = 0;
};

}  // namespace wwjail
