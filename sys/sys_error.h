// The error contract (written down once, see README "Errors"):
//  * A guest syscall that is denied or fails is ordinary logic: handlers return
//    a Verdict carrying an errno. Nothing is thrown for it.
//  * A failure of wwjail itself (setup, a broker bug, an exhausted resource)
//    throws SysError or SetupError; main turns it into one line on stderr and
//    exit status 125 before the guest starts, or kills the guest tree after.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wwjail {

// A syscall made by wwjail itself failed. Carries which call and on what.
class SysError : public std::runtime_error {
 public:
  SysError(std::string_view what, int err);
  int error() const { return err_; }

 private:
  int err_;
};

// Bad input or a missing kernel feature detected before the guest starts.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_sys(std::string_view what, int err = errno);

// Runs f until it does not fail with EINTR.
template <typename F>
auto retry_eintr(F&& f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r;
}

// Calls f (retrying EINTR); on -1 throws SysError naming `what`.
template <typename F>
auto check_sys(std::string_view what, F&& f) {
  auto r = retry_eintr(f);
  if (r == -1) throw_sys(what);
  return r;
}

}  // namespace wwjail
