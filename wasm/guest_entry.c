/* Compiled into every guest module next to wasm2c's output: the few entry
 * points wwjail's runner calls, under names that do not depend on the
 * module. Including the host's signatures here (wasi_imports.h) makes an
 * import of another shape a compile error. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "guest.h"
#include "wasi_imports.h"

#define WWJAIL_EXPORT __attribute__((visibility("default")))

/* The module's parts the runner binds, with the types it uses them by.
 * wwjail checks the exports' kinds before compiling (wasm/module_shape.h);
 * should one slip past, the module does not build: wasm2c gives a table or
 * a global exported as "memory" an accessor of its own type. */
#define WWJAIL_HAS_TYPE(expr, type) __builtin_types_compatible_p(__typeof__(expr), type)
_Static_assert(WWJAIL_HAS_TYPE(&Z_guestZ_memory, wasm_rt_memory_t* (*)(Z_guest_instance_t*)),
               "the export \"memory\" must be a memory");
_Static_assert(WWJAIL_HAS_TYPE(&Z_guestZ__start, void (*)(Z_guest_instance_t*)),
               "the export \"_start\" must be a function with no parameters and no results");
_Static_assert(WWJAIL_HAS_TYPE(&Z_guest_instantiate,
                               void (*)(Z_guest_instance_t*, struct Z_wasi_snapshot_preview1_instance_t*)),
               "the module must import from wasi_snapshot_preview1 only");

/* Marks the shared object as a wwjail WebAssembly artifact, and which
 * runner ABI it was built for. */
WWJAIL_EXPORT const char wwjail_guest_abi[] __attribute__((section(".wwjail_wasm"), used)) = WWJAIL_WASM_ABI;

WWJAIL_EXPORT void* wwjail_guest_new(struct Z_wasi_snapshot_preview1_instance_t* wasi) {
  Z_guest_instance_t* guest = calloc(1, sizeof *guest);
  if (!guest) return NULL;
  Z_guest_init_module();
  Z_guest_instantiate(guest, wasi);
  return guest;
}

WWJAIL_EXPORT wasm_rt_memory_t* wwjail_guest_memory(void* guest) { return Z_guestZ_memory(guest); }

/* The module is compiled with -Dwasm_rt_trap=wwjail_guest_trap: each trap
 * it raises itself (unreachable, divide by zero, a bad indirect call, ...)
 * passes here first, which notes where it came from so the runner can name
 * the function, then goes on to the runtime's wasm_rt_trap. */
#undef wasm_rt_trap
WASM_RT_NO_RETURN void wasm_rt_trap(wasm_rt_trap_t);

static void* trap_pc;

WWJAIL_EXPORT void* wwjail_guest_trap_pc(void) { return trap_pc; }

__attribute__((noinline)) WASM_RT_NO_RETURN void wwjail_guest_trap(wasm_rt_trap_t code) {
  trap_pc = __builtin_return_address(0);
  wasm_rt_trap(code);
}

WWJAIL_EXPORT void wwjail_guest_start(void* guest) { Z_guestZ__start(guest); }

/* And with -Dwasm_rt_allocate_memory=wwjail_guest_allocate_memory, the
 * module's memory is allocated here: with its maximum lowered to the
 * runner's --max-memory before any of the module's code (its start
 * function included) runs. A module that needs more to start is refused
 * before it runs at all (exit 125, as for any set-up failure). */
#undef wasm_rt_allocate_memory
void wasm_rt_allocate_memory(wasm_rt_memory_t*, uint32_t initial_pages, uint32_t max_pages);

static uint32_t max_pages_allowed = 65536;

WWJAIL_EXPORT void wwjail_guest_limit_memory(uint32_t pages) { max_pages_allowed = pages; }

void wwjail_guest_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  if (initial_pages > max_pages_allowed) {
    dprintf(2, "wwjail: --max-memory: the module needs %llu bytes of linear memory to start, more than the %llu "
               "allowed\n", (unsigned long long)initial_pages * 65536, (unsigned long long)max_pages_allowed * 65536);
    _exit(125);
  }
  wasm_rt_allocate_memory(memory, initial_pages, max_pages < max_pages_allowed ? max_pages : max_pages_allowed);
}
