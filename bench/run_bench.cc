// run_bench: measures wwjail's overhead against native runs of the same
// guest (bench/syscall_bench.c) and prints one table row per target.
//
// Every figure is a comparison made in the same run: the machine is noisy, so
// native and jailed runs alternate within each round (the order flips every
// round, so slow drift hits both sides alike), every round yields one paired
// ratio, and a row reports the median of those ratios. A missed target is a
// result, not an error: the exit status is 0 unless a run crashed, hung,
// printed something unparsable or got a wrong answer from the jail (then 1;
// usage errors 2).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
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
#include <vector>

#include "sys/unique_fd.h"

#ifndef WWJAIL_BIN
#define WWJAIL_BIN "wwjail"
#endif
#ifndef BENCH_GUEST
#define BENCH_GUEST "syscall_bench"
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
};

Plan make_plan(const Options& o) {
  // Many short runs rather than a few long ones: every round is one more
  // native/jailed pair, and the median of many pairs shrugs off the rounds
  // that another process disturbed.
  Plan p = o.quick ? Plan{7, 100000, 50000, 2000, 15, 1, 20} : Plan{31, 300000, 150000, 6000, 40, 3, 60};
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
};

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
    for (auto& v : op.variants) (void)run_capture(v.argv, plan.timeout_s);

  for (int r = 0; r < plan.rounds; ++r) {
    for (auto& op : ops) {
      // The order flips every round, so drift during a round (another
      // process waking up, the CPU clocking down) favours no side.
      std::vector<size_t> order(op.variants.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (r % 2) std::reverse(order.begin(), order.end());
      std::vector<double> got(op.variants.size(), -1);
      for (size_t i : order) {
        RunResult res = run_capture(op.variants[i].argv, plan.timeout_s);
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
  row.target = "<= +5 ms";

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
    row.result = d <= 5.0 ? "PASS" : "FAIL";
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
  }
  ~ScratchFile() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
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
               "  --quick     fewer rounds and iterations (CI smoke, < 30 s); default is the full run (< 3 min)\n"
               "  --rounds N  rounds of the per-syscall benchmarks (default 31, quick 7)\n"
               "  --only      any of: open, allowed, startup, rss (default: all)\n"
               "  --verbose   print every round's figures on stderr\n"
               "  --wwjail    the wwjail binary (default %s)\n"
               "  --guest     the syscall_bench guest (default %s)\n"
               "exit status: 0 when every benchmark ran (whether or not it met its target),\n"
               "1 when a run crashed, hung or gave a wrong result, 2 on usage errors\n",
               argv0, WWJAIL_BIN, BENCH_GUEST);
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
        if (g != "open" && g != "allowed" && g != "startup" && g != "rss")
          throw std::invalid_argument("unknown group for --only: " + g);
        o.only.insert(g);
      }
    } else if (a == "--wwjail") {
      o.wwjail = value();
    } else if (a == "--guest") {
      o.guest = value();
    } else if (a == "--help" || a == "-h") {
      return usage(argv[0], 0);
    } else {
      throw std::invalid_argument("unknown argument: " + a);
    }
  }
  for (const std::string* p : {&o.wwjail, &o.guest}) {
    if (::access(p->c_str(), X_OK) != 0) throw std::invalid_argument("not an executable: " + *p);
  }
  // The guest is run by absolute path, natively and under wwjail alike.
  if (char* real = ::realpath(o.guest.c_str(), nullptr)) {
    o.guest = real;
    std::free(real);
  }
  ::signal(SIGPIPE, SIG_IGN);

  Plan plan = make_plan(o);
  ScratchFile data;
  utsname u{};
  ::uname(&u);
  std::printf("wwjail benchmarks, %s mode: %d rounds; Linux %s, %ld CPUs, load average %s\n",
              o.quick ? "quick" : "full", plan.rounds, u.release, ::sysconf(_SC_NPROCESSORS_ONLN),
              load_average().c_str());
  std::printf("wwjail: %s\nguest:  %s\n\n", o.wwjail.c_str(), o.guest.c_str());
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
                    {"jailed", jailed({"--read", file}, args), 4.0},
                    {"--broker-opens", jailed({"--read", file, "--broker-opens"}, args), 6.0},
                    {kNotifyFloorLabel, with_flag("--notify-floor", args), 0}},
                   {},
                   {}});
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
