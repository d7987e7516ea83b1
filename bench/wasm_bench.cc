// wasm_bench: WebAssembly guests against their native builds, in one run.
//
// For each CPU-bound kernel (bench/wasm/*.c; SQLite when its amalgamation
// was fetched), the native gcc -O2 build and the wasm32-wasi build are both
// run under wwjail, alternately, for a number of rounds. Each kernel times
// its own work (the median of its reps, so compiling and starting are not
// counted) and prints a checksum, which must be the same both ways. The
// ratio per kernel is wasm / native of the medians over rounds; the row the
// target is judged on is their geometric mean. Start-up compares an empty
// program, native and (cached) wasm, both under wwjail. The compile time and
// peak memory of each module's one-time compile are reported as measured.
//
//   wasm_bench [--quick] [--rounds N] [--wwjail PATH] [--kernels DIR]
//
// Exit status: 0 when everything ran (targets missed or not), 1 when a run
// failed or the two builds disagreed, 2 on usage errors.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Output {
  int status = -1;
  std::string out, err;
};

// Runs argv, capturing stdout and stderr through temp files.
Output run(const std::vector<std::string>& argv) {
  char out_tmpl[] = "/tmp/wasm_bench.out.XXXXXX", err_tmpl[] = "/tmp/wasm_bench.err.XXXXXX";
  int out_fd = ::mkstemp(out_tmpl), err_fd = ::mkstemp(err_tmpl);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  auto slurp = [](const char* path) {
    std::string s;
    if (FILE* f = std::fopen(path, "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
      std::fclose(f);
    }
    return s;
  };
  Output o{WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(out_tmpl), slurp(err_tmpl)};
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Kernel {
  std::string name, native, wasm;
  std::vector<double> native_ns, wasm_ns;
  std::string compile_note;
};

std::optional<std::pair<double, std::string>> parse(const std::string& out) {
  long long ns = 0;
  char check[64] = {};
  if (std::sscanf(out.c_str(), "ns=%lld check=%63s", &ns, check) != 2) return std::nullopt;
  return std::make_pair(static_cast<double>(ns), std::string(check));
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--quick] [--rounds N] [--wwjail PATH] [--kernels DIR]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string wwjail = WWJAIL_BIN, dir = KERNEL_DIR;
  int rounds = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
      rounds = 2;
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--wwjail" && i + 1 < argc) {
      wwjail = argv[++i];
    } else if (a == "--kernels" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      return usage(argv[0]);
    }
  }
  char cache_tmpl[] = "/tmp/wasm_bench.cache.XXXXXX";
  if (!::mkdtemp(cache_tmpl)) return 1;
  const std::string cache = cache_tmpl;
  bool failed = false;

  std::vector<Kernel> kernels;
  for (const char* name : {"sieve", "sha256", "matmul", "sqlite_bench"}) {
    Kernel k{name, dir + "/" + name, dir + "/" + name + ".wasm"};
    if (::access(k.native.c_str(), X_OK) != 0 || ::access(k.wasm.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "wasm_bench: %s not built, skipped%s\n", name,
                   std::strcmp(name, "sqlite_bench") == 0 ? " (run bench/fetch_sqlite.sh BUILD/sqlite, then cmake)" : "");
      continue;
    }
    if (quick && k.name == "sqlite_bench") continue;  // its one-time compile alone takes most of a minute
    // The one-time compile, measured (wwjail compile reports time and peak RSS).
    auto c = run({wwjail, "compile", "--cache", cache, k.wasm});
    if (c.status != 0) {
      std::fprintf(stderr, "wasm_bench: compiling %s failed: %s\n", name, c.err.c_str());
      failed = true;
      continue;
    }
    auto at = c.err.find(" in ");
    k.compile_note = at == std::string::npos ? "" : c.err.substr(at + 4, c.err.find(',', at) - at - 4);
    kernels.push_back(std::move(k));
  }

  const char* reps = quick ? "3" : nullptr;
  for (int r = 0; r < rounds; ++r) {
    for (auto& k : kernels) {
      for (bool wasm : {false, true}) {
        std::vector<std::string> cmd = {wwjail, "--cache", cache, "--", wasm ? k.wasm : k.native};
        if (reps) cmd.push_back(reps);
        auto o = run(cmd);
        auto p = parse(o.out);
        if (o.status != 0 || !p) {
          std::fprintf(stderr, "wasm_bench: %s (%s) failed: status %d: %s%s\n", k.name.c_str(),
                       wasm ? "wasm" : "native", o.status, o.out.c_str(), o.err.c_str());
          failed = true;
          continue;
        }
        (wasm ? k.wasm_ns : k.native_ns).push_back(p->first);
      }
    }
  }
  // The checksums must agree: a kernel that computed something else is no
  // comparison.
  for (auto& k : kernels) {
    auto n = run({wwjail, "--cache", cache, "--", k.native, "1"});
    auto w = run({wwjail, "--cache", cache, "--", k.wasm, "1"});
    auto pn = parse(n.out), pw = parse(w.out);
    if (!pn || !pw || pn->second != pw->second) {
      std::fprintf(stderr, "wasm_bench: %s: native and wasm disagree (%s vs %s)\n", k.name.c_str(), n.out.c_str(),
                   w.out.c_str());
      failed = true;
    }
  }

  // Start-up: an empty program, native and cached wasm, both under wwjail.
  std::vector<double> start_native, start_wasm;
  int starts = quick ? 5 : 21;
  for (int i = 0; i < starts; ++i) {
    for (bool wasm : {false, true}) {
      auto t0 = std::chrono::steady_clock::now();
      auto o = run({wwjail, "--cache", cache, "--", dir + (wasm ? "/hello.wasm" : "/hello")});
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (o.status != 0) {
        std::fprintf(stderr, "wasm_bench: hello (%s) failed: %s\n", wasm ? "wasm" : "native", o.err.c_str());
        failed = true;
      }
      if (i > 0) (wasm ? start_wasm : start_native).push_back(ms);  // the first wasm run compiles
    }
  }

  std::printf("wasm_bench: %d rounds%s; kernels time their own work (median of their reps)\n\n", rounds,
              quick ? " (quick)" : "");
  std::printf("%-22s %12s %12s %8s  %s\n", "kernel", "native", "wasm", "ratio", "one-time compile (time, peak RSS)");
  double log_sum = 0;
  int n = 0;
  for (const auto& k : kernels) {
    if (k.native_ns.empty() || k.wasm_ns.empty()) continue;
    double nat = median(k.native_ns), was = median(k.wasm_ns), ratio = was / nat;
    log_sum += std::log(ratio);
    ++n;
    std::printf("%-22s %9.2f ms %9.2f ms %7.2fx  %s\n", k.name.c_str(), nat / 1e6, was / 1e6, ratio,
                k.compile_note.c_str());
  }
  if (n) {
    double geo = std::exp(log_sum / n);
    std::printf("%-22s %12s %12s %7.2fx  target <= 1.50x  %s\n", "geometric mean", "", "", geo,
                geo <= 1.5 ? "PASS" : "FAIL");
  }
  double sn = median(start_native), sw = median(start_wasm);
  std::printf("%-22s %9.2f ms %9.2f ms %+7.2f ms  target <= +5 ms  %s\n", "start-up (cached)", sn, sw, sw - sn,
              sw - sn <= 5 ? "PASS" : "FAIL");
  std::filesystem::remove_all(cache);
  return failed ? 1 : 0;
}
