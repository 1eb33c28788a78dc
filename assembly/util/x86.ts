// The accumulation scheme of llama.cpp's x86 (AVX2) K-quant dot products, shared by Q2_K … Q6_K
// and IQ4_XS (llama.cpp c392e50, ggml/src/ggml-cpu/ggml-cpu-quants.c, the `#elif defined __AVX2__`
// branches of ggml_vec_dot_{q2_K,q3_K,q4_K,q5_K,q6_K,iq4_xs}_q8_K; an AVX-512 build compiles the
// same branches, none of these functions has an AVX-512 path).
//
// Integer lanes. Every one of those kernels walks a super-block in 32-byte chunks of quants q and
// Q8_K activations q8 (32 consecutive values e = 32c … 32c + 31). `_mm256_maddubs_epi16` adds the
// products of neighbouring bytes into 16 i16 lanes, `_mm256_madd_epi16` with the (sub-block) scale
// multiplies and adds neighbouring i16 lanes into 8 i32 lanes, and `_mm256_add_epi32` sums those
// over the chunks of the super-block. So i32 lane u (0..7) holds
//
//     L[u] = Σ_{e : (e mod 32) div 4 = u} scale(e) · q[e] · q8[e]       — four consecutive values
//                                                                        of every chunk
//
// (exact: no i16 step saturates for any q8 in −128..127, and |L[u]| ≤ 2^24 for every format, so
// the conversion to f32 is exact too).
//
// Floats, per super-block: acc[u] = fma(d, f32(L[u]), acc[u]) (`_mm256_fmadd_ps`; Q2_K first does
// the same with its 8 mins lanes, Q4_K keeps its 4 mins lanes in a separate acc_m), and at the end
// `hsum_float_8(acc)` = ((acc0 + acc4) + (acc2 + acc6)) + ((acc1 + acc5) + (acc3 + acc7)).
//
// WASM has no fused multiply-add: fma32 (util/expf.ts) is the correctly rounded fused result (a·b
// exact in f64, one f64 rounding, and rounding to odd where that could double-round). The SIMD form
// does the same in f64x2 lanes (util/fma.ts), so the two twins agree bit for bit.
//
// The SIMD integer lanes: `i16x8.extmul_{low,high}_i8x16_s` gives the 8 exact products of bytes
// 0..7 (8..15) of a 16-byte vector, `i32x4.dot_i16x8_s` with the splatted scale adds neighbours:
// lane k = scale·(P[2k] + P[2k+1]). Those "pair lanes" are summed over the super-block; at its end
// `x86_quads` adds neighbouring pair lanes into the four x86 lanes of that 16-byte half.
import { fma32 } from './expf';
import { f32_rounding_unsure_x4, demote_f64x2x2, fma_f32x4_exact } from './fma';

// ------------------------------------------------------------------------------------------------
// scalar form, for the `_generic` twins (static scratch: the module is single-threaded)

/** the eight i32 lanes L[0..7] of one super-block */
export const X86_L: usize = memory.data(8 * 4);
/** the eight f32 accumulators acc[0..7] of a row */
export const X86_ACC: usize = memory.data(8 * 4);
/** a second set of eight i32 lanes (Q2_K's and Q4_K's mins) */
export const X86_M: usize = memory.data(8 * 4);
/** a second set of f32 accumulators (Q4_K's acc_m) */
export const X86_ACC_M: usize = memory.data(8 * 4);
/** one super-block's quants unpacked to int8 */
export const X86_AUX8: usize = memory.data(256);

@inline export function x86_clear(p: usize): void {
  memory.fill(p, 0, 8 * 4);
}

@inline export function x86_lane(p: usize, u: i32): i32 {
  return load<i32>(p + (<usize>u << 2));
}

/**
 * L[((e0 + i) mod 32) div 4] += scale · a[i] · q8[i] for i < n: the products of n int8 quants `a`
 * and int8 activations `q8` whose first value is value e0 of the super-block.
 */
@inline export function x86_lanes_add(scale: i32, a: usize, q8: usize, e0: i32, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = X86_L + (<usize>(((e0 + i) >> 2) & 7) << 2);
    store<i32>(p, load<i32>(p) + scale * (<i32>load<i8>(a + i) * <i32>load<i8>(q8 + i)));
  }
}

/** acc[u] = fma(d, f32(lanes[u]), acc[u]) for u < count (count = 8, or 4 for Q4_K's acc_m) */
@inline export function x86_fma(acc: usize, d: f32, lanes: usize, count: i32): void {
  for (let u = 0; u < count; u++) {
    const a = acc + (<usize>u << 2);
    store<f32>(a, fma32(d, <f32>load<i32>(lanes + (<usize>u << 2)), load<f32>(a)));
  }
}

/** hsum_float_8 of acc[0..7]: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) */
@inline export function x86_hsum8(acc: usize): f32 {
  const r0: f32 = load<f32>(acc) + load<f32>(acc, 16);
  const r1: f32 = load<f32>(acc, 4) + load<f32>(acc, 20);
  const r2: f32 = load<f32>(acc, 8) + load<f32>(acc, 24);
  const r3: f32 = load<f32>(acc, 12) + load<f32>(acc, 28);
  return (r0 + r2) + (r1 + r3);
}

/** the _mm_movehl_ps / _mm_movehdup_ps sum of 4 lanes: (a0 + a2) + (a1 + a3) */
@inline export function x86_hsum4(acc: usize): f32 {
  return (load<f32>(acc) + load<f32>(acc, 8)) + (load<f32>(acc, 4) + load<f32>(acc, 12));
}

// ------------------------------------------------------------------------------------------------
// SIMD form

/** pair lanes of bytes 0..7: scale·(q[2k]·q8[2k] + q[2k+1]·q8[2k+1]), k = 0..3 (|q·q8| < 2^15) */
@inline export function x86_pairs_lo(q: v128, q8: v128, scale: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.extmul_low_i8x16_s(q, q8), scale);
}

/** pair lanes of bytes 8..15 */
@inline export function x86_pairs_hi(q: v128, q8: v128, scale: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.extmul_high_i8x16_s(q, q8), scale);
}

/** the x86 lanes of a 16-byte half from its pair lanes: [a0 + a1, a2 + a3, b0 + b1, b2 + b3] */
@inline export function x86_quads(a: v128, b: v128): v128 {
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

/** four lanes of acc = fma(d, f32(lanes), acc), `d` splatted in f64x2 (the fma32 of every lane;
 *  in the relaxed-SIMD module one fused relaxed_madd, as x86_fma_relaxed) */
@inline export function x86_fma_f32x4(acc: v128, d: v128, lanes: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return x86_fma_relaxed(acc, f32x4.splat(<f32>f64x2.extract_lane(d, 0)), lanes);
  // |lanes| ≤ 2^24: the i32 → f64 conversion equals i32 → f32 → f64
  const lo = f64x2.add(f64x2.mul(d, f64x2.convert_low_i32x4_s(lanes)), f64x2.promote_low_f32x4(acc));
  const hi = f64x2.add(
    f64x2.mul(d, f64x2.convert_low_i32x4_s(i32x4.shuffle(lanes, lanes, 2, 3, 2, 3))),
    f64x2.promote_low_f32x4(i32x4.shuffle(acc, acc, 2, 3, 2, 3)),
  );
  if (f32_rounding_unsure_x4(lo, hi)) return fma_f32x4_exact(f32x4.convert_i32x4_s(lanes), f32x4.splat(<f32>f64x2.extract_lane(d, 0)), acc);
  return demote_f64x2x2(lo, hi);
}

/** hsum_float_8 of lanes lo = acc[0..3], hi = acc[4..7] */
@inline export function x86_hsum8_f32x4(lo: v128, hi: v128): f32 {
  const r = f32x4.add(lo, hi);
  const s = f32x4.add(r, i32x4.shuffle(r, r, 2, 3, 2, 3));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** (a0 + a2) + (a1 + a3) */
@inline export function x86_hsum4_f32x4(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 2, 3));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

// ------------------------------------------------------------------------------------------------
// the same FMA with a cheaper test for its exact path (the Q4_K / Q6_K kernels)
//
// x86_fma_f32x4 takes the exact path when an f64 sum s is an f32 tie or 0 < |s| < 2^-126. In the
// K-quant kernels d is an f32, the lanes are integers with |L| ≤ 2^25 and acc holds f32 values, so
// d·L is exact in f64 (≤ 24 + 25 bits) and the exact sum v = d·L + acc is a multiple of 2^-149:
//   - if |v| < 2^-126, v = k·2^-149 with |k| < 2^23 fits f64, so s = v, and f32(s) is v itself;
//   - if |v| ≥ 2^-126, then |s| ≥ 2^-126 too, and f32(f64(v)) differs from f32(v) only where s is
//     an f32 tie (a midpoint of two f32 values, overflow threshold included).
// So the ties alone decide: where none of a group's sums is one, f32(s) is x86_fma_f32x4's result (both
// paths of which are the correctly rounded fma), bit for bit; Inf and NaN lanes are no ties and come
// out of f32(s) as out of the exact path.

/** lanes 0, 1 of x86_fma_f32x4's f64 sums: d·f64(lanes[0..1]) + acc[0..1] (`d` splatted in f64x2) */
@inline export function x86_fma_sum_lo(acc: v128, d: v128, lanes: v128): v128 {
  return f64x2.add(f64x2.mul(d, f64x2.convert_low_i32x4_s(lanes)), f64x2.promote_low_f32x4(acc));
}

/** lanes 2, 3 of x86_fma_f32x4's f64 sums */
@inline export function x86_fma_sum_hi(acc: v128, d: v128, lanes: v128): v128 {
  return f64x2.add(
    f64x2.mul(d, f64x2.convert_low_i32x4_s(i32x4.shuffle(lanes, lanes, 2, 3, 2, 3))),
    f64x2.promote_low_f32x4(i32x4.shuffle(acc, acc, 2, 3, 2, 3)),
  );
}

/** the f32-tie test of four f64 sums (lo, hi): the low 32 bits of s shifted left by 3 are INT_MIN
 *  exactly where s is an f32 tie (low 29 bits 1 << 28); fold several with i32x4.min_s */
@inline export function x86_fma_ties(lo: v128, hi: v128): v128 {
  return i32x4.shl(i32x4.shuffle(lo, hi, 0, 2, 4, 6), 3);
}

/** true when folded x86_fma_ties values call for the exact path in some lane */
@inline export function x86_fma_unsure(ties: v128): bool {
  return v128.any_true(i32x4.eq(ties, i32x4.splat(0x80000000)));
}

/** x86_fma_f32x4 (same bits, see above) with only the tie test */
@inline export function x86_fma_f32x4_fast(acc: v128, d: v128, lanes: v128): v128 {
  const lo = x86_fma_sum_lo(acc, d, lanes), hi = x86_fma_sum_hi(acc, d, lanes);
  if (x86_fma_unsure(x86_fma_ties(lo, hi))) return x86_fma_f32x4_slow(acc, d, lanes);
  return demote_f64x2x2(lo, hi);
}

/** x86_fma_f32x4's exact path (correct in every lane), out of line */
export function x86_fma_f32x4_slow(acc: v128, d: v128, lanes: v128): v128 {
  return fma_f32x4_exact(f32x4.convert_i32x4_s(lanes), f32x4.splat(<f32>f64x2.extract_lane(d, 0)), acc);
}

/**
 * acc = fma(d, f32(lanes), acc) as one f32x4.relaxed_madd (`d`: f32 in every lane): the four-row
 * K-quant kernels of the relaxed-SIMD module, chosen only where relaxed_madd is fused, so the bits
 * are x86_fma_f32x4's. Compiled into that module alone (the SIMD128 one has no relaxed opcodes).
 */
@inline export function x86_fma_relaxed(acc: v128, d: v128, lanes: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(f32x4.convert_i32x4_s(lanes), d, acc);
  return unreachable();
}
