#include "broker/control/stop_requests.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include "sys/sys_error.h"

namespace wwjail::control {

StopRequests::StopRequests() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wake_.valid()) throw_sys("eventfd (stop requests)");
}

void StopRequests::ask(Level level) {
  int seen = level_.load();
  while (seen < level && !level_.compare_exchange_weak(seen, level)) {
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

StopRequests::Taken StopRequests::take() {
  uint64_t n;
  (void)!::read(wake_.get(), &n, sizeof n);
  int level = level_.load();
  Taken t{.terminate = taken_ < kTerminate && level >= kTerminate, .kill = taken_ < kKill && level >= kKill};
  if (level > taken_) taken_ = level;
  return t;
}

}  // namespace wwjail::control
