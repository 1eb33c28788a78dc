// Fused multiply-add for four f32 lanes, correctly rounded like x86's vfmadd (which llama.cpp's
// float kernels use everywhere: tinyBLAS, ggml_vec_dot_*, and GCC's contraction of `a*b + c`).
// WASM SIMD128 has no fused multiply-add, so each lane is computed as the scalar `fma32` does
// (util/expf.ts): the product exact in f64, the sum rounded to odd in f64 (TwoSum error term),
// then rounded to f32 — the correctly rounded a·b + c, bit for bit what fma32 returns.
export { fma32 } from './expf';

/** p + c rounded to odd in f64, two lanes (p, c exact f64 values) */
@inline function sum_round_to_odd(p: v128, c: v128): v128 {
  const s = f64x2.add(p, c);
  const bb = f64x2.sub(s, p);
  const err = f64x2.add(f64x2.sub(p, f64x2.sub(s, bb)), f64x2.sub(c, bb));
  const inexact = v128.and(f64x2.ne(err, f64x2.splat(0)), f64x2.eq(err, err));
  const even = i64x2.eq(v128.and(s, i64x2.splat(1)), i64x2.splat(0));
  // one ulp towards the exact sum: up in magnitude when err has s's sign, down otherwise
  const step = v128.or(i64x2.shr_s(v128.xor(s, err), 63), i64x2.splat(1));
  return i64x2.add(s, v128.and(step, v128.and(inexact, even)));
}

/** a·b + c per lane, rounded once */
@inline export function fma_f32x4(a: v128, b: v128, c: v128): v128 {
  const lo = sum_round_to_odd(
    f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c));
  const ah = i32x4.shuffle(a, a, 2, 3, 2, 3), bh = i32x4.shuffle(b, b, 2, 3, 2, 3), ch = i32x4.shuffle(c, c, 2, 3, 2, 3);
  const hi = sum_round_to_odd(
    f64x2.mul(f64x2.promote_low_f32x4(ah), f64x2.promote_low_f32x4(bh)), f64x2.promote_low_f32x4(ch));
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
