// run_bench: measures wwjail's overhead against native runs of the same
// guests (bench/syscall_bench.c, bench/http_server.c) and prints one table
// row per target.
//
// Every figure is a comparison made in the same run: the machine is noisy, so
// native and jailed runs alternate within each round (the order flips every
// round, so slow drift hits both sides alike), every round yields one paired
// ratio, and a row reports the median of those ratios. A missed target is a
// result, not an error: the exit status is 0 unless a run crashed, hung,
// printed something unparsable or got a wrong answer from the jail (then 1;
// usage errors 2).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sys/unique_fd.h"

#ifndef WWJAIL_BIN
#define WWJAIL_BIN "wwjail"
#endif
#ifndef BENCH_GUEST
#define BENCH_GUEST "syscall_bench"
#endif
#ifndef BENCH_HTTP_GUEST
#define BENCH_HTTP_GUEST "http_server"
#endif

namespace wwjail::bench {
namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------------------
// Child processes, held by pidfd so a timeout can never signal a reused pid.

enum class Stdio { kNull, kPipe };

class Child {
 public:
  // Starts argv[0] (a path, not searched). stdin/stdout/stderr are each
  // /dev/null or a pipe to us. Throws std::runtime_error if fork fails.
  static Child spawn(const std::vector<std::string>& argv, Stdio in, Stdio out, Stdio err) {
    // Everything the child needs is built before fork: after it, the child
    // only dup2s and execs.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if ((in == Stdio::kPipe && ::pipe2(pin, O_CLOEXEC)) || (out == Stdio::kPipe && ::pipe2(pout, O_CLOEXEC)) ||
        (err == Stdio::kPipe && ::pipe2(perr, O_CLOEXEC)))
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    Child c;
    c.in_.reset(pin[1]);
    c.out_.reset(pout[0]);
    c.err_.reset(perr[0]);
    UniqueFd child_in(pin[0]), child_out(pout[1]), child_err(perr[1]);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::dup2(in == Stdio::kPipe ? child_in.get() : devnull.get(), 0);
      ::dup2(out == Stdio::kPipe ? child_out.get() : devnull.get(), 1);
      ::dup2(err == Stdio::kPipe ? child_err.get() : devnull.get(), 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    c.pid_ = pid;
    // An unreaped child cannot be replaced by another process, so this pidfd
    // names exactly the child just forked.
    c.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!c.pidfd_.valid()) throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(errno));
    return c;
  }

  Child() = default;
  Child(Child&&) = default;
  Child& operator=(Child&&) = default;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(SIGKILL);
      wait_for(5000);
    }
  }

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_.get(); }
  void close_stdin() { in_.reset(); }
  void kill(int sig) {
    if (!reaped_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
  }

  // Reads stdout and stderr until both reach EOF, or the deadline passes.
  // Returns false on timeout.
  bool drain(int64_t deadline_ns) {
    for (;;) {
      pollfd fds[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
      if (fds[0].fd < 0 && fds[1].fd < 0) return true;
      int64_t left_ms = (deadline_ns - now_ns()) / 1000000;
      if (left_ms <= 0) return false;
      int rc = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
      if (rc < 0 && errno != EINTR) return false;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          (i == 0 ? out : err).append(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          (i == 0 ? out_ : err_).reset();
        }
      }
    }
  }

  // Reads stdout until it holds a full line starting with `prefix`.
  bool read_line_starting(const std::string& prefix, int64_t deadline_ns) {
    for (;;) {
      size_t at = 0;
      while (at < out.size()) {
        size_t nl = out.find('\n', at);
        if (nl == std::string::npos) break;
        if (out.compare(at, prefix.size(), prefix) == 0) return true;
        at = nl + 1;
      }
      if (!out_.valid()) return false;
      int64_t left_ms = (deadline_ns - now_ns()) / 1000000;
      if (left_ms <= 0) return false;
      pollfd p{out_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000))) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_.get(), buf, sizeof buf);
      if (n > 0) out.append(buf, static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR) out_.reset();
    }
  }

  // Waits for exit; returns false on timeout. status() is then like a
  // shell's $?: the exit code, or 128+N after signal N.
  bool wait_for(int timeout_ms) {
    if (reaped_) return true;
    pollfd p{pidfd_.get(), POLLIN, 0};
    int64_t deadline = now_ns() + static_cast<int64_t>(timeout_ms) * 1000000;
    for (;;) {
      int64_t left_ms = (deadline - now_ns()) / 1000000;
      int rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left_ms, 0)));
      if (rc > 0) break;
      if (rc == 0) return false;
      if (errno != EINTR) return false;
    }
    siginfo_t si{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &si, WEXITED) != 0) {
      if (errno != EINTR) return false;
    }
    reaped_ = true;
    status_ = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
    return true;
  }

  int status() const { return status_; }

  std::string out, err;  // what drain() / read_line_starting() collected

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_, in_, out_, err_;
  bool reaped_ = false;
  int status_ = -1;
};

// One complete run with output captured.
struct RunResult {
  bool ok = false;  // exited 0 within the timeout
  int status = -1;
  bool timed_out = false;
  std::string out, err;
  int64_t wall_ns = 0;
};

RunResult run_capture(const std::vector<std::string>& argv, int timeout_s) {
  RunResult r;
  int64_t t0 = now_ns();
  Child c = Child::spawn(argv, Stdio::kNull, Stdio::kPipe, Stdio::kPipe);
  int64_t deadline = t0 + static_cast<int64_t>(timeout_s) * 1000000000;
  if (!c.drain(deadline)) {
    r.timed_out = true;
    c.kill(SIGKILL);
  }
  if (!c.wait_for(r.timed_out ? 5000 : std::max<int>(1, static_cast<int>((deadline - now_ns()) / 1000000)))) {
    r.timed_out = true;
    c.kill(SIGKILL);
    c.wait_for(5000);
  }
  r.wall_ns = now_ns() - t0;
  r.status = c.status();
  r.out = std::move(c.out);
  r.err = std::move(c.err);
  r.ok = !r.timed_out && r.status == 0;
  return r;
}

// One line: how the run ended, then its stderr lines. wwjail and the guest
// write to the same stderr and their order is a race, so the lines are
// sorted and de-duplicated: the same failure then reads the same every time.
std::string describe_failure(const RunResult& r) {
  std::string s = r.timed_out ? "timed out" : "exit status " + std::to_string(r.status);
  std::set<std::string> lines;
  std::stringstream in(r.err.size() > 2000 ? r.err.substr(r.err.size() - 2000) : r.err);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.insert(line);
  if (!lines.empty()) s += "; stderr:";
  for (const auto& l : lines) {
    s += " [";
    s += l;
    s += ']';
  }
  return s;
}

// "rounds 3, 4, 9: MESSAGE" for each distinct message, in order of first appearance.
std::vector<std::string> group_by_message(const std::vector<std::pair<int, std::string>>& failures) {
  std::vector<std::pair<std::string, std::vector<int>>> groups;
  for (const auto& [round, msg] : failures) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == msg; });
    if (it == groups.end()) groups.push_back({msg, {round}});
    else it->second.push_back(round);
  }
  std::vector<std::string> out;
  for (const auto& [msg, rounds] : groups) {
    std::string s = rounds.size() > 1 ? "rounds " : "round ";
    for (size_t i = 0; i < rounds.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(rounds[i]);
    }
    out.push_back(s + ": " + msg);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Configuration.

struct Options {
  std::string wwjail = WWJAIL_BIN;
  std::string guest = BENCH_GUEST;
  std::string http_guest = BENCH_HTTP_GUEST;
  bool quick = false;
  bool verbose = false;
  int rounds = 0;  // 0: the mode's default
  std::set<std::string> only;
};

struct Plan {
  int rounds;           // rounds of the per-syscall ops
  long getppid_iters;
  long pread_iters;
  long open_iters;
  int startup_runs;     // per side
  int rss_rounds;
  int timeout_s;
  long connect_iters;   // connect+close per run
  int http_rounds;      // native/jailed server pairs
  int http_warmup_ms;   // load before counting starts, per run
  int http_duration_ms; // counted load, per run
};

// The load the HTTP benchmark puts on the server (see bench_http).
constexpr int kHttpConns = 32;
constexpr int kHttpThreads = 2;

Plan make_plan(const Options& o) {
  // Many short runs rather than a few long ones: every round is one more
  // native/jailed pair, and the median of many pairs shrugs off the rounds
  // that another process disturbed.
  Plan p = o.quick ? Plan{7, 100000, 50000, 2000, 15, 1, 20, 1000, 7, 200, 600}
                   : Plan{31, 300000, 150000, 6000, 40, 3, 60, 3000, 13, 300, 2000};
  if (o.rounds > 0) p.rounds = o.rounds;
  return p;
}

bool wanted(const Options& o, const char* group) { return o.only.empty() || o.only.count(group); }

// ---------------------------------------------------------------------------
// Table rows.

struct Row {
  std::string name;
  std::string native, jailed, ratio, target, result, samples;
  std::vector<std::string> notes;  // printed under the table
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string fmt_ns(double ns) {
  if (ns < 10000) return fmt("%.1f ns", ns);
  if (ns < 10000000) return fmt("%.2f us", ns / 1000);
  return fmt("%.2f ms", ns / 1e6);
}

// ---------------------------------------------------------------------------
// (a) + (b): per-syscall cost, native vs jailed, paired within each round.

struct Variant {
  std::string label;  // "native", "jailed", or what distinguishes this jailed variant
  std::vector<std::string> argv;
  double target_ratio = 0;  // pass when the ratio is <= this; 0: a reference row, no target
};

// Reference variants (no target): the kernel mechanism alone, no wwjail.
constexpr const char* kFloorLabel = "no jail, allow-all seccomp";
constexpr const char* kNotifyFloorLabel = "no jail, bare notify+CONTINUE";

struct OpBench {
  std::string name;  // row label
  std::vector<Variant> variants;  // [0] is native; the rest are compared to it
  std::vector<std::vector<double>> per_round;  // [round][variant]; < 0: that run failed
  std::vector<std::vector<std::pair<int, std::string>>> errors;  // [variant]: (round, what failed)
  // Each run gets its own loopback listener (AcceptLoop); kPortToken in its
  // argv stands for the listener's port.
  bool needs_listener = false;
};

constexpr const char* kPortToken = "@PORT@";

// A TCP listener on 127.0.0.1, on a free port the kernel picks, with a
// thread that accepts and closes every connection as it comes, so a guest
// that connects in a loop never fills the backlog. One per run: the client
// side of each closed connection stays in TIME_WAIT for a minute, and a
// fresh port keeps those from crowding the next run's choice of local ports.
class AcceptLoop {
 public:
  AcceptLoop() {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!fd_.valid() || !stop_.valid()) throw std::runtime_error(std::string("socket/eventfd: ") + std::strerror(errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_.get(), SOMAXCONN) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
      throw std::runtime_error(std::string("listener on 127.0.0.1: ") + std::strerror(errno));
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;
  ~AcceptLoop() {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  int port() const { return port_; }
  long accepted() const { return accepted_.load(); }

 private:
  void loop() {
    for (;;) {
      pollfd p[2] = {{fd_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
      if (p[1].revents) return;
      for (;;) {
        int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;  // EAGAIN: the queue is empty
        ::close(c);
        accepted_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  UniqueFd fd_, stop_;
  int port_ = 0;
  std::atomic<long> accepted_{0};
  std::thread thread_;
};

std::vector<std::string> with_port(std::vector<std::string> argv, int port) {
  for (auto& a : argv)
    for (size_t at; (at = a.find(kPortToken)) != std::string::npos;) a.replace(at, std::strlen(kPortToken), std::to_string(port));
  return argv;
}

// One run of one variant, with its listener when the op needs one.
RunResult run_variant(const OpBench& op, size_t i, const Plan& plan) {
  if (!op.needs_listener) return run_capture(op.variants[i].argv, plan.timeout_s);
  AcceptLoop listener;
  return run_capture(with_port(op.variants[i].argv, listener.port()), plan.timeout_s);
}

std::optional<double> parse_ns_per_op(const std::string& out) {
  size_t at = out.find("ns_per_op=");
  if (at == std::string::npos) return std::nullopt;
  const char* s = out.c_str() + at + 10;
  char* end;
  double v = std::strtod(s, &end);
  if (end == s || !(v > 0)) return std::nullopt;
  return v;
}

void run_op_rounds(std::vector<OpBench>& ops, const Plan& plan, bool verbose) {
  for (auto& op : ops) op.errors.assign(op.variants.size(), {});
  // One unmeasured pass first: page cache, dynamic loader, CPU frequency.
  for (auto& op : ops)
    for (size_t i = 0; i < op.variants.size(); ++i) (void)run_variant(op, i, plan);

  for (int r = 0; r < plan.rounds; ++r) {
    for (auto& op : ops) {
      // The order flips every round, so drift during a round (another
      // process waking up, the CPU clocking down) favours no side.
      std::vector<size_t> order(op.variants.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (r % 2) std::reverse(order.begin(), order.end());
      std::vector<double> got(op.variants.size(), -1);
      for (size_t i : order) {
        RunResult res = run_variant(op, i, plan);
        std::optional<double> ns = res.ok ? parse_ns_per_op(res.out) : std::nullopt;
        if (ns) {
          got[i] = *ns;
        } else {
          op.errors[i].push_back({r + 1, res.ok ? "unparsable output: " + res.out : describe_failure(res)});
        }
      }
      op.per_round.push_back(got);
      if (verbose) {
        std::fprintf(stderr, "  round %2d  %-12s", r + 1, op.name.c_str());
        for (size_t i = 0; i < got.size(); ++i)
          std::fprintf(stderr, "  %s: %s", op.variants[i].label.c_str(), got[i] < 0 ? "ERR" : fmt_ns(got[i]).c_str());
        std::fprintf(stderr, "\n");
      }
    }
  }
}

// One row per variant other than native. native/jailed: medians over the rounds where
// that run succeeded; ratio: median over rounds of jailed/native of the same
// round (rounds where either failed are left out).
void op_rows(const OpBench& op, std::vector<Row>& rows, bool& any_error) {
  std::vector<double> native;
  for (const auto& round : op.per_round)
    if (round[0] >= 0) native.push_back(round[0]);
  for (size_t i = 1; i < op.variants.size(); ++i) {
    const Variant& v = op.variants[i];
    std::vector<double> jailed, ratios;
    for (const auto& round : op.per_round) {
      if (round[i] >= 0) jailed.push_back(round[i]);
      if (round[i] >= 0 && round[0] >= 0) ratios.push_back(round[i] / round[0]);
    }
    Row row;
    row.name = op.name + (v.label == "jailed" ? "" : " [" + v.label + "]");
    row.native = native.empty() ? "-" : fmt_ns(median(native));
    row.jailed = jailed.empty() ? "-" : fmt_ns(median(jailed));
    bool info = v.target_ratio <= 0;  // a reference figure, not a target
    row.target = info ? "(floor)" : fmt("<= %.2fx", v.target_ratio);
    row.samples = std::to_string(ratios.size()) + "/" + std::to_string(op.per_round.size());
    if (!ratios.empty()) {
      double r = median(ratios);
      row.ratio = fmt("%.2fx", r);
      row.result = info ? "-" : r <= v.target_ratio ? "PASS" : "FAIL";
      auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
      row.notes.push_back(fmt("ratio over rounds: min %.2fx", *lo) + fmt(", max %.2fx", *hi) + "; extra per op: " +
                          (jailed.empty() || native.empty() ? "-" : fmt_ns(median(jailed) - median(native))));
    } else {
      row.ratio = "-";
    }
    std::vector<std::string> errs;
    if (i == 1)  // native failures are listed once, under the op's first row
      for (const auto& e : group_by_message(op.errors[0])) errs.push_back("native failed in " + e);
    for (const auto& e : group_by_message(op.errors[i])) errs.push_back(v.label + " failed in " + e);
    if (!op.errors[i].empty() || ratios.empty()) {
      row.result = "ERROR";
      any_error = true;
    }
    if (!op.errors[0].empty()) any_error = true;
    for (auto& e : errs) row.notes.push_back(std::move(e));
    rows.push_back(std::move(row));
  }
}

// ---------------------------------------------------------------------------
// (c): start-up. Wall time from fork to reaping, /bin/true vs
// wwjail -- /bin/true, alternating; the row reports medians and the median
// of the paired differences.

Row bench_startup(const Options& o, const Plan& plan, bool& any_error) {
  const std::vector<std::string> native{"/bin/true"};
  const std::vector<std::string> jailed{o.wwjail, "--", "/bin/true"};
  Row row;
  row.name = "startup /bin/true";
  row.target = "<= +2 ms";

  // Returns the wall time in ns, or -1 (with a note) if the run failed.
  auto timed = [&](const std::vector<std::string>& argv) -> double {
    int64_t t0 = now_ns();
    Child c = Child::spawn(argv, Stdio::kNull, Stdio::kNull, Stdio::kNull);
    if (!c.wait_for(plan.timeout_s * 1000)) {
      row.notes.push_back(argv[0] + ": timed out");
      return -1;
    }
    int64_t t1 = now_ns();
    if (c.status() != 0) {
      row.notes.push_back(argv[0] + ": exit status " + std::to_string(c.status()));
      return -1;
    }
    return static_cast<double>(t1 - t0);
  };

  for (int i = 0; i < 3; ++i) {  // warm-up
    timed(native);
    timed(jailed);
  }
  std::vector<double> n, j, diff;
  for (int i = 0; i < plan.startup_runs; ++i) {
    double a, b;
    if (i % 2) {
      b = timed(jailed);
      a = timed(native);
    } else {
      a = timed(native);
      b = timed(jailed);
    }
    if (a >= 0) n.push_back(a);
    if (b >= 0) j.push_back(b);
    if (a >= 0 && b >= 0) diff.push_back(b - a);
  }
  row.native = n.empty() ? "-" : fmt("%.2f ms", median(n) / 1e6);
  row.jailed = j.empty() ? "-" : fmt("%.2f ms", median(j) / 1e6);
  row.samples = std::to_string(diff.size()) + "/" + std::to_string(plan.startup_runs);
  if (!diff.empty()) {
    double d = median(diff) / 1e6;
    row.ratio = fmt("%+.2f ms", d);
    row.result = d <= 2.0 ? "PASS" : "FAIL";
    auto [lo, hi] = std::minmax_element(diff.begin(), diff.end());
    row.notes.push_back(fmt("extra over runs: min %+.2f ms", *lo / 1e6) + fmt(", max %+.2f ms", *hi / 1e6));
  } else {
    row.ratio = "-";
  }
  if (diff.size() != static_cast<size_t>(plan.startup_runs)) {
    row.result = "ERROR";
    any_error = true;
  }
  return row;
}

// ---------------------------------------------------------------------------
// (d): the broker's memory with many guest processes alive.

// Reads a "Name:   N kB" field of /proc/PID/status; -1 if absent.
long status_kb(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  size_t len = std::strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':')
      return std::strtol(line.c_str() + len + 1, nullptr, 10);
  }
  return -1;
}

// Live descendants of `root` (not counting it), from each process's parent
// in /proc/N/stat. The comm field may hold spaces and parentheses, so the
// fields are read after its last ')'.
std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      char* end;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end || pid <= 0) continue;
      std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
      std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      size_t close = stat.rfind(')');
      if (close == std::string::npos) continue;
      char state;
      long ppid;
      if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) != 2 || state == 'Z') continue;
      children.emplace(static_cast<pid_t>(ppid), static_cast<pid_t>(pid));
    }
    ::closedir(d);
  }
  std::vector<pid_t> found;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) {
      found.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return found;
}

std::string exe_of(pid_t pid) {
  char buf[4096];
  ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

struct RssSample {
  double rss_mib = 0, hwm_mib = 0;
  int procs = 0;              // guest processes alive in the tree
  double helpers_mib = 0;     // VmRSS of wwjail's own helper processes in the tree (the reaper)
  int helpers = 0;
};

// Runs wwjail -- syscall_bench fork-hold N, and while every guest process is
// alive reads the broker's (the wwjail process's own) VmRSS a few times and
// keeps the largest.
std::optional<RssSample> measure_rss(const Options& o, const Plan& plan, int nprocs, std::string& error) {
  Child c = Child::spawn({o.wwjail, "--", o.guest, "fork-hold", std::to_string(nprocs)}, Stdio::kPipe, Stdio::kPipe,
                         Stdio::kPipe);
  int64_t deadline = now_ns() + static_cast<int64_t>(plan.timeout_s) * 1000000000;
  auto fail = [&](const std::string& what) -> std::optional<RssSample> {
    c.kill(SIGKILL);
    c.drain(now_ns() + 2000000000);
    c.wait_for(5000);
    RunResult r;
    r.status = c.status();
    r.err = c.err;
    error = what + " (" + describe_failure(r) + ")";
    return std::nullopt;
  };
  if (!c.read_line_starting("ready ", deadline)) return fail("the guest never reported ready");

  RssSample s;
  ::usleep(50000);  // let the last children reach their blocking read
  // The tree holds the guest's processes and wwjail's own helpers (its
  // reaper is a fork of the broker); tell them apart by executable.
  std::string broker_exe = exe_of(c.pid());
  for (pid_t p : descendants(c.pid())) {
    std::string exe = exe_of(p);
    if (exe == o.guest) {
      ++s.procs;
    } else if (exe == broker_exe) {
      ++s.helpers;
      s.helpers_mib += static_cast<double>(std::max(0L, status_kb(p, "VmRSS"))) / 1024;
    }
  }
  long rss = -1;
  for (int i = 0; i < 5; ++i) {
    rss = std::max(rss, status_kb(c.pid(), "VmRSS"));
    ::usleep(20000);
  }
  long hwm = status_kb(c.pid(), "VmHWM");
  if (rss < 0) return fail("cannot read VmRSS of the broker");
  s.rss_mib = static_cast<double>(rss) / 1024;
  s.hwm_mib = static_cast<double>(hwm) / 1024;

  c.close_stdin();  // EOF releases the guest, which releases its children
  if (!c.drain(deadline) || !c.wait_for(static_cast<int>(std::max<int64_t>(1, (deadline - now_ns()) / 1000000))))
    return fail("the guest did not exit after release");
  if (c.status() != 0 || c.out.find("done") == std::string::npos) {
    RunResult r;
    r.status = c.status();
    r.err = c.err;
    error = "fork-hold did not finish cleanly (" + describe_failure(r) + ")";
    return std::nullopt;
  }
  return s;
}

std::vector<Row> bench_rss(const Options& o, const Plan& plan, bool& any_error) {
  std::vector<Row> rows;
  for (int nprocs : {64, 1}) {
    Row row;
    row.name = "broker RSS, " + std::to_string(nprocs) + (nprocs == 1 ? " guest proc" : " guest procs");
    row.native = "-";
    row.ratio = "-";
    row.target = nprocs == 64 ? "< 16 MiB" : "(info)";
    std::vector<double> rss, hwm, helpers_mib;
    std::vector<int> procs, helpers;
    int bad_rounds = 0;
    for (int r = 0; r < plan.rss_rounds; ++r) {
      std::string error;
      if (auto s = measure_rss(o, plan, nprocs, error)) {
        rss.push_back(s->rss_mib);
        hwm.push_back(s->hwm_mib);
        procs.push_back(s->procs);
        helpers.push_back(s->helpers);
        helpers_mib.push_back(s->helpers_mib);
        if (s->procs != nprocs) {
          // The figure would not describe the load the target names.
          row.notes.push_back("round " + std::to_string(r + 1) + ": expected " + std::to_string(nprocs) +
                              " guest processes alive, saw " + std::to_string(s->procs));
          bad_rounds++;
        }
      } else {
        row.notes.push_back("round " + std::to_string(r + 1) + ": " + error);
      }
    }
    row.samples = std::to_string(rss.size()) + "/" + std::to_string(plan.rss_rounds);
    if (!rss.empty()) {
      double m = median(rss);
      row.jailed = fmt("%.1f MiB", m);
      row.result = nprocs != 64 ? "-" : m < 16.0 ? "PASS" : "FAIL";
      std::string seen;
      for (int p : procs) seen += (seen.empty() ? "" : ",") + std::to_string(p);
      row.notes.insert(row.notes.begin(), fmt("broker VmHWM %.1f MiB", median(hwm)) +
                                              "; guest processes seen alive: " + seen + "; wwjail helper processes: " +
                                              std::to_string(helpers.back()) +
                                              fmt(" (VmRSS %.1f MiB, not counted above)", median(helpers_mib)));
    } else {
      row.jailed = "-";
    }
    if (rss.size() != static_cast<size_t>(plan.rss_rounds) || bad_rounds > 0) {
      row.result = "ERROR";
      any_error = true;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---------------------------------------------------------------------------
// (e): HTTP requests per second. bench/http_server.c serves one static file
// over keep-alive connections; natively it binds the port itself, jailed it
// gets the socket from `wwjail --listen`. The load comes from threads of this
// process: kHttpConns connections over kHttpThreads threads, each connection
// with one GET outstanding at a time (a closed loop, so the figure is the
// server's rate, not a queue's). Every response is checked: status, length
// and the body's bytes.

// A free TCP port on 127.0.0.1 for a server we start: bound to port 0 (the
// kernel picks a random free one) and released. Another process could take
// it in between; the caller retries with a new port when the bind fails.
int pick_free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    throw std::runtime_error(std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
  return ntohs(sa.sin_port);
}

struct LoadResult {
  uint64_t responses = 0;  // completed inside the counted window
  uint64_t total = 0;      // completed at all, warm-up included
  std::string error;       // empty when every response was right
};

// One load thread: opens `nconns` connections to 127.0.0.1:port and keeps one
// GET outstanding on each until `t_end`; counts the responses that complete
// in [t_start, t_end).
void http_load_thread(int port, int nconns, int64_t t_start, int64_t t_end, const std::string& body,
                      LoadResult& out) {
  static const char kRequest[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wwjail-run_bench\r\n\r\n";
  struct Conn {
    UniqueFd fd;
    std::vector<char> buf;
    size_t len = 0;
  };
  auto error = [&](const std::string& what) { out.error = what; };
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) return error(std::string("epoll_create1: ") + std::strerror(errno));
  std::vector<Conn> conns(static_cast<size_t>(nconns));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto send_request = [&](Conn& c) {
    // A request of under 100 bytes into an empty socket buffer: never short.
    return ::write(c.fd.get(), kRequest, sizeof kRequest - 1) == static_cast<ssize_t>(sizeof kRequest - 1);
  };
  for (size_t i = 0; i < conns.size(); ++i) {
    Conn& c = conns[i];
    c.fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!c.fd.valid() || ::connect(c.fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      return error("connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(c.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(c.fd.get(), F_SETFL, ::fcntl(c.fd.get(), F_GETFL) | O_NONBLOCK);
    c.buf.resize(body.size() + 4096);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, c.fd.get(), &ev) != 0)
      return error(std::string("epoll_ctl: ") + std::strerror(errno));
    if (!send_request(c)) return error(std::string("write request: ") + std::strerror(errno));
  }
  epoll_event events[64];
  for (;;) {
    int64_t now = now_ns();
    if (now >= t_end) return;
    int n = ::epoll_wait(ep.get(), events, 64, static_cast<int>(std::max<int64_t>(1, (t_end - now) / 1000000)));
    if (n < 0 && errno != EINTR) return error(std::string("epoll_wait: ") + std::strerror(errno));
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u64];
      for (;;) {
        if (c.len == c.buf.size()) return error("a response larger than the file plus 4 KiB of header");
        ssize_t got = ::read(c.fd.get(), c.buf.data() + c.len, c.buf.size() - c.len);
        if (got == 0) return error("the server closed a keep-alive connection");
        if (got < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          return error(std::string("read: ") + std::strerror(errno));
        }
        c.len += static_cast<size_t>(got);
        // One response complete? (At most one is outstanding per connection.)
        const char* head_end = static_cast<const char*>(::memmem(c.buf.data(), c.len, "\r\n\r\n", 4));
        if (!head_end) continue;
        size_t head_len = static_cast<size_t>(head_end - c.buf.data()) + 4;
        std::string head(c.buf.data(), head_len);
        if (head.compare(0, 13, "HTTP/1.1 200 ") != 0)
          return error("bad response: " + head.substr(0, head.find('\r')));
        size_t cl = head.find("Content-Length: ");
        if (cl == std::string::npos || std::strtoul(head.c_str() + cl + 16, nullptr, 10) != body.size())
          return error("response without Content-Length " + std::to_string(body.size()));
        if (c.len < head_len + body.size()) continue;
        if (c.len > head_len + body.size()) return error("bytes after the response, none requested");
        if (std::memcmp(c.buf.data() + head_len, body.data(), body.size()) != 0)
          return error("the response body differs from the file (wrong result)");
        c.len = 0;
        int64_t done = now_ns();
        ++out.total;
        if (done >= t_start && done < t_end) ++out.responses;
        if (done < t_end && !send_request(c)) return error(std::string("write request: ") + std::strerror(errno));
        break;
      }
    }
  }
}

// One server run under load. Returns requests per second over the counted
// window and how many responses the server sent per wake-up, or nullopt with
// `error` set.
enum class HttpSide { kNative, kJailed, kSeccompFloor };

struct HttpRun {
  double rps = 0;           // responses per second in the counted window
  double per_wake = 0;      // responses per epoll_wait return in the server, warm-up included
};

std::optional<HttpRun> http_run(const Options& o, const Plan& plan, HttpSide side, const std::string& page,
                               const std::string& body, std::string& error) {
  for (int attempt = 0;; ++attempt) {
    int port = pick_free_port();
    std::vector<std::string> argv;
    if (side == HttpSide::kJailed)
      argv = {o.wwjail, "--listen", "tcp:127.0.0.1:" + std::to_string(port), "--read", page, "--"};
    argv.push_back(o.http_guest);
    if (side == HttpSide::kSeccompFloor) argv.push_back("--seccomp-floor");
    argv.push_back(page);
    argv.push_back(std::to_string(port));
    Child c = Child::spawn(argv, Stdio::kPipe, Stdio::kPipe, Stdio::kPipe);
    auto failed = [&](const std::string& what) {
      c.kill(SIGKILL);
      c.drain(now_ns() + 2000000000);
      c.wait_for(5000);
      RunResult r;
      r.status = c.status();
      r.err = c.err;
      error = what + " (" + describe_failure(r) + ")";
    };
    if (!c.read_line_starting("ready ", now_ns() + 10 * int64_t{1000000000})) {
      failed("the server never reported ready");
      // Someone took the port between our probe and the server's bind: try another.
      if (attempt < 2 && c.err.find("in use") != std::string::npos) continue;
      return std::nullopt;
    }
    if (c.out.find("ready " + std::to_string(port) + "\n") == std::string::npos) {
      failed("the server reports a port other than " + std::to_string(port) + ": " + c.out);
      return std::nullopt;
    }

    int64_t t_start = now_ns() + static_cast<int64_t>(plan.http_warmup_ms) * 1000000;
    int64_t t_end = t_start + static_cast<int64_t>(plan.http_duration_ms) * 1000000;
    std::vector<LoadResult> results(kHttpThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kHttpThreads; ++t) {
      int n = kHttpConns / kHttpThreads + (t < kHttpConns % kHttpThreads ? 1 : 0);
      threads.emplace_back(http_load_thread, port, n, t_start, t_end, std::cref(body), std::ref(results[t]));
    }
    for (auto& t : threads) t.join();  // the threads close their connections as they return
    uint64_t counted = 0, total = 0;
    std::string load_error;
    for (const auto& r : results) {
      counted += r.responses;
      total += r.total;
      if (load_error.empty()) load_error = r.error;
    }

    c.close_stdin();  // EOF: the server prints what it served and exits
    int64_t deadline = now_ns() + static_cast<int64_t>(plan.timeout_s) * 1000000000;
    if (!c.drain(deadline) || !c.wait_for(5000)) {
      failed("the server did not exit after stdin closed");
      return std::nullopt;
    }
    RunResult r;
    r.status = c.status();
    r.err = c.err;
    if (!load_error.empty()) {
      error = "load generator: " + load_error + " (server: " + describe_failure(r) + ")";
      return std::nullopt;
    }
    size_t at = c.out.find("served ");
    if (c.status() != 0 || at == std::string::npos) {
      error = "the server failed (" + describe_failure(r) + ")";
      return std::nullopt;
    }
    char* end;
    unsigned long long served = std::strtoull(c.out.c_str() + at + 7, &end, 10);
    unsigned long long waits = 0;
    if (std::strncmp(end, " waits ", 7) == 0) waits = std::strtoull(end + 7, nullptr, 10);
    if (served < total) {
      error = "the server says it served " + std::to_string(served) + " responses, the clients got " +
              std::to_string(total) + " (wrong result)";
      return std::nullopt;
    }
    if (counted == 0) {
      error = "no response completed in the counted window";
      return std::nullopt;
    }
    HttpRun run;
    run.rps = static_cast<double>(counted) * 1e3 / plan.http_duration_ms;
    run.per_wake = waits ? static_cast<double>(served) / static_cast<double>(waits) : 0;
    return run;
  }
}

// Rounds of native, jailed and the seccomp floor (the server natively under
// an allow-all filter), the order flipped every round. One row for jailed
// and one for the floor, each the median of its per-round ratios to native.
std::vector<Row> bench_http(const Options& o, const Plan& plan, const std::string& page, const std::string& body,
                            bool verbose, bool& any_error) {
  const HttpSide sides[] = {HttpSide::kNative, HttpSide::kJailed, HttpSide::kSeccompFloor};
  const char* labels[] = {"native", "jailed", kFloorLabel};
  constexpr size_t kSides = 3;
  std::vector<std::array<double, kSides>> per_round;
  std::vector<double> per_wake[kSides];
  std::vector<std::pair<int, std::string>> errors[kSides];
  for (int r = 0; r < plan.http_rounds; ++r) {
    std::array<double, kSides> got;
    got.fill(-1);
    for (size_t k = 0; k < kSides; ++k) {
      size_t i = r % 2 ? kSides - 1 - k : k;  // the order flips every round
      std::string error;
      if (auto run = http_run(o, plan, sides[i], page, body, error)) {
        got[i] = run->rps;
        per_wake[i].push_back(run->per_wake);
      } else {
        errors[i].push_back({r + 1, error});
      }
    }
    per_round.push_back(got);
    if (verbose) {
      std::fprintf(stderr, "  round %2d  http", r + 1);
      for (size_t i = 0; i < kSides; ++i)
        std::fprintf(stderr, "  %s: %s", labels[i], got[i] < 0 ? "ERR" : fmt("%.0f rps", got[i]).c_str());
      std::fprintf(stderr, "\n");
    }
  }
  std::vector<double> native;
  for (const auto& g : per_round)
    if (g[0] >= 0) native.push_back(g[0]);
  std::vector<Row> rows;
  for (size_t i = 1; i < kSides; ++i) {
    bool info = sides[i] != HttpSide::kJailed;
    Row row;
    row.name = std::string("http static file rps") + (info ? std::string(" [") + labels[i] + "]" : "");
    row.target = info ? "(floor)" : ">= 0.95x";
    std::vector<double> mine, ratios;
    for (const auto& g : per_round) {
      if (g[i] >= 0) mine.push_back(g[i]);
      if (g[i] >= 0 && g[0] >= 0) ratios.push_back(g[i] / g[0]);
    }
    row.native = native.empty() ? "-" : fmt("%.0f rps", median(native));
    row.jailed = mine.empty() ? "-" : fmt("%.0f rps", median(mine));
    row.samples = std::to_string(ratios.size()) + "/" + std::to_string(plan.http_rounds);
    if (!ratios.empty()) {
      double m = median(ratios);
      row.ratio = fmt("%.2fx", m);
      row.result = info ? "-" : m >= 0.95 ? "PASS" : "FAIL";
      auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
      std::string note = fmt("ratio over rounds: min %.3fx", *lo) + fmt(", max %.3fx", *hi) + fmt(", median %.3fx", m);
      if (!per_wake[0].empty() && !per_wake[i].empty())
        note += fmt("; responses per server wake-up: native %.2f", median(per_wake[0])) + ", " +
                (info ? "floor" : "jailed") + fmt(" %.2f", median(per_wake[i]));
      if (!info)
        note += "; " + std::to_string(kHttpConns) + " keep-alive connections from " + std::to_string(kHttpThreads) +
                " threads, GET of a " + std::to_string(body.size()) + "-byte file, " +
                fmt("%.1f s", plan.http_duration_ms / 1e3) + " counted per run after " +
                fmt("%.1f s", plan.http_warmup_ms / 1e3) + " of warm-up";
      row.notes.push_back(note);
    } else {
      row.ratio = "-";
    }
    if (i == 1)  // native failures are listed once, under the first row
      for (const auto& e : group_by_message(errors[0])) row.notes.push_back("native failed in " + e);
    for (const auto& e : group_by_message(errors[i])) row.notes.push_back(std::string(labels[i]) + " failed in " + e);
    if (!errors[0].empty() || !errors[i].empty() || ratios.empty()) {
      row.result = "ERROR";
      any_error = true;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Output.

void print_table(const std::vector<Row>& rows) {
  const char* head[] = {"benchmark", "native", "jailed", "ratio/extra", "target", "result", "n"};
  size_t w[7];
  for (int i = 0; i < 7; ++i) w[i] = std::strlen(head[i]);
  auto cells = [](const Row& r) {
    return std::vector<const std::string*>{&r.name, &r.native, &r.jailed, &r.ratio, &r.target, &r.result, &r.samples};
  };
  for (const auto& r : rows) {
    auto c = cells(r);
    for (int i = 0; i < 7; ++i) w[i] = std::max(w[i], c[i]->size());
  }
  auto line = [&](const std::vector<std::string>& c) {
    std::string s;
    for (int i = 0; i < 7; ++i) {
      std::string cell = c[i];
      cell.resize(std::max(cell.size(), w[i]), ' ');
      s += (i ? "  " : "") + cell;
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    std::printf("%s\n", s.c_str());
  };
  line({head, head + 7});
  size_t total = 2 * 6;
  for (size_t x : w) total += x;
  std::printf("%s\n", std::string(total, '-').c_str());
  for (const auto& r : rows) {
    auto c = cells(r);
    std::vector<std::string> v;
    for (auto* p : c) v.push_back(*p);
    line(v);
  }
  bool any_note = false;
  for (const auto& r : rows) {
    if (r.notes.empty()) continue;
    if (!any_note) std::printf("\nnotes:\n");
    any_note = true;
    // The same failure repeated run after run is printed once, with a count.
    for (size_t i = 0; i < r.notes.size();) {
      size_t j = i + 1;
      while (j < r.notes.size() && r.notes[j] == r.notes[i]) ++j;
      std::string times = j - i > 1 ? " (x" + std::to_string(j - i) + ")" : "";
      std::printf("  %s: %s%s\n", r.name.c_str(), r.notes[i].c_str(), times.c_str());
      i = j;
    }
  }
}

// A scratch directory holding the file the ops open and read; removed on exit.
class ScratchFile {
 public:
  ScratchFile() {
    char tmpl[] = "/tmp/wwjail-bench.XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
    path_ = dir_ + "/data.bin";
    std::ofstream f(path_, std::ios::binary);
    std::string block(4096, '\0');
    for (int i = 0; i < 16; ++i) {  // 64 KiB of arbitrary bytes
      for (size_t k = 0; k < block.size(); ++k) block[k] = static_cast<char>((k * 31 + i) & 0xff);
      f.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    if (!f) throw std::runtime_error("cannot write " + path_);
    // The page the HTTP benchmark serves: 4 KiB of HTML-ish text.
    page_path_ = dir_ + "/index.html";
    page_ = "<!doctype html>\n<html><head><title>wwjail bench</title></head><body>\n";
    for (int line = 0; page_.size() < 4096; ++line)
      page_ += "<p>line " + std::to_string(line) + ": the quick brown fox jumps over the lazy dog</p>\n";
    page_.resize(4096 - 15);
    page_ += "</body></html>\n";
    std::ofstream p(page_path_, std::ios::binary);
    p << page_;
    if (!p) throw std::runtime_error("cannot write " + page_path_);
  }
  ~ScratchFile() {
    ::unlink(path_.c_str());
    ::unlink(page_path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  const std::string& page_path() const { return page_path_; }
  const std::string& page() const { return page_; }

 private:
  std::string dir_, path_, page_path_, page_;
};

// /proc/loadavg's first three fields: the benchmarks compete with whatever
// else runs, and the reader should know how busy the machine was.
std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

int usage(const char* argv0, int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: %s [--quick] [--rounds N] [--only GROUP,...] [--verbose] [--wwjail PATH] [--guest PATH]\n"
               "          [--http-guest PATH]\n"
               "  --quick       fewer rounds and iterations (CI smoke, < 40 s); default is the full run (< 4 min)\n"
               "  --rounds N    rounds of the per-syscall benchmarks, connect included (default 31, quick 7)\n"
               "  --only        any of: open, stat, allowed, connect, startup, rss, http (default: all)\n"
               "  --verbose     print every round's figures on stderr\n"
               "  --wwjail      the wwjail binary (default %s)\n"
               "  --guest       the syscall_bench guest (default %s)\n"
               "  --http-guest  the http_server guest (default %s)\n"
               "exit status: 0 when every benchmark ran (whether or not it met its target),\n"
               "1 when a run crashed, hung or gave a wrong result, 2 on usage errors\n",
               argv0, WWJAIL_BIN, BENCH_GUEST, BENCH_HTTP_GUEST);
  return status;
}

int main_impl(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a == "--rounds") {
      o.rounds = std::atoi(value().c_str());
      if (o.rounds <= 0) throw std::invalid_argument("--rounds needs a positive number");
    } else if (a == "--only") {
      std::stringstream ss(value());
      std::string g;
      while (std::getline(ss, g, ',')) {
        if (g != "open" && g != "stat" && g != "allowed" && g != "connect" && g != "startup" && g != "rss" && g != "http")
          throw std::invalid_argument("unknown group for --only: " + g);
        o.only.insert(g);
      }
    } else if (a == "--wwjail") {
      o.wwjail = value();
    } else if (a == "--guest") {
      o.guest = value();
    } else if (a == "--http-guest") {
      o.http_guest = value();
    } else if (a == "--help" || a == "-h") {
      return usage(argv[0], 0);
    } else {
      throw std::invalid_argument("unknown argument: " + a);
    }
  }
  for (const std::string* p : {&o.wwjail, &o.guest, &o.http_guest}) {
    if (::access(p->c_str(), X_OK) != 0) throw std::invalid_argument("not an executable: " + *p);
  }
  // The guests are run by absolute path, natively and under wwjail alike.
  for (std::string* p : {&o.guest, &o.http_guest}) {
    if (char* real = ::realpath(p->c_str(), nullptr)) {
      *p = real;
      std::free(real);
    }
  }
  ::signal(SIGPIPE, SIG_IGN);

  Plan plan = make_plan(o);
  ScratchFile data;
  utsname u{};
  ::uname(&u);
  std::printf("wwjail benchmarks, %s mode: %d rounds; Linux %s, %ld CPUs, load average %s\n",
              o.quick ? "quick" : "full", plan.rounds, u.release, ::sysconf(_SC_NPROCESSORS_ONLN),
              load_average().c_str());
  std::printf("wwjail: %s\nguests: %s, %s\n\n", o.wwjail.c_str(), o.guest.c_str(), o.http_guest.c_str());
  std::fflush(stdout);

  int64_t t0 = now_ns();
  bool any_error = false;
  std::vector<Row> rows;
  const std::string& file = data.path();
  auto native = [&](std::vector<std::string> args) {
    args.insert(args.begin(), o.guest);
    return args;
  };
  // The guest natively with one of its floor flags (see syscall_bench.c):
  // what the kernel mechanism costs without wwjail.
  auto with_flag = [&](const char* flag, std::vector<std::string> args) {
    args.insert(args.begin(), flag);
    return native(args);
  };
  auto jailed = [&](std::vector<std::string> flags, std::vector<std::string> args) {
    std::vector<std::string> v{o.wwjail};
    v.insert(v.end(), flags.begin(), flags.end());
    v.push_back("--");
    v.push_back(o.guest);
    v.insert(v.end(), args.begin(), args.end());
    return v;
  };

  std::vector<OpBench> ops;
  if (wanted(o, "open")) {
    std::vector<std::string> args{"open-close", file, std::to_string(plan.open_iters)};
    ops.push_back({"open+close",
                   {{"native", native(args), 0},
                    {"jailed", jailed({"--read", file}, args), 1.3},
                    {"--mediate files", jailed({"--read", file, "--mediate", "files"}, args), 4.0},
                    {"--broker-opens", jailed({"--read", file, "--mediate", "files", "--broker-opens"}, args), 6.0},
                    {kNotifyFloorLabel, with_flag("--notify-floor", args), 0}},
                   {},
                   {}});
  }
  if (wanted(o, "stat")) {
    // stat(path) and fstat(fd); glibc's fstat is newfstatat(fd, "",
    // AT_EMPTY_PATH), which a filter cannot tell from a path lookup.
    for (const char* op : {"stat", "fstat"}) {
      std::vector<std::string> args{op, file, std::to_string(plan.open_iters)};
      ops.push_back({op,
                     {{"native", native(args), 0},
                      {"jailed", jailed({"--read", file}, args), 1.1},
                      {"--mediate files", jailed({"--read", file, "--mediate", "files"}, args), 0},
                      {kNotifyFloorLabel, with_flag("--notify-floor", args), 0}},
                     {},
                     {}});
    }
  }
  if (wanted(o, "allowed")) {
    std::vector<std::string> g{"getppid", std::to_string(plan.getppid_iters)};
    ops.push_back({"getppid",
                   {{"native", native(g), 0},
                    {"jailed", jailed({}, g), 1.05},
                    {kFloorLabel, with_flag("--seccomp-floor", g), 0}},
                   {},
                   {}});
    std::vector<std::string> p{"pread4k", file, std::to_string(plan.pread_iters)};
    ops.push_back({"pread 4 KiB",
                   {{"native", native(p), 0},
                    {"jailed", jailed({"--read", file}, p), 1.05},
                    {kFloorLabel, with_flag("--seccomp-floor", p), 0}},
                   {},
                   {}});
  }
  if (wanted(o, "connect")) {
    // Each run gets its own listener; kPortToken becomes its port.
    std::vector<std::string> c{"connect-close", kPortToken, std::to_string(plan.connect_iters)};
    std::string grant = std::string("tcp:127.0.0.1:") + kPortToken;
    ops.push_back({"connect+close",
                   {{"native", native(c), 0},
                    {"jailed", jailed({"--connect", grant}, c), 4.0},
                    {kNotifyFloorLabel, with_flag("--notify-floor", c), 0}},
                   {},
                   {},
                   true});
  }
  if (!ops.empty()) {
    std::fprintf(stderr, "per-syscall benchmarks: %d rounds...\n", plan.rounds);
    run_op_rounds(ops, plan, o.verbose);
    for (const auto& op : ops) op_rows(op, rows, any_error);
  }
  if (wanted(o, "startup")) {
    std::fprintf(stderr, "start-up: %d runs each...\n", plan.startup_runs);
    rows.push_back(bench_startup(o, plan, any_error));
  }
  if (wanted(o, "rss")) {
    std::fprintf(stderr, "broker memory: %d round(s)...\n", plan.rss_rounds);
    for (auto& r : bench_rss(o, plan, any_error)) rows.push_back(std::move(r));
  }
  if (wanted(o, "http")) {
    std::fprintf(stderr, "http: %d rounds of %.1f s per side...\n", plan.http_rounds,
                 (plan.http_warmup_ms + plan.http_duration_ms) / 1e3);
    for (auto& r : bench_http(o, plan, data.page_path(), data.page(), o.verbose, any_error)) rows.push_back(std::move(r));
  }

  print_table(rows);
  std::printf("\ntook %.1f s; load average now %s%s\n", static_cast<double>(now_ns() - t0) / 1e9,
              load_average().c_str(), any_error ? "; some runs FAILED (see notes): exit status 1" : "");
  return any_error ? 1 : 0;
}

}  // namespace
}  // namespace wwjail::bench

int main(int argc, char** argv) {
  try {
    return wwjail::bench::main_impl(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "run_bench: %s\n", e.what());
    return wwjail::bench::usage(argv[0], 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_bench: %s\n", e.what());
    return 1;
  }
}
