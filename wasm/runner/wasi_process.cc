// WASI host calls about the process: its arguments and environment,
// clocks, randomness, yielding, exit and signals.
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sys/sys_error.h"
#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_native.h"

namespace wwjail {

using namespace wasi;

uint32_t WasiHost::args_get(uint32_t argv, uint32_t buf) {
  return mem_.put_strings(args_, argv, buf);
}

uint32_t WasiHost::args_sizes_get(uint32_t argc_out, uint32_t size_out) {
  return mem_.put_string_sizes(args_, argc_out, size_out);
}

uint32_t WasiHost::environ_get(uint32_t env, uint32_t buf) {
  return mem_.put_strings(env_, env, buf);
}

uint32_t WasiHost::environ_sizes_get(uint32_t count_out, uint32_t size_out) {
  return mem_.put_string_sizes(env_, count_out, size_out);
}

namespace {

// clock_res_get and clock_time_get: `read` (clock_getres or clock_gettime)
// of WASI's clock `id`, in nanoseconds at `out`.
Errno read_clock(LinearMemory& mem, uint32_t id, uint32_t out, int (*read)(clockid_t, struct timespec*)) {
  clockid_t c;
  if (!clock_of(id, c)) return kInval;
  struct timespec ts;
  if (read(c, &ts) != 0) return last_error();
  return mem.store<uint64_t>(out, nanos(ts)) ? kSuccess : kFault;
}

}  // namespace

uint32_t WasiHost::clock_res_get(uint32_t id, uint32_t out) { return read_clock(mem_, id, out, ::clock_getres); }

uint32_t WasiHost::clock_time_get(uint32_t id, uint64_t, uint32_t out) {
  return read_clock(mem_, id, out, ::clock_gettime);
}

uint32_t WasiHost::random_get(uint32_t buf, uint32_t len) {
  if (!mem_.in_bounds(buf, len)) return kFault;
  uint32_t done = 0;
  while (done < len) {
    ssize_t n = retry_eintr([&] { return ::getrandom(mem_.at(buf + done), len - done, 0); });
    if (n < 0) return last_error();
    done += static_cast<uint32_t>(n);
  }
  return kSuccess;
}

uint32_t WasiHost::sched_yield() {
  ::sched_yield();
  return kSuccess;
}

void WasiHost::proc_exit(uint32_t code) { ::_exit(static_cast<int>(code)); }

uint32_t WasiHost::proc_raise(uint32_t sig) {
  // WASI's signal numbers, in order, as Linux's.
  static const int kSignals[] = {0,       SIGHUP,  SIGINT,  SIGQUIT, SIGILL,    SIGTRAP,   SIGABRT, SIGBUS,
                                 SIGFPE,  SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2,   SIGPIPE,   SIGALRM, SIGTERM,
                                 SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN,   SIGTTOU,   SIGURG,  SIGXCPU,
                                 SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGPOLL, SIGPWR, SIGSYS};
  if (sig == 0 || sig >= sizeof kSignals / sizeof kSignals[0]) return kInval;
  // A stopped runner is a stopped run: wwjail waits for it and forwards
  // SIGTERM and SIGINT, which a stopped process does not act on until
  // someone sends SIGCONT. A guest does not stop itself.
  int native = kSignals[sig];
  if (native == SIGSTOP || native == SIGTSTP || native == SIGTTIN || native == SIGTTOU) return kNotSup;
  return ::raise(native) == 0 ? kSuccess : last_error();
}

}  // namespace wwjail
