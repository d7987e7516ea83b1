// wwjail-wasm-run: the process a WebAssembly guest runs in. wwjail starts
// it as an ordinary guest (same seccomp filter, same Landlock ruleset, same
// broker), so a bug here meets the same walls as any native program.
//
// Its command line is RunnerArgs (wasm/abi/runner_args.h). Listening sockets
// wwjail bound (--listen) arrive as fds 3.. with LISTEN_FDS, as for a native
// guest; the guest sees them after its preopened directories. Exit status:
// the guest's (proc_exit), 134 after a trap, 125 when the module cannot be
// loaded.
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasm-rt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "sys/unique_fd.h"
#include "wasm/abi/abi_version.h"
#include "wasm/abi/runner_args.h"
#include "wasm/runner/trap_report.h"
#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_instance.h"
#include "sys/self_fd.h"

// The trap target of libwasm-rt-impl (wasm-rt-impl.h is not installed).
extern "C" sigjmp_buf wasm_rt_jmp_buf;

namespace {

constexpr int kSetupFailed = 125;
constexpr int kTrapped = 134;

// The runner's own stderr, kept apart from the guest's fd 2 (which the
// guest may close and reuse): messages about the guest never land in its
// files.
int report_fd = 2;

[[noreturn]] void die(const std::string& what) {
  ::dprintf(report_fd, "wwjail: %s\n", what.c_str());
  std::_Exit(kSetupFailed);
}

const char* trap_name(int trap) {
  switch (trap) {
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call type mismatch or null";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    default: return wasm_rt_strerror(static_cast<wasm_rt_trap_t>(trap));
  }
}

// The compiled module, loaded through one descriptor: the file at PATH,
// opened without following a symlink, must be the one wwjail checked
// (device and inode: ID); the loader is then given that descriptor
// (/proc/self/fd/N), so what it maps is exactly the file matched, whatever
// PATH names by then. The descriptor stays open: trap reports read the
// module's symbols through it.
void* load_module(const std::string& path, const std::string& id) {
  wwjail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st{};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0)
    die("cannot open the compiled module " + path + ": " + std::strerror(errno));
  if (id != std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino))
    die(path + " is not the compiled module wwjail checked (it was replaced since); run it again");
  void* so = ::dlopen(wwjail::self_fd_path(fd.get()).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!so) die(std::string("cannot load the compiled module: ") + ::dlerror());
  fd.release();  // kept open for the trap reports
  return so;
}

// The entry points guest_entry.c compiles into every module.
struct GuestEntry {
  void* (*make)(Z_wasi_snapshot_preview1_instance_t*);
  wasm_rt_memory_t* (*memory)(void*);
  void (*start)(void*);
  void* (*trap_pc)();
  void (*limit_memory)(uint64_t);
};

template <typename F>
void bind(void* so, const char* name, F& out) {
  out = reinterpret_cast<F>(::dlsym(so, name));
}

GuestEntry entry_points(void* so, const std::string& module) {
  auto abi = static_cast<const char*>(::dlsym(so, "wwjail_guest_abi"));
  if (!abi || std::strcmp(abi, WWJAIL_WASM_ABI) != 0)
    die(module + " was compiled for another wwjail runner (" + (abi ? abi : "none") + ", this one is " +
        WWJAIL_WASM_ABI + "); compile it again with wwjail compile");
  GuestEntry e{};
  bind(so, "wwjail_guest_new", e.make);
  bind(so, "wwjail_guest_memory", e.memory);
  bind(so, "wwjail_guest_start", e.start);
  bind(so, "wwjail_guest_trap_pc", e.trap_pc);
  bind(so, "wwjail_guest_limit_memory", e.limit_memory);
  if (!e.make || !e.memory || !e.start || !e.trap_pc || !e.limit_memory) die(module + " lacks wwjail's entry points");
  return e;
}

// What the guest is given: the arguments wwjail passed, wwjail's private
// temp dir as its /tmp, and the sockets passed the systemd way by wwjail
// (--listen): only when LISTEN_PID names this process, and only
// descriptors that are sockets.
wwjail::WasiConfig wasi_config(const wwjail::RunnerArgs& args) {
  wwjail::WasiConfig config;
  config.args = args.argv;
  config.env = args.env;
  for (const auto& d : args.dirs) config.preopens.push_back({d.host, d.guest});
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp == '/') config.preopens.push_back({tmp, "/tmp"});
  const char* listen_pid = std::getenv("LISTEN_PID");
  if (const char* n = std::getenv("LISTEN_FDS"); n && listen_pid && std::atol(listen_pid) == ::getpid()) {
    int count = std::atoi(n);
    for (int k = 0; k < count && k < 64; ++k) {
      struct stat st{};
      if (::fstat(3 + k, &st) == 0 && S_ISSOCK(st.st_mode)) config.sockets.push_back(3 + k);
    }
  }
  return config;
}

// Instantiates the module and runs its _start; a trap ends the process
// with one line naming it and status 134.
void run(const GuestEntry& entry, wwjail::WasiHost& host) {
  static Z_wasi_snapshot_preview1_instance_t wasi{&host};
  wasm_rt_init();
  wwjail::watch_fault_signals(reinterpret_cast<const void*>(entry.start));
  if (int trap = sigsetjmp(wasm_rt_jmp_buf, 1)) {
    // Traps the runtime raises from a signal (bounds, stack) stopped at
    // the faulting instruction; the others came through the module's hook.
    bool by_signal = trap == WASM_RT_TRAP_OOB || trap == WASM_RT_TRAP_EXHAUSTION;
    const void* at = by_signal ? wwjail::last_fault_pc() : static_cast<const char*>(entry.trap_pc()) - 1;
    std::string function = wwjail::function_at(at);
    ::dprintf(report_fd, "wwjail: wasm trap: %s in %s\n", trap_name(trap),
              function.empty() ? "an unnamed function" : ("function " + function).c_str());
    std::_Exit(kTrapped);
  }
  void* guest = entry.make(&wasi);
  if (!guest) die("out of memory instantiating the module");
  host.bind_memory(entry.memory(guest));
  entry.start(guest);
}

}  // namespace

int main(int argc, char** argv) {
  if (int fd = ::fcntl(2, F_DUPFD_CLOEXEC, 64); fd >= 0) report_fd = fd;
  static wwjail::RunnerArgs args;  // static, as everything read after sigsetjmp
  try {
    args = wwjail::RunnerArgs::from_argv(std::vector<std::string>(argv, argv + argc));
  } catch (const wwjail::BadRunnerArgs& e) {
    die(e.what());
  }
  void* so = load_module(args.module, args.module_id);
  static const GuestEntry entry = entry_points(so, args.module);
  // Linear memory and tables together (guest_entry.c).
  if (args.max_memory) entry.limit_memory(args.max_memory);
  try {
    static wwjail::WasiHost host(wasi_config(args));
    run(entry, host);
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::fflush(stdout);
  std::_Exit(0);
}
