;; "_start" is a function, but of another type than a WASI command's
;; (it takes an argument the runner would never pass). Refused.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (param i32) (call $exit (local.get 0))))
