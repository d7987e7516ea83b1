// The closed set of answers a handler can give to one notification.
// Unhandled never means CONTINUE: the dispatcher's default is an errno.
#pragma once

#include <cstdint>

#include "sys/unique_fd.h"

namespace wwjail {

struct Verdict {
  enum class Kind : uint8_t {
    kError,     // fail the syscall with `err`
    kValue,     // the broker performed it; return `value`
    kContinue,  // let the kernel run it: only where the decision rests on
                // registers alone, or Landlock enforces the same rule
    kInjectFd,  // the broker opened `fd`; install it in the guest and return its number
    kDeferred,  // an io_uring operation is in flight; its completion answers
  };
  Kind kind = Kind::kError;
  int err = 0;
  int64_t value = 0;
  UniqueFd fd;
  bool cloexec = false;

  static Verdict error(int e) { return {Kind::kError, e, 0, {}, false}; }
  static Verdict value_of(int64_t v) { return {Kind::kValue, 0, v, {}, false}; }
  static Verdict cont() { return {Kind::kContinue, 0, 0, {}, false}; }
  static Verdict inject(UniqueFd f, bool close_on_exec) { return {Kind::kInjectFd, 0, 0, std::move(f), close_on_exec}; }
  static Verdict deferred() { return {Kind::kDeferred, 0, 0, {}, false}; }
};

}  // namespace wwjail
