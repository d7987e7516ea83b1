;; Grows a funcref table by 1000 entries, then by 150 million (3.5 GiB at
;; 24 bytes an entry), then an externref table by 150 million. Exits with a
;; bit per grow that was granted: 1 for the small one, 2 and 4 for the huge
;; ones. Tables count toward --max-memory, and no table may hold more than
;; the engines' 10 million entries: only the small grow is granted (1);
;; under --max-memory 70000 the memory's page and the two one-entry tables
;; leave too little for even the small grow (0).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table $funcs 1 funcref)
  (table $refs 1 externref)
  (func $granted (param i32) (param i32) (result i32)
    (select (i32.const 0) (local.get 1) (i32.eq (local.get 0) (i32.const -1))))
  (func (export "_start")
    (call $exit
      (i32.or
        (i32.or
          (call $granted (table.grow $funcs (ref.null func) (i32.const 1000)) (i32.const 1))
          (call $granted (table.grow $funcs (ref.null func) (i32.const 150000000)) (i32.const 2)))
        (call $granted (table.grow $refs (ref.null extern) (i32.const 150000000)) (i32.const 4))))))
