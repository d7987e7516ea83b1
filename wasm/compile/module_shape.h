// The shape of a WebAssembly module, checked before wasm2c sees it: what
// the runner binds, and what decides how much a compile costs.
//
// Binding. The runner takes the module's linear memory from the export
// named "memory" and calls the export named "_start"; wasm2c gives every
// export an accessor of the export's own kind (a table's accessor returns a
// table), so a module exporting a table or a global as "memory" would hand
// the host a fake memory: its bounds checks would then be computed from
// the module's own data, which is arbitrary reads and writes of the runner.
// So "memory" must be a memory, "_start" a function of no parameters and no
// results, and every import a function (the host provides nothing else);
// guest_entry.c asserts the same types again when it is compiled.
//
// Cost. wasm2c and the C compiler take time and memory that grow with what
// a function declares, not with its size in bytes: a 105-byte module that
// declares 20 million locals took 170 s and 9 GiB to compile. So the
// implementation limits of the WebAssembly JS API (which V8, SpiderMonkey
// and JavaScriptCore enforce) are applied before translating: at most
// 50000 locals per function (parameters included), function bodies of at
// most 7654321 bytes, and the counts below. The compile steps also run
// under resource limits (module_compiler.cc); these checks refuse the
// obvious cases at once, with the reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wwjail {

namespace wasm_limits {
constexpr uint64_t kModuleBytes = 1ull << 30;
constexpr uint32_t kTypes = 1000000;
constexpr uint32_t kFunctions = 1000000;
constexpr uint32_t kImports = 100000;
constexpr uint32_t kExports = 100000;
constexpr uint32_t kGlobals = 1000000;
constexpr uint32_t kDataSegments = 100000;
constexpr uint32_t kTables = 100000;
constexpr uint32_t kTableEntries = 10000000;  // a table's initial (and, at run time, grown) size
constexpr uint32_t kParams = 1000;
constexpr uint32_t kResults = 1000;
constexpr uint32_t kLocals = 50000;  // per function, parameters included
constexpr uint32_t kBodyBytes = 7654321;
}  // namespace wasm_limits

// "" when the module may be compiled; otherwise why not, in words ("its
// export \"memory\" is a table, not a memory"). The module's sections must
// be well formed as far as this reads them; what it cannot read (a
// proposal's types, say) is left to wasm2c, which refuses it by name.
std::string check_module_shape(std::string_view module);

}  // namespace wwjail
