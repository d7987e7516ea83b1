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
// wasm_rt_init): they record the faulting instruction, then hand over.
void watch_fault_signals();
// The instruction the last fault signal stopped at, or nullptr.
const void* last_fault_pc();

// "main" for an address inside w2c_main of the loaded module; "" when the
// address is in no named function of any loaded object. The C compiler
// inlines small functions into their callers: the name is then the
// caller's. A return address (the module's trap hook) points just past its
// call: pass it minus one.
std::string function_at(const void* pc);

}  // namespace wwjail
