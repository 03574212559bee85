;; Traps at once.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "measure") (param i32 i32) (result i64) unreachable))
