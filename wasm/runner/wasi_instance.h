// What a compiled module holds for its wasi_snapshot_preview1 import (the
// struct wasm2c leaves to the embedder): the run's WASI host.
#pragma once

#include "wasm/runner/wasi_host.h"

struct Z_wasi_snapshot_preview1_instance_t {
  wwjail::WasiHost* host;
};
