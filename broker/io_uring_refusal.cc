#include "broker/io_uring_refusal.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

namespace wwjail {
namespace {

// kernel.io_uring_disabled (0, 1 or 2); nullopt before Linux 6.6.
std::optional<int> sysctl_value(const char* path) {
  std::ifstream in(path);
  int v;
  if (in >> v) return v;
  return std::nullopt;
}

// 0: no seccomp, 1: strict, 2: filters (the "Seccomp:" line of
// /proc/self/status).
int seccomp_mode() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Seccomp:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

std::string cause(int err, std::optional<int> disabled, bool filtered) {
  const std::string filter = "refused by a seccomp filter around wwjail, as a container runtime's default profile does";
  switch (err) {
    case ENOSYS:
      return filtered ? filter : "this kernel has no io_uring (built without CONFIG_IO_URING)";
    case EPERM:
      if (disabled == 2) return "disabled for everyone by kernel.io_uring_disabled = 2";
      if (disabled == 1)
        return "kernel.io_uring_disabled = 1 allows it only to the group kernel.io_uring_group and to CAP_SYS_ADMIN";
      return filtered ? filter : "not permitted";
    case EINVAL:
      return "the kernel is too old for the ring's setup flags (Linux 5.19 or later is needed)";
    case ENOMEM:
      return "not enough locked memory (RLIMIT_MEMLOCK)";
    default:
      return "unexpected";
  }
}

}  // namespace

std::string io_uring_refusal(int err) {
  return io_uring_refusal(err, sysctl_value("/proc/sys/kernel/io_uring_disabled"), seccomp_mode() == 2);
}

std::string io_uring_refusal(int err, std::optional<int> disabled, bool filtered) {
  std::string text = "io_uring_setup: " + std::string(std::strerror(err)) + ": " + cause(err, disabled, filtered);
  // The record of both facts, whichever was blamed.
  text += disabled ? " (kernel.io_uring_disabled is " + std::to_string(*disabled) + ")"
                   : " (this kernel has no kernel.io_uring_disabled sysctl)";
  return text;
}

}  // namespace wwjail
