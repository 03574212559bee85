;; A well-behaved plug-in: {"value": <the request's length in bytes>}.
;; The host writes the request at alloc's pointer; the answer is written at 1024.
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 4096))
  (func (export "alloc") (param $len i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $at))
  (data (i32.const 1024) "{\"value\":")
  (func (export "measure") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32) (local $digits i32) (local $i i32) (local $end i32)
    ;; count the digits of len
    (local.set $n (local.get $len))
    (local.set $digits (i32.const 1))
    (block $done (loop $count
      (br_if $done (i32.lt_u (local.get $n) (i32.const 10)))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (br $count)))
    ;; write them right to left after the 9-byte prefix
    (local.set $n (local.get $len))
    (local.set $i (i32.add (i32.const 1032) (local.get $digits)))
    (loop $write
      (i32.store8 (local.get $i)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $write (i32.gt_u (local.get $n) (i32.const 0))))
    (local.set $end (i32.add (i32.const 1033) (local.get $digits)))
    (i32.store8 (local.get $end) (i32.const 125))
    (i64.or
      (i64.shl (i64.const 1024) (i64.const 32))
      (i64.extend_i32_u (i32.sub (i32.add (local.get $end) (i32.const 1)) (i32.const 1024))))))
