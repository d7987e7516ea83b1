#include "wasm/compile/module_compiler.h"

#include <elf.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "policy/limits.h"
#include "policy/run_config.h"
#include "sys/remove_tree.h"
#include "sys/sys_error.h"
#include "sys/unique_fd.h"
#include "wasm/compile/compile_cache.h"
#include "wasm/compile/embedded_sources.h"
#include "wasm/compile/module_names.h"
#include "wasm/compile/module_shape.h"
#include "wasm/abi/wasi_import_list.h"
#include "wasm/abi/abi_version.h"

extern char** environ;

namespace wwjail {
namespace {

// How modules are translated and compiled; part of the cache key.
// wabt 1.0.32's wasm2c accepts only its default feature set (MVP, mutable
// globals, saturating conversions, sign extension, multi-value, bulk memory,
// reference types, and part of fixed-width SIMD); no flag may change it.
constexpr const char* kWasm2cFlags = "";
// -fno-inline-functions-called-once: a trap then names the function it
// happened in, not the caller it would have been folded into.
// -Werror=...: an export of another kind than guest_entry.c expects (a
// table's accessor where the memory's should be, say) or an undeclared one
// must not build; gcc 12 only warns about these by default.
constexpr const char* kCcFlags =
    "-O2 -fno-inline-functions-called-once -fPIC -shared -fvisibility=hidden -Werror=incompatible-pointer-types "
    "-Werror=int-conversion -Werror=implicit-function-declaration";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SetupError(path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw SetupError("writing " + path + ": " + std::strerror(errno));
}

// SHA-256 over everything that decides what a compile produces.
class Digest {
 public:
  Digest() { sha256_init(&ctx_); }
  void add(std::string_view part) {
    uint64_t size = part.size();  // length-prefixed: parts cannot run into each other
    sha256_update(&ctx_, sizeof size, reinterpret_cast<const uint8_t*>(&size));
    sha256_update(&ctx_, part.size(), reinterpret_cast<const uint8_t*>(part.data()));
  }
  std::string hex() {
    uint8_t md[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx_, sizeof md, md);
    std::string out;
    char buf[3];
    for (uint8_t b : md) {
      std::snprintf(buf, sizeof buf, "%02x", b);
      out += buf;
    }
    return out;
  }

 private:
  sha256_ctx ctx_;
};

struct StepResult {
  int status = -1;
  std::string err;
  long peak_rss_kib = 0;
  double cpu_seconds = 0;  // the step's processes together
  bool timed_out = false;  // stopped at the wall-clock limit
};

// A compile limit as --limit takes it: never above wwjail's own hard
// limit, which an unprivileged user could not grant.
std::string limit_text(int resource, uint64_t v) {
  struct rlimit own{};
  if (::getrlimit(resource, &own) == 0 && own.rlim_max != RLIM_INFINITY) v = std::min<uint64_t>(v, own.rlim_max);
  return v == RLIM_INFINITY ? "unlimited" : std::to_string(v);
}

// Waits for `pid` until the step's wall-clock limit, then ends it: SIGTERM
// first (wwjail forwards it to the tool and removes what it made), SIGKILL
// if that is not enough. True when the limit stopped it.
bool wait_until_limit(pid_t pid, uint64_t wall_seconds) {
  if (wall_seconds == RLIM_INFINITY) return false;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) throw SetupError(std::string("watching the compile: pidfd_open: ") + std::strerror(errno));
  auto readable_within = [&](std::chrono::milliseconds ms) {
    auto until = std::chrono::steady_clock::now() + ms;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      struct pollfd p{pidfd, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left.count(), 0, INT32_MAX)));
      if (rc > 0) return true;
      if (rc == 0) return false;
      if (errno != EINTR) throw SetupError(std::string("watching the compile: poll: ") + std::strerror(errno));
    }
  };
  bool exited = readable_within(std::chrono::seconds(std::min<uint64_t>(wall_seconds, 1u << 30)) );
  if (!exited) {
    ::kill(pid, SIGTERM);
    if (!readable_within(std::chrono::seconds(5))) ::kill(pid, SIGKILL);
  }
  ::close(pidfd);
  return !exited;
}

// Runs wwjail itself on one tool, under the compile limits: `grants` then
// `--` and the command. The tool's stderr is kept for the error message.
StepResult run_jailed(const std::string& self, const std::vector<std::string>& grants,
                      const std::vector<std::string>& command, const std::string& err_path,
                      const CompileLimits& limits) {
  std::vector<std::string> args = {self, "--log-level", "error",
                                   "--limit", "memory=" + limit_text(RLIMIT_AS, limits.memory),
                                   "--limit", "cpu=" + limit_text(RLIMIT_CPU, limits.cpu_seconds),
                                   "--limit", "fsize=" + limit_text(RLIMIT_FSIZE, limits.output)};
  args.insert(args.end(), grants.begin(), grants.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw SetupError("starting " + self + " to compile: " + std::strerror(rc));
  StepResult r;
  try {
    r.timed_out = wait_until_limit(pid, limits.wall_seconds);
  } catch (...) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw;
  }
  int status;
  struct rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) throw SetupError(std::string("waiting for the compile: ") + std::strerror(errno));
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = read_file(err_path);
  r.peak_rss_kib = ru.ru_maxrss;
  r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  return r;
}

// Which compile limit a failed step ran into, in words; "" for none. The
// kernel does not say why a process failed: the signs are the tools' own
// (std::bad_alloc from wasm2c, "virtual memory exhausted" from cc1), the
// signal RLIMIT_FSIZE sends, and the CPU time used.
std::string limit_hit(const StepResult& r, const CompileLimits& l) {
  auto mib = [](uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; };
  if (r.timed_out) return "the wall-clock limit of " + std::to_string(l.wall_seconds) + " s";
  if (r.status == 0) return "";
  if (r.status == 128 + SIGXFSZ || r.err.find("File too large") != std::string::npos)
    return "the output size limit of " + mib(l.output);
  if (l.cpu_seconds != RLIM_INFINITY &&
      (r.cpu_seconds + 0.5 >= static_cast<double>(l.cpu_seconds) || r.status == 128 + SIGXCPU))
    return "the CPU time limit of " + std::to_string(l.cpu_seconds) + " s per process";
  for (const char* sign : {"bad_alloc", "out of memory", "memory exhausted", "Cannot allocate memory"}) {
    if (r.err.find(sign) != std::string::npos) return "the memory limit of " + mib(l.memory) + " per process";
  }
  return "";
}

// The first lines of a tool's complaint, for a one-line error.
std::string first_lines(const std::string& text, size_t lines = 3) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (lines-- && std::getline(in, line)) out += (out.empty() ? "" : " | ") + line;
  return out.empty() ? "(no message)" : out;
}

// The WASI functions' signatures in a C header, by name: "(i32, i64) -> i32".
// Reads both wasm2c's header (u32, u64) and the host's (uint32_t, uint64_t).
std::map<std::string, std::string> wasi_signatures(const std::string& header) {
  std::map<std::string, std::string> out;
  const std::string prefix = "Z_wasi_snapshot_preview1Z_";
  std::istringstream in(header);
  std::string line;
  auto wasm_type = [](std::string t) {
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    if (t == "u32" || t == "uint32_t") return std::string("i32");
    if (t == "u64" || t == "uint64_t") return std::string("i64");
    if (t == "f32" || t == "float") return std::string("f32");
    if (t == "f64" || t == "double") return std::string("f64");
    return t == "void" ? std::string() : "?" + t;
  };
  while (std::getline(in, line)) {
    auto at = line.find(prefix);
    auto open = line.find('(', at);
    auto close = line.find(')', open);
    if (at == std::string::npos || open == std::string::npos || close == std::string::npos || line.find("/*") == 0)
      continue;
    std::string name = line.substr(at + prefix.size(), open - at - prefix.size());
    std::string result = wasm_type(line.substr(0, at));
    std::string params, sep;
    std::istringstream args(line.substr(open + 1, close - open - 1));
    bool first = true;
    for (std::string arg; std::getline(args, arg, ',');) {
      if (first) {  // the instance pointer
        first = false;
        continue;
      }
      params += sep + wasm_type(arg);
      sep = ", ";
    }
    out[name] = "(" + params + ") -> " + (result.empty() ? "nothing" : result);
  }
  return out;
}

// wasm2c marks each import in the header it writes:
//   /* import: 'wasi_snapshot_preview1' 'fd_write' */
// followed by its C prototype, which is compared with the host's.
void check_imports(const std::string& header, const std::string& module) {
  static const std::map<std::string, std::string> host = wasi_signatures(std::string(kWasiImportsHeader));
  const std::map<std::string, std::string> imported = wasi_signatures(header);
  std::istringstream in(header);
  std::string line;
  const std::string mark = "/* import: '";
  while (std::getline(in, line)) {
    auto at = line.find(mark);
    if (at == std::string::npos) continue;
    auto mod_end = line.find('\'', at + mark.size());
    auto name_start = line.find('\'', mod_end + 1);
    auto name_end = line.find('\'', name_start + 1);
    if (mod_end == std::string::npos || name_start == std::string::npos || name_end == std::string::npos) continue;
    std::string mod = line.substr(at + mark.size(), mod_end - at - mark.size());
    std::string name = line.substr(name_start + 1, name_end - name_start - 1);
    bool known = false;
    if (mod == kWasiModule) {
      for (auto f : kWasiFunctions) known = known || f == name;
    }
    if (!known)
      throw SetupError(module + " imports " + mod + "." + name +
                       ", which wwjail does not provide (only wasi_snapshot_preview1, WASI preview 1)");
    auto want = host.find(name);
    auto got = imported.find(name);
    if (want == host.end() || got == imported.end() || want->second != got->second)
      throw SetupError(module + " imports " + mod + "." + name + " as " +
                       (got == imported.end() ? std::string("?") : got->second) + ", but WASI's " + name + " is " +
                       (want == host.end() ? std::string("?") : want->second));
  }
}

// A tool on PATH (canonical), or "".
std::string find_tool(const std::string& name) {
  ProgramLookup p = find_program(name);
  return p.exit_status == 0 ? p.path : "";
}

}  // namespace

bool is_wasm_module(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char head[8];
  bool ok = ::read(fd, head, sizeof head) == static_cast<ssize_t>(sizeof head);
  ::close(fd);
  static const unsigned char kMagic[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  return ok && std::memcmp(head, kMagic, sizeof kMagic) == 0;
}

bool is_wasm_artifact(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  return fd.valid() && is_wasm_artifact_fd(fd.get());
}

std::string default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/wwjail";
  const char* home = std::getenv("HOME");
  if (home && *home == '/') return std::string(home) + "/.cache/wwjail";
  return "";  // never a shared place: compile_module asks for --cache
}

CompileLimits compile_limits_from(const char* text) {
  CompileLimits limits;
  const std::string var = "WWJAIL_WASM_COMPILE_LIMITS";
  std::istringstream in(text ? text : "");
  for (std::string item; std::getline(in, item, ',');) {
    auto eq = item.find('=');
    std::string name = item.substr(0, eq);
    struct Field {
      const char* name;
      const char* as;  // parsed as this --limit is
      uint64_t* value;
    } fields[] = {{"memory", "memory", &limits.memory},
                  {"cpu", "cpu", &limits.cpu_seconds},
                  {"output", "fsize", &limits.output},
                  {"wall", "cpu", &limits.wall_seconds}};
    Field* field = nullptr;
    for (auto& f : fields) field = name == f.name ? &f : field;
    if (!field || eq == std::string::npos)
      throw SetupError(var + ": '" + item + "': write NAME=VALUE[,...], NAME one of memory, cpu, output, wall");
    std::string error;
    auto v = parse_limit_value(*find_limit(field->as), item.substr(eq + 1), error);
    if (!v) throw SetupError(var + ": " + name + error.substr(error.find(' ')));
    *field->value = *v;
  }
  return limits;
}

namespace {

struct Tools {
  std::string wasm2c, cc;
};

Tools find_tools(const std::string& module) {
  Tools t{find_tool("wasm2c"), find_tool("cc")};
  if (t.wasm2c.empty() || t.cc.empty()) {
    throw SetupError("running " + module + " needs wasm2c (Debian package wabt) and a C compiler (gcc) to compile "
                     "it once; or compile it where they are, with `wwjail compile " + module +
                     " -o FILE`, and run FILE here");
  }
  return t;
}

// A tool as the file system identifies it (a package update replaces the
// file): hashing the tools on every run would cost more than starting the
// guest.
std::string tool_identity(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return path;
  return path + ":" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

// The module, read once: the bytes checked, hashed and compiled are the
// same bytes, whatever happens to the file meanwhile. Its names are
// checked before wasm2c sees them (module_names.h) and its shape before the
// runner binds it (module_shape.h).
struct CheckedModule {
  std::string original;  // as read: what the cache key hashes
  ModuleNames names;     // names.bytes: what wasm2c is given
};

CheckedModule read_checked_module(const std::string& module) {
  struct stat st{};
  if (::stat(module.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > wasm_limits::kModuleBytes)
    throw SetupError(module + " cannot be compiled: it is " + std::to_string(st.st_size) + " bytes, more than the " +
                     std::to_string(wasm_limits::kModuleBytes) + " wwjail compiles");
  CheckedModule m{read_file(module), {}};
  m.names = check_module_names(m.original);
  if (!m.names.ok) throw SetupError(module + " cannot be compiled: " + m.names.problem);
  if (std::string problem = check_module_shape(m.names.bytes); !problem.empty())
    throw SetupError(module + " cannot be compiled: " + problem);
  return m;
}

// The artifact's name in the cache: everything that decides what a compile
// produces, hashed.
std::string cache_name(const std::string& original, const Tools& tools) {
  Digest key;
  key.add(original);
  key.add(tool_identity(tools.wasm2c));
  key.add(tool_identity(tools.cc));
  key.add(kWasm2cFlags);
  key.add(kCcFlags);
  key.add(WWJAIL_WASM_ABI);
  key.add(kGuestEntrySource);
  key.add(kWasiImportsHeader);
  return key.hex() + ".so";
}

// Work dirs a compile killed by a signal left behind, an hour on.
void sweep_stale_work_dirs(const CacheDir& cache) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cache.path, ec)) {
    std::string entry = e.path().filename().string();
    struct stat st{};
    if (entry.rfind("work.", 0) == 0 && ::fstatat(cache.fd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_mtime + 3600 < ::time(nullptr)) {
      if (S_ISDIR(st.st_mode)) remove_tree_at(cache.fd.get(), entry.c_str());
      else ::unlinkat(cache.fd.get(), entry.c_str(), 0);
    }
  }
}

// One compile's private directory inside the cache, and beside it a log of
// each step's complaints (outside what the steps may write); both removed
// when the compile ends, whichever way.
class WorkDir {
 public:
  explicit WorkDir(const std::string& cache_dir) {
    std::string tmpl = cache_dir + "/work.XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw SetupError("the wasm cache " + cache_dir + ": " + std::strerror(errno));
    path = tmpl;
    err_log = path + ".err";
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    remove_tree_at(AT_FDCWD, path.c_str());
    ::unlink(err_log.c_str());
  }
  std::string path, err_log;
};

// One compile in a work dir: each step runs jailed under the limits.
struct CompileJob {
  const CompileRequest& request;
  const std::string& module;
  const CompileLimits& limits;
  const Tools& tools;
  const WorkDir& work;

  StepResult step(const std::vector<std::string>& grants, const std::vector<std::string>& command) const {
    return run_jailed(request.self_exe, grants, command, work.err_log, limits);
  }
  // A step stopped by a limit is refused as such, before anything else is
  // made of its failure.
  void refuse_at_limit(const StepResult& r, const char* tool) const {
    if (std::string hit = limit_hit(r, limits); !hit.empty())
      throw SetupError(module + " cannot be compiled: " + tool + " hit " + hit +
                       " (WWJAIL_WASM_COMPILE_LIMITS sets the compile limits)");
  }
  StepResult translate(const std::string& checked) const;
  [[noreturn]] void explain_refusal(const std::string& checked, const StepResult& t) const;
  StepResult build() const;
};

// wasm2c, on the checked bytes; then the imports of what it wrote.
StepResult CompileJob::translate(const std::string& checked) const {
  StepResult t = step({"--write", work.path, "--no-tmpdir"},
                      {tools.wasm2c, "-n", "guest", checked, "-o", work.path + "/guest.c"});
  refuse_at_limit(t, "wasm2c");
  if (t.status != 0) explain_refusal(checked, t);
  check_imports(read_file(work.path + "/guest.h"), module);
  return t;
}

// wasm2c says which byte it could not read, not why: find the proposal that
// makes the module valid, so the message names the feature.
void CompileJob::explain_refusal(const std::string& checked, const StepResult& t) const {
  std::string validate = find_tool("wasm-validate");
  auto valid_with = [&](const std::string& flag) {
    std::vector<std::string> cmd = {validate};
    if (!flag.empty()) cmd.push_back(flag);
    cmd.push_back(checked);
    return step({"--read", work.path, "--no-tmpdir"}, cmd).status == 0;
  };
  if (!validate.empty()) {
    if (!valid_with("")) {
      for (const char* feature : {"tail-call", "threads", "exceptions", "memory64", "multi-memory",
                                  "extended-const", "relaxed-simd", "function-references", "gc"}) {
        if (valid_with(std::string("--enable-") + feature))
          throw SetupError(module + " uses the WebAssembly " + feature +
                           " proposal, which wwjail's WebAssembly tier (wasm2c) does not support");
      }
      throw SetupError(module + " is not a valid WebAssembly module: " + first_lines(t.err));
    }
    if (!valid_with("--disable-simd"))
      throw SetupError(module + " uses SIMD instructions that wabt's wasm2c cannot translate (its SIMD support is "
                       "partial); build it without -msimd128");
  }
  throw SetupError(module + ": wasm2c refused it: " + first_lines(t.err));
}

// The C compiler, on wasm2c's output and guest_entry.c, next to the host's
// declarations of the WASI imports: guest.so in the work dir.
StepResult CompileJob::build() const {
  const std::string& w = work.path;
  write_file(w + "/guest_entry.c", kGuestEntrySource);
  write_file(w + "/wasi_imports.h", kWasiImportsHeader);
  std::vector<std::string> cc_cmd = {tools.cc};
  std::istringstream flags(kCcFlags);
  for (std::string f; flags >> f;) cc_cmd.push_back(f);
  cc_cmd.insert(cc_cmd.end(), {std::string("-DWWJAIL_WASM_ABI=\"") + WWJAIL_WASM_ABI + "\"",
                               "-Dwasm_rt_trap=wwjail_guest_trap",
                               "-Dwasm_rt_allocate_memory=wwjail_guest_allocate_memory",
                               "-Dwasm_rt_grow_memory=wwjail_guest_grow_memory",
                               "-Dwasm_rt_allocate_funcref_table=wwjail_guest_allocate_funcref_table",
                               "-Dwasm_rt_grow_funcref_table=wwjail_guest_grow_funcref_table",
                               "-Dwasm_rt_allocate_externref_table=wwjail_guest_allocate_externref_table",
                               "-Dwasm_rt_grow_externref_table=wwjail_guest_grow_externref_table", "-I", w, "-o",
                               w + "/guest.so", w + "/guest.c", w + "/guest_entry.c"});
  StepResult c = step({"--write", w, "--read", "/usr/include", "--read", "/usr/lib",
                       "--read", "?/usr/local/include", "--read", "?/usr/x86_64-linux-gnu",
                       "--read", "?/usr/lib64", "--exec", "/usr/lib/gcc", "--exec", "?/usr/libexec/gcc",
                       "--exec", "/usr/bin/as", "--exec", "/usr/bin/ld", "--exec", "?/usr/bin/ld.bfd"},
                      cc_cmd);
  refuse_at_limit(c, "the C compiler");
  if (c.status != 0) throw SetupError(module + ": compiling wasm2c's output failed: " + first_lines(c.err, 4));
  return c;
}

// Moves the work dir's guest.so to its name in the cache and checks it
// there as the runner will (compile_cache.h).
CheckedArtifact store_artifact(const CacheDir& cache, const WorkDir& work, const std::string& name) {
  std::string work_name = work.path.substr(cache.path.size() + 1);
  if (::renameat(cache.fd.get(), (work_name + "/guest.so").c_str(), cache.fd.get(), name.c_str()) != 0)
    throw SetupError("storing the compiled module in " + cache.path + ": " + std::strerror(errno));
  auto stored = open_cached_artifact(cache, name);
  if (!stored) throw SetupError(cache.path + "/" + name + ": the compiled module is not a wwjail artifact");
  return {stored->path, stored->identity};
}

}  // namespace

CompileResult compile_module(const CompileRequest& request, spdlog::logger& log) {
  const std::string& module = request.module;
  const CompileLimits limits =
      request.limits ? *request.limits : compile_limits_from(std::getenv("WWJAIL_WASM_COMPILE_LIMITS"));
  const Tools tools = find_tools(module);
  if (request.cache_dir.empty())
    throw SetupError("no cache directory for compiled modules: HOME and XDG_CACHE_HOME are unset; give --cache DIR");
  const CheckedModule checked = read_checked_module(module);
  const CacheDir cache = open_cache_dir(request.cache_dir);
  const std::string name = cache_name(checked.original, tools);
  CompileResult result;
  if (auto cached = open_cached_artifact(cache, name)) {
    result.artifact = cached->path;
    result.identity = cached->identity;
    result.cached = true;
    return result;
  }
  sweep_stale_work_dirs(cache);
  const WorkDir work(cache.path);
  if (checked.names.dropped_names)
    log.warn("{}: its name section holds names wwjail does not pass to wasm2c; dropped (traps will not name "
             "functions)", module);
  const std::string wasm = work.path + "/module.wasm";
  write_file(wasm, checked.names.bytes);
  auto start = std::chrono::steady_clock::now();
  const CompileJob job{request, module, limits, tools, work};
  StepResult t = job.translate(wasm);
  StepResult c = job.build();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.peak_rss_kib = std::max(t.peak_rss_kib, c.peak_rss_kib);
  CheckedArtifact stored = store_artifact(cache, work, name);
  result.artifact = stored.path;
  result.identity = stored.identity;
  log.info("compiled {} in {:.2f} s (peak RSS of a compile step {} MiB), cached as {}", module, result.seconds,
           result.peak_rss_kib / 1024, result.artifact);
  return result;
}

}  // namespace wwjail
