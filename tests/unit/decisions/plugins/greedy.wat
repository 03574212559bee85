;; Tries to grow its memory to 4 GiB (65536 pages); traps when that is refused.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "measure") (param i32 i32) (result i64)
    (if (i32.eq (memory.grow (i32.const 65535)) (i32.const -1)) (then unreachable))
    (i64.const 0)))
