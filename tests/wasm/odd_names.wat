;; A function whose debug name holds "*/": the name section is dropped
;; (traps would be unnamed) and the module still runs, exiting 0.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $odd*/name (call $exit (i32.const 0)))
  (func (export "_start") (call $odd*/name)))
