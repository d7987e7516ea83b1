;; An export whose name would end wasm2c's comment and start C code: wwjail
;; must refuse the module before wasm2c writes it into a C file.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 0)))
  (func (export "x */\0a#error injected\0a/* ")))
