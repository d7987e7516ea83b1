;; A function exported as "memory" (and the real memory not exported at
;; all). Refused.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "memory") (result i32) (i32.const 0))
  (func (export "_start") (call $exit (i32.const 0))))
