;; AdamW's element update in float32, four lanes at a time (WebAssembly SIMD), as torch computes it in fp32.
;; Compiled into adamw-wasm.ts by scripts/build-wasm.ts; the test suite checks that the two agree.
;; Pointers are byte offsets into the module's memory, 16-byte aligned; n is an element count.
(module
  (memory (export "memory") 1)

  ;; m ← β₁m + c₁g;  v ← β₂v + (c₂g)g;  p ← p − (s·m)/(√v + ε);  p ← p − d·p
  ;; (c₁ = (1−β₁)·scale, c₂ = (1−β₂)·scale², s = the bias-corrected step size, d = lr·λ; see optimizers.ts)
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $c1 f32) (param $c2 f32) (param $s f32) (param $eps f32) (param $d f32)
    (local $o i32) (local $end i32)
    (local $B1 v128) (local $B2 v128) (local $C1 v128) (local $C2 v128) (local $S v128) (local $E v128) (local $D v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $ps f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $S (f32x4.splat (local.get $s)))
    (local.set $E (f32x4.splat (local.get $eps)))
    (local.set $D (f32x4.splat (local.get $d)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mv (f32x4.add (f32x4.mul (local.get $B1) (v128.load (i32.add (local.get $m) (local.get $o))))
                                  (f32x4.mul (local.get $C1) (local.get $gv))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $B2) (v128.load (i32.add (local.get $v) (local.get $o))))
                                  (f32x4.mul (f32x4.mul (local.get $C2) (local.get $gv)) (local.get $gv))))
        (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
        (local.set $pv (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o)))
                                  (f32x4.div (f32x4.mul (local.get $S) (local.get $mv))
                                             (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $E)))))
        (v128.store (i32.add (local.get $p) (local.get $o))
                    (f32x4.sub (local.get $pv) (f32x4.mul (local.get $D) (local.get $pv))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $vloop)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone
      (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $ms (f32.add (f32.mul (local.get $b1) (f32.load (i32.add (local.get $m) (local.get $o))))
                                (f32.mul (local.get $c1) (local.get $gs))))
        (local.set $vs (f32.add (f32.mul (local.get $b2) (f32.load (i32.add (local.get $v) (local.get $o))))
                                (f32.mul (f32.mul (local.get $c2) (local.get $gs)) (local.get $gs))))
        (f32.store (i32.add (local.get $m) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $o)) (local.get $vs))
        (local.set $ps (f32.sub (f32.load (i32.add (local.get $p) (local.get $o)))
                                (f32.div (f32.mul (local.get $s) (local.get $ms))
                                         (f32.add (f32.sqrt (local.get $vs)) (local.get $eps)))))
        (f32.store (i32.add (local.get $p) (local.get $o))
                   (f32.sub (local.get $ps) (f32.mul (local.get $d) (local.get $ps))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $sloop))))

  ;; p ← p − d·p: the update above when m = v = g = 0 (a row that has never had a gradient).
  (func (export "decay") (param $p i32) (param $n i32) (param $d f32)
    (local $o i32) (local $end i32) (local $D v128) (local $pv v128) (local $ps f32)
    (local.set $D (f32x4.splat (local.get $d)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $o))))
        (v128.store (i32.add (local.get $p) (local.get $o))
                    (f32x4.sub (local.get $pv) (f32x4.mul (local.get $D) (local.get $pv))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $vloop)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone
      (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $ps (f32.load (i32.add (local.get $p) (local.get $o))))
        (f32.store (i32.add (local.get $p) (local.get $o))
                   (f32.sub (local.get $ps) (f32.mul (local.get $d) (local.get $ps))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $sloop))))
)
