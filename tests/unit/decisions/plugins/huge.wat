;; Declares 4 GiB of memory up front: refused when instantiated.
(module
  (memory (export "memory") 65536)
  (func (export "alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "measure") (param i32 i32) (result i64) (i64.const 0)))
