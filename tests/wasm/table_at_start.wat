;; Declares a table of 5 million entries (120 MB): it runs, but under a
;; --max-memory smaller than that it is refused before its code runs.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table 5000000 funcref)
  (func (export "_start") (call $exit (i32.const 3))))
