#include "wasm/trap_report.h"

#include <dlfcn.h>
#include <elf.h>
#include <signal.h>
#include <ucontext.h>

#include <cstring>
#include <fstream>
#include <vector>

namespace wwjail {
namespace {

struct sigaction previous_segv, previous_bus;
const void* volatile fault_pc = nullptr;

void on_fault(int sig, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  fault_pc = reinterpret_cast<const void*>(uc->uc_mcontext.gregs[REG_RIP]);
  const struct sigaction& prev = sig == SIGSEGV ? previous_segv : previous_bus;
  if (prev.sa_flags & SA_SIGINFO) {
    prev.sa_sigaction(sig, info, context);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  } else {
    ::signal(sig, SIG_DFL);  // returning re-raises it, to the default action
  }
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

void watch_fault_signals() {
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
