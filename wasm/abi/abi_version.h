// The contract between a compiled module (guest_entry.c, wasi_imports.h)
// and the runner that loads it. Bump it whenever either side changes shape:
// cached and shipped artifacts of another version are refused, not run.
#pragma once

#define WWJAIL_WASM_ABI "wwjail-wasm-4"
