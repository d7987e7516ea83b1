// wwjail-wasm-run: the process a WebAssembly guest runs in. wwjail starts
// it as an ordinary guest (same seccomp filter, same Landlock ruleset, same
// broker), so a bug here meets the same walls as any native program.
//
//   wwjail-wasm-run --module GUEST.so --module-id DEV:INO [--dir HOST::GUEST]... [--env NAME=VALUE]...
//                   [--max-memory BYTES] -- ARGV0 [ARGS...]
//
// Listening sockets wwjail bound (--listen) arrive as fds 3.. with
// LISTEN_FDS, as for a native guest; the guest sees them after its
// preopened directories. Exit status: the guest's (proc_exit), 134 after a
// trap, 125 when the module cannot be loaded.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <unistd.h>
#include <wasm-rt.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "wasm/runner/trap_report.h"
#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_instance.h"
#include "wasm/abi/abi_version.h"

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
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st{};
  if (fd < 0 || ::fstat(fd, &st) != 0) die("cannot open the compiled module " + path + ": " + std::strerror(errno));
  if (id != std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino))
    die(path + " is not the compiled module wwjail checked (it was replaced since); run it again");
  void* so = ::dlopen(("/proc/self/fd/" + std::to_string(fd)).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!so) die(std::string("cannot load the compiled module: ") + ::dlerror());
  return so;
}

}  // namespace

int main(int argc, char** argv) {
  if (int fd = ::fcntl(2, F_DUPFD_CLOEXEC, 64); fd >= 0) report_fd = fd;
  std::string module, module_id;
  static uint64_t max_memory = 0;  // static: read after sigsetjmp
  wwjail::WasiConfig config;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("wwjail-wasm-run: " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--") {
      ++i;
      break;
    } else if (a == "--module") {
      module = value();
    } else if (a == "--module-id") {
      module_id = value();
    } else if (a == "--dir") {
      std::string d = value();
      auto sep = d.find("::");
      config.preopens.push_back({d.substr(0, sep), sep == std::string::npos ? d : d.substr(sep + 2)});
    } else if (a == "--env") {
      config.env.push_back(value());
    } else if (a == "--max-memory") {
      max_memory = std::strtoull(value().c_str(), nullptr, 10);
    } else {
      die("wwjail-wasm-run: unknown option " + a);
    }
  }
  if (module.empty() || module_id.empty() || i >= argc)
    die("wwjail-wasm-run: usage: --module GUEST.so --module-id DEV:INO ... -- ARGV0 [ARGS...]");
  for (; i < argc; ++i) config.args.emplace_back(argv[i]);
  // wwjail's private temp dir is the guest's /tmp.
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp == '/') config.preopens.push_back({tmp, "/tmp"});
  // Sockets passed the systemd way, by wwjail (--listen): only when
  // LISTEN_PID names this process, and only descriptors that are sockets.
  const char* listen_pid = std::getenv("LISTEN_PID");
  if (const char* n = std::getenv("LISTEN_FDS"); n && listen_pid && std::atol(listen_pid) == ::getpid()) {
    int count = std::atoi(n);
    for (int k = 0; k < count && k < 64; ++k) {
      struct stat st{};
      if (::fstat(3 + k, &st) == 0 && S_ISSOCK(st.st_mode)) config.sockets.push_back(3 + k);
    }
  }

  void* so = load_module(module, module_id);
  auto abi = static_cast<const char*>(::dlsym(so, "wwjail_guest_abi"));
  if (!abi || std::strcmp(abi, WWJAIL_WASM_ABI) != 0)
    die(module + " was compiled for another wwjail runner (" + (abi ? abi : "none") + ", this one is " +
        WWJAIL_WASM_ABI + "); compile it again with wwjail compile");
  auto guest_new = reinterpret_cast<void* (*)(Z_wasi_snapshot_preview1_instance_t*)>(::dlsym(so, "wwjail_guest_new"));
  auto guest_memory = reinterpret_cast<wasm_rt_memory_t* (*)(void*)>(::dlsym(so, "wwjail_guest_memory"));
  auto guest_start = reinterpret_cast<void (*)(void*)>(::dlsym(so, "wwjail_guest_start"));
  auto guest_trap_pc = reinterpret_cast<void* (*)()>(::dlsym(so, "wwjail_guest_trap_pc"));
  auto guest_limit_memory = reinterpret_cast<void (*)(uint64_t)>(::dlsym(so, "wwjail_guest_limit_memory"));
  if (!guest_new || !guest_memory || !guest_start || !guest_trap_pc || !guest_limit_memory)
    die(module + " lacks wwjail's entry points");
  // Linear memory and tables together (guest_entry.c).
  if (max_memory) guest_limit_memory(max_memory);
  static auto trap_pc = guest_trap_pc;

  try {
    static wwjail::WasiHost host(config);
    static Z_wasi_snapshot_preview1_instance_t wasi{&host};
    wasm_rt_init();
    wwjail::watch_fault_signals(reinterpret_cast<const void*>(guest_start));
    if (int trap = sigsetjmp(wasm_rt_jmp_buf, 1)) {
      // Traps the runtime raises from a signal (bounds, stack) stopped at
      // the faulting instruction; the others came through the module's hook.
      bool by_signal = trap == WASM_RT_TRAP_OOB || trap == WASM_RT_TRAP_EXHAUSTION;
      const void* at = by_signal ? wwjail::last_fault_pc() : static_cast<const char*>(trap_pc()) - 1;
      std::string function = wwjail::function_at(at);
      ::dprintf(report_fd, "wwjail: wasm trap: %s in %s\n", trap_name(trap),
                function.empty() ? "an unnamed function" : ("function " + function).c_str());
      std::_Exit(kTrapped);
    }
    void* guest = guest_new(&wasi);
    if (!guest) die("out of memory instantiating the module");
    host.bind_memory(guest_memory(guest));
    guest_start(guest);
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::fflush(stdout);
  std::_Exit(0);
}
