;; Answers bytes that are not the JSON asked for.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "not json at all")
  (func (export "alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "measure") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 15))))
