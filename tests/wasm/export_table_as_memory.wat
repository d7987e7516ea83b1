;; Exports a funcref table under the name the runner takes linear memory
;; from. Compiled as it was, the runner read the table's header as a memory
;; (data pointer, size) that the module controls: arbitrary reads and writes
;; of the runner. Must be refused before anything is compiled.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (table (export "memory") 4 funcref)
  (memory (export "mem") 1)
  (func (export "_start") (call $exit (i32.const 0))))
