;; Imports a host function: refused at load.
(module
  (import "env" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "measure") (param i32 i32) (result i64) (call $now)))
