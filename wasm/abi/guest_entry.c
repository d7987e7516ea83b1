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
 * wwjail checks the exports' kinds before compiling (wasm/compile/module_shape.h);
 * should one slip past, the module does not build: wasm2c gives a table or
 * a global exported as "memory" an accessor of its own type. */
#define WWJAIL_HAS_TYPE(expr, type) __builtin_types_compatible_p(__typeof__(expr), type)
_Static_assert(WWJAIL_HAS_TYPE(&Z_guestZ_memory, wasm_rt_memory_t* (*)(Z_guest_instance_t*)),
               "the export \"memory\" must be a memory");
_Static_assert(WWJAIL_HAS_TYPE(&Z_guestZ__start, void (*)(Z_guest_instance_t*)),
               "the export \"_start\" must be a function with no parameters and no results");
_Static_assert(WWJAIL_HAS_TYPE(&Z_guest_instantiate,
                               void (*)(Z_guest_instance_t*, struct Z_wasi_snapshot_preview1_instance_t*)),
               "the module must import from wasi_snapshot_preview1, and only from it");

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

/* And with -Dwasm_rt_allocate_memory=wwjail_guest_allocate_memory,
 * -Dwasm_rt_grow_memory=wwjail_guest_grow_memory and the same for both
 * kinds of table, everything the module allocates comes through here and
 * counts toward one budget, the runner's --max-memory: linear memory and
 * tables together (a table entry is a wasm_rt_funcref_t, 24 bytes, or an
 * externref, 8), from the module's start function on. A table never holds
 * more than 10000000 entries, budget or not (the engines' limit; without
 * it one table.grow took 3.5 GiB). A module that needs more than the budget
 * to start is refused before any of its code runs (exit 125, as for any
 * set-up failure); a grow beyond it fails, as beyond the module's own
 * maximum. */
#undef wasm_rt_allocate_memory
#undef wasm_rt_grow_memory
#undef wasm_rt_allocate_funcref_table
#undef wasm_rt_grow_funcref_table
#undef wasm_rt_allocate_externref_table
#undef wasm_rt_grow_externref_table
void wasm_rt_allocate_memory(wasm_rt_memory_t*, uint32_t initial_pages, uint32_t max_pages);
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t*, uint32_t pages);
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t*, uint32_t elements, uint32_t max_elements);
uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t*, uint32_t delta, wasm_rt_funcref_t init);
void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t*, uint32_t elements, uint32_t max_elements);
uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t*, uint32_t delta, wasm_rt_externref_t init);

#define WWJAIL_PAGE 65536ull
#define WWJAIL_MAX_TABLE_ENTRIES 10000000u

static uint64_t budget = UINT64_MAX; /* bytes */
static uint64_t used;                /* bytes of memory and tables allocated */

WWJAIL_EXPORT void wwjail_guest_limit_memory(uint64_t bytes) { budget = bytes; }

/* Takes `bytes` from the budget: 0 when they are not left. */
static int take(uint64_t bytes) {
  if (bytes > budget - used) return 0;
  used += bytes;
  return 1;
}

static void refuse_start(uint64_t bytes, const char* what) {
  dprintf(2, "wwjail: --max-memory: the module needs %llu bytes of %s to start, more than the %llu allowed\n",
          (unsigned long long)bytes, what, (unsigned long long)(budget - used));
  _exit(125);
}

void wwjail_guest_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  if (!take(initial_pages * WWJAIL_PAGE)) refuse_start(initial_pages * WWJAIL_PAGE, "linear memory");
  uint64_t most = initial_pages + (budget - used) / WWJAIL_PAGE;
  wasm_rt_allocate_memory(memory, initial_pages, max_pages < most ? max_pages : (uint32_t)most);
}

uint32_t wwjail_guest_grow_memory(wasm_rt_memory_t* memory, uint32_t pages) {
  if (!take(pages * WWJAIL_PAGE)) return (uint32_t)-1;
  uint32_t old = wasm_rt_grow_memory(memory, pages);
  if (old == (uint32_t)-1) used -= pages * WWJAIL_PAGE;
  return old;
}

#define WWJAIL_TABLE_HOOKS(type)                                                                                    \
  void wwjail_guest_allocate_##type##_table(wasm_rt_##type##_table_t* table, uint32_t elements,                   \
                                            uint32_t max_elements) {                                              \
    uint64_t bytes = (uint64_t)elements * sizeof(wasm_rt_##type##_t);                                             \
    if (elements > WWJAIL_MAX_TABLE_ENTRIES || !take(bytes)) refuse_start(bytes, "tables");                       \
    wasm_rt_allocate_##type##_table(table, elements,                                                              \
                                    max_elements < WWJAIL_MAX_TABLE_ENTRIES ? max_elements                        \
                                                                            : WWJAIL_MAX_TABLE_ENTRIES);          \
    if (elements && !table->data) refuse_start(bytes, "tables (out of memory)");                                  \
  }                                                                                                               \
  uint32_t wwjail_guest_grow_##type##_table(wasm_rt_##type##_table_t* table, uint32_t delta,                      \
                                            wasm_rt_##type##_t init) {                                            \
    uint64_t bytes = (uint64_t)delta * sizeof(wasm_rt_##type##_t);                                                \
    if ((uint64_t)table->size + delta > WWJAIL_MAX_TABLE_ENTRIES || !take(bytes)) return (uint32_t)-1;            \
    uint32_t old = wasm_rt_grow_##type##_table(table, delta, init);                                               \
    if (old == (uint32_t)-1) used -= bytes;                                                                       \
    return old;                                                                                                   \
  }

WWJAIL_TABLE_HOOKS(funcref)
WWJAIL_TABLE_HOOKS(externref)
