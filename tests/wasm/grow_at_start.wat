;; Grows its memory by 1 GiB in its start function, before _start: exits 7
;; when the grow was refused (--max-memory), 9 when it was granted.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $grew (mut i32) (i32.const 0))
  (func $grow (global.set $grew (memory.grow (i32.const 16384))))
  (start $grow)
  (func (export "_start")
    (call $exit (select (i32.const 7) (i32.const 9) (i32.eq (global.get $grew) (i32.const -1))))))
