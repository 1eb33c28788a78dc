// Fused multiply-add for four f32 lanes, correctly rounded like x86's vfmadd (which llama.cpp's
// float kernels use everywhere: tinyBLAS, ggml_vec_dot_*, and GCC's contraction of `a*b + c`).
// WASM SIMD128 has no fused multiply-add, so each lane is computed as the scalar `fma32` does
// (util/expf.ts): the product exact in f64, the sum rounded once in f64 and then to f32, which is
// the correctly rounded a·b + c unless a lane's f64 sum is an f32 tie or below 2^-126; then (rarely)
// the four lanes are redone with the sum rounded to odd — bit for bit what fma32 returns.
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

/** lanes of two f64x2 whose f32 rounding may not be the exact value's (as f32_rounding_is_unsure) */
@inline export function f32_rounding_unsure_x4(lo: v128, hi: v128): bool {
  const tie = i32x4.eq(i32x4.shl(i32x4.shuffle(lo, hi, 0, 2, 4, 6), 3), i32x4.splat(0x80000000));
  const TINY = f64x2.splat(1.1754943508222875e-38); // 2^-126
  const zero = f64x2.splat(0);
  const tinyLo = v128.and(f64x2.lt(f64x2.abs(lo), TINY), f64x2.ne(lo, zero));
  const tinyHi = v128.and(f64x2.lt(f64x2.abs(hi), TINY), f64x2.ne(hi, zero));
  return v128.any_true(v128.or(tie, v128.or(tinyLo, tinyHi)));
}

/** four f32 lanes from two f64x2 */
@inline export function demote_f64x2x2(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * a·b + c per lane, rounded once. In the relaxed-SIMD module one f32x4.relaxed_madd: that module is
 * chosen only where relaxed_madd is fused (src/wasm/instance.ts), so the bits are the same.
 */
@inline export function fma_f32x4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  const ah = i32x4.shuffle(a, a, 2, 3, 2, 3), bh = i32x4.shuffle(b, b, 2, 3, 2, 3), ch = i32x4.shuffle(c, c, 2, 3, 2, 3);
  const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c));
  const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(ah), f64x2.promote_low_f32x4(bh)), f64x2.promote_low_f32x4(ch));
  if (f32_rounding_unsure_x4(lo, hi)) return fma_f32x4_exact(a, b, c);
  return demote_f64x2x2(lo, hi);
}

/** fma_f32x4 through rounding to odd in every lane (the rare path; out of line) */
export function fma_f32x4_exact(a: v128, b: v128, c: v128): v128 {
  const lo = sum_round_to_odd(
    f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c));
  const ah = i32x4.shuffle(a, a, 2, 3, 2, 3), bh = i32x4.shuffle(b, b, 2, 3, 2, 3), ch = i32x4.shuffle(c, c, 2, 3, 2, 3);
  const hi = sum_round_to_odd(
    f64x2.mul(f64x2.promote_low_f32x4(ah), f64x2.promote_low_f32x4(bh)), f64x2.promote_low_f32x4(ch));
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
