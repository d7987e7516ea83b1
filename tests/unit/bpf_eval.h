// A userspace evaluator for classic BPF seccomp programs, so the compiled
// filter can be checked table-driven without installing it.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace wwjail::testing {

// `steps`, when given, receives the number of instructions executed.
inline uint32_t run_bpf(const std::vector<sock_filter>& prog, const seccomp_data& data, size_t* steps = nullptr) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  if (steps) *steps = 0;
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    if (steps) ++*steps;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS && BPF_SIZE(f.code) == BPF_W) {
          if (f.k + 4 > sizeof data) throw std::runtime_error("load out of range");
          std::memcpy(&a, bytes + f.k, 4);
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          a = f.k;
        } else if (BPF_MODE(f.code) == BPF_MEM) {
          a = mem[f.k];
        } else {
          throw std::runtime_error("unsupported load");
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(f.code) == BPF_MEM ? mem[f.k] : f.k;
        break;
      case BPF_ST: mem[f.k] = a; break;
      case BPF_STX: mem[f.k] = x; break;
      case BPF_ALU: {
        uint32_t v = BPF_SRC(f.code) == BPF_X ? x : f.k;
        switch (BPF_OP(f.code)) {
          case BPF_ADD: a += v; break;
          case BPF_SUB: a -= v; break;
          case BPF_AND: a &= v; break;
          case BPF_OR: a |= v; break;
          case BPF_LSH: a <<= v; break;
          case BPF_RSH: a >>= v; break;
          case BPF_NEG: a = -a; break;
          default: throw std::runtime_error("unsupported alu op");
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
          break;
        }
        uint32_t v = BPF_SRC(f.code) == BPF_X ? x : f.k;
        bool taken;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ: taken = a == v; break;
          case BPF_JGT: taken = a > v; break;
          case BPF_JGE: taken = a >= v; break;
          case BPF_JSET: taken = (a & v) != 0; break;
          default: throw std::runtime_error("unsupported jump");
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) x = a; else a = x;
        break;
    }
  }
  throw std::runtime_error("filter fell off the end");
}

}  // namespace wwjail::testing
