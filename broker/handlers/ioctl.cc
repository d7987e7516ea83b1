// ioctl commands the filter does not allow. The allow-list
// (shim/ioctl_allowlist.cc) is decided on registers in the filter; what
// reaches the broker is every other command. All of it is refused: the broker only adds the log line the
// filter cannot write. Never CONTINUE here, whatever the command: the
// filter is the one place that says yes.
#include <cerrno>
#include <cstdio>
#include <string>

#include "broker/guest_proc.h"
#include "broker/handlers/handlers.h"
#include "shim/ioctl_allowlist.h"

namespace wwjail {

Verdict on_ioctl(Call& n, const Services&) {
  // The kernel takes the descriptor as unsigned int. Its name is for the
  // log line only; nothing is decided on it, so no duplicate is needed.
  int fd = static_cast<int>(static_cast<uint32_t>(n.args()[0]));
  std::string target;
  if (guest_proc::fd_target(n.tid(), fd, target) != 0) target = "fd " + std::to_string(fd);
  uint64_t cmd = n.args()[1];
  std::string why = "ioctl " + describe_ioctl(cmd);
  // The kernel drops the upper half; say so, since the guest put it there.
  if (cmd >> 32) {
    char high[48];
    std::snprintf(high, sizeof high, " (upper half 0x%08x ignored by the kernel)", static_cast<uint32_t>(cmd >> 32));
    why += high;
  }
  why += " is not on the allow-list";
  return n.refuse({.target = target, .need = "ioctl", .err = EPERM, .reason = why, .storage = false});
}

}  // namespace wwjail
