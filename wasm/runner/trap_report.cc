#include "wasm/runner/trap_report.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <sys/resource.h>
#include <ucontext.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <fstream>
#include <vector>

namespace wwjail {
namespace {

struct sigaction previous_segv, previous_bus;
const void* volatile fault_pc = nullptr;

// The module's executable segments, found once before any fault; read by
// the handler only.
struct Range {
  uintptr_t start, end;
};
Range module_code[8];
size_t module_code_count = 0;

// Where a stack overflow of the main thread faults: below the lowest
// address the stack may grow to (RLIMIT_STACK under its top). The top is
// known only roughly (main's frame lies below the arguments and the
// environment, at most a quarter of the limit), so the window is that wide;
// a fault counts as an overflow only if it is also next to the stack
// pointer it interrupted.
uintptr_t overflow_low = 0, overflow_high = 0;
constexpr uintptr_t kNearStackPointer = 64 << 10;

bool in_module_code(uintptr_t pc) {
  for (size_t i = 0; i < module_code_count; ++i) {
    if (pc >= module_code[i].start && pc < module_code[i].end) return true;
  }
  return false;
}

bool stack_overflow(uintptr_t addr, uintptr_t sp) {
  bool near_sp = addr < sp + kNearStackPointer && addr + kNearStackPointer > sp;
  return near_sp && addr >= overflow_low && addr < overflow_high;
}

void on_fault(int sig, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  auto pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  auto sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  // si_code > 0: raised by the kernel for this instruction; <= 0: sent.
  bool trap = info->si_code > 0 && (in_module_code(pc) || (sig == SIGSEGV && stack_overflow(addr, sp)));
  if (!trap) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);  // not blocked (SA_NODEFER): the default action, now
    return;        // a fault raised again by returning, should raise() not end it
  }
  fault_pc = reinterpret_cast<const void*>(pc);
  const struct sigaction& prev = sig == SIGSEGV ? previous_segv : previous_bus;
  if (prev.sa_flags & SA_SIGINFO) {
    prev.sa_sigaction(sig, info, context);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  } else {
    ::signal(sig, SIG_DFL);  // returning re-raises it, to the default action
  }
}

int note_module_segments(struct dl_phdr_info* info, size_t, void* data) {
  auto base = *static_cast<uintptr_t*>(data);
  if (info->dlpi_addr != base) return 0;
  for (int i = 0; i < info->dlpi_phnum && module_code_count < std::size(module_code); ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    module_code[module_code_count++] = {base + ph.p_vaddr, base + ph.p_vaddr + ph.p_memsz};
  }
  return 1;
}

// The module's name for a C symbol of the compiled module: w2c_NAME for its
// functions, Z_guestZ_NAME for its exports (where the compiler inlined the
// rest), minus the compiler's clone suffixes (.isra.0, .part.1, .cold).
std::string wasm_name(std::string symbol) {
  if (symbol.rfind("w2c_", 0) == 0) symbol = symbol.substr(4);
  else if (symbol.rfind("Z_guestZ_", 0) == 0) symbol = symbol.substr(9);
  if (auto dot = symbol.find('.'); dot != std::string::npos && dot > 0) symbol = symbol.substr(0, dot);
  return symbol;
}

}  // namespace

void watch_fault_signals(const void* module_symbol) {
  Dl_info where{};
  if (::dladdr(module_symbol, &where) && where.dli_fbase) {
    auto base = reinterpret_cast<uintptr_t>(where.dli_fbase);
    ::dl_iterate_phdr(note_module_segments, &base);
  }
  struct rlimit stack{};
  if (::getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY) {
    auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    uintptr_t limit = stack.rlim_cur;
    if (limit < here) {
      overflow_low = here - limit > (1u << 20) ? here - limit - (1u << 20) : 0;
      overflow_high = here - limit + limit / 4 + kNearStackPointer;
    }
  }
  struct sigaction sa{};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGSEGV, &sa, &previous_segv);
  ::sigaction(SIGBUS, &sa, &previous_bus);
}

const void* last_fault_pc() { return fault_pc; }

std::string function_at(const void* pc) {
  Dl_info info{};
  if (!pc || !::dladdr(pc, &info) || !info.dli_fname) return "";
  uintptr_t offset = reinterpret_cast<uintptr_t>(pc) - reinterpret_cast<uintptr_t>(info.dli_fbase);
  std::ifstream in(info.dli_fname, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_shentsize != sizeof(Elf64_Shdr))
    return "";
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  in.seekg(static_cast<std::streamoff>(eh.e_shoff));
  if (!in.read(reinterpret_cast<char*>(sections.data()), static_cast<std::streamsize>(sections.size() * sizeof(Elf64_Shdr))))
    return "";
  for (const auto& s : sections) {
    if (s.sh_type != SHT_SYMTAB || s.sh_link >= sections.size() || s.sh_entsize != sizeof(Elf64_Sym)) continue;
    const auto& strs = sections[s.sh_link];
    std::vector<Elf64_Sym> syms(s.sh_size / sizeof(Elf64_Sym));
    std::string names(strs.sh_size, '\0');
    in.seekg(static_cast<std::streamoff>(s.sh_offset));
    in.read(reinterpret_cast<char*>(syms.data()), static_cast<std::streamsize>(syms.size() * sizeof(Elf64_Sym)));
    in.seekg(static_cast<std::streamoff>(strs.sh_offset));
    in.read(names.data(), static_cast<std::streamsize>(names.size()));
    if (!in) return "";
    for (const auto& sym : syms) {
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_name >= names.size()) continue;
      if (offset < sym.st_value || offset >= sym.st_value + std::max<uint64_t>(sym.st_size, 1)) continue;
      return wasm_name(names.c_str() + sym.st_name);
    }
  }
  return "";
}

}  // namespace wwjail
