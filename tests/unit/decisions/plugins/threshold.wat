;; The bench's plug-in (bench/benchmarks/wasm_plugin.py): the first number in the request
;; (the canonical JSON puts input.payment.amount_minor first) scores 30 above 100000, else 0;
;; the same measurement as the pack term `when: input.payment.amount_minor > 100000, weight: 30`.
(module
  (memory (export "memory") 1)
  (data (i32.const 1024) "{\"value\":30}")
  (data (i32.const 1040) "{\"value\":0}")
  (func (export "alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "measure") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $end i32) (local $c i32) (local $n i64)
    (local.set $i (local.get $ptr))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    ;; skip to the first digit
    (block $found (loop $seek
      (br_if $found (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $c (i32.load8_u (local.get $i)))
      (br_if $found (i32.and (i32.ge_u (local.get $c) (i32.const 48))
                             (i32.le_u (local.get $c) (i32.const 57))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $seek)))
    ;; read the digits
    (block $done (loop $digits
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $c (i32.load8_u (local.get $i)))
      (br_if $done (i32.or (i32.lt_u (local.get $c) (i32.const 48))
                           (i32.gt_u (local.get $c) (i32.const 57))))
      (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10))
                             (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $digits)))
    (if (result i64) (i64.gt_u (local.get $n) (i64.const 100000))
      (then (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 12)))
      (else (i64.or (i64.shl (i64.const 1040) (i64.const 32)) (i64.const 11))))))
