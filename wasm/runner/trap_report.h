// Naming the function a WebAssembly guest trapped in.
//
// wasm2c gives every function of the module a C function named after it
// (w2c_NAME, from the module's name section), local to the compiled shared
// object: not in its dynamic symbols, but in its .symtab, which is read
// here. The address comes from the module's own trap hook (explicit traps)
// or from the faulting context of a signal (out-of-bounds access, stack
// exhaustion), recorded by watch_fault_signals().
#pragma once

#include <string>

namespace wwjail {

// Installs SIGSEGV/SIGBUS handlers in front of the runtime's (call after
// wasm_rt_init, from main). Only a fault the kernel raised for an
// instruction of the module's own code (the shared object holding
// `module_symbol`), or a stack overflow, is handed to the runtime, which
// turns it into a trap; the faulting instruction is recorded. Any other
// SIGSEGV or SIGBUS (a fault in the runner, libc or the WASI host, or one
// sent with kill or raise) is not the guest's trap but a crash: the
// default action is restored and the signal raised again, so the runner
// dies of it and host memory corruption is never reported as a trap.
void watch_fault_signals(const void* module_symbol);
// The instruction the last fault signal stopped at, or nullptr.
const void* last_fault_pc();

// "main" for an address inside w2c_main of the loaded module; "" when the
// address is in no named function of any loaded object. The C compiler
// inlines small functions into their callers: the name is then the
// caller's. A return address (the module's trap hook) points just past its
// call: pass it minus one.
std::string function_at(const void* pc);

}  // namespace wwjail
