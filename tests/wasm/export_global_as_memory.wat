;; A mutable global exported as "memory": its accessor returns a pointer to
;; the global, which the runner must never take for a memory. Refused.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (global (export "memory") (mut i64) (i64.const 0))
  (memory 1)
  (func (export "_start") (call $exit (i32.const 0))))
