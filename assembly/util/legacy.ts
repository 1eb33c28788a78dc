// Pieces shared by ggml's "legacy" 32-value block formats (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL) and the
// Q8_0 / Q8_1 activation blocks they are dotted with.
//
// All of them store a block's 32 weights as 16 bytes of nibbles in the same element order:
//
//   qs[j] & 0x0F  → element j        (j = 0..15)
//   qs[j] >> 4    → element j + 16
//
// so nibbles_lo(qs) holds elements 0..15 and nibbles_hi(qs) elements 16..31, and each half lines up
// with 16 consecutive int8 activations of the Q8 block. The 5-bit formats add a u32 `qh` whose bit j
// is bit 4 of element j.
//
// ---- llama.cpp's x86 accumulation (c392e50, AVX2 code that an AVX-512 build also runs) ----------
//
// Integer lanes. The x86 kernels unpack a block's weights into one __m256i of 32 int8 in element
// order (bytes_from_nibbles_32 / denibble: low nibbles in bytes 0..15, high nibbles in 16..31) and
// multiply it with the 32 activation bytes by `_mm256_maddubs_epi16` + `_mm256_madd_epi16(·, 1)`
// (or `_mm256_dpbusd_epi32` with VNNI, or `_mm256_dpbssd_epi32`): i32 lane k (k = 0..7) is the sum
// of the four products of elements 4k .. 4k+3,
//
//     L[k] = Σ_{e = 4k}^{4k+3} q_w[e]·q_x[e]            (exact: |L[k]| ≤ 4·128·128 = 2^16)
//
// and `_mm256_cvtepi32_ps` turns it into an f32 exactly. Signed weights go through the
// `_mm256_sign_epi8` trick (|w| times x with w's sign), which differs from the true product only for
// an activation of −128 with a negative weight; llama.cpp's Q8 quantizers never emit −128 (their
// quants are round(x·127/amax)), so the kernels here use the exact products throughout.
//
// Floats. Per block, acc[k] = fma(d_w·d_x, f32(L[k]), acc[k]) (`_mm256_fmadd_ps`; d_w·d_x is the
// exact f32 product of two f16 values, ≤ 22 significant bits) and, after the last block,
// hsum_float_8(acc) = ((acc0 + acc4) + (acc2 + acc6)) + ((acc1 + acc5) + (acc3 + acc7)).
// Which kernel runs each format, and its deviations from this scheme, is documented per file.
//
// The fused multiply-adds are fma32 (util/expf.ts) in the `_generic` twins — correctly rounded —
// and `fma_sum` + `round_pair` below in the SIMD ones, which gets the same bits faster: in f64x2 lanes, s =
// d·f32(L) + acc is d·L (exact: ≤ 22 + 17 bits) plus acc rounded once to f64, and f32(s) is the
// correctly rounded fused result unless s is exactly an f32 tie — f64 patterns whose low 29 bits are
// 0x10000000 for results in f32's normal range. Every value in these kernels is a multiple of 2^-48
// (f16 scales are multiples of 2^-24, quant sums integers, and f32 rounding keeps a multiple of 2^-48
// one), so a non-zero s is at least 2^-48 and never in f32's subnormal range, where ties would look
// different. And a multiple of 2^-48 below 2^5 in magnitude fits f64's 53 bits: such an s is the
// exact sum, and f32(s) rounds a tie to even as the fused operation does. So only a tie with
// |s| ≥ 32 can be a double rounding. The SIMD kernels test the eight sums of a block together and,
// when one is such a tie (rare: dot products of these magnitudes seldom reach 32), redo that
// block's FMAs with fma32 from the accumulators before it. The accumulators stay in f64x2 registers
// (exact f32 values) between blocks.
import { dot_i8x16, hsum_i32x4 } from './simd';
import { fma32 } from './expf';
import { fp16_to_fp32, halves4_to_f32x4 } from './fp16';
import { demote_f64x2x2 } from './fma';

/** values per block, for every format in this family and for Q8_0 / Q8_1 */
export const QK: i32 = 32;

/** byte offset of block `ib` in a row of `bytes`-sized blocks */
@inline export function block_at(p: usize, ib: i32, bytes: i32): usize {
  return p + <usize>ib * bytes;
}

/** the f16 bits at p (scales d, m, s are all stored this way) */
@inline export function half_at(p: usize): u32 {
  return <u32>load<u16>(p);
}

/** the 4 bytes of qh at p as one little-endian u32 (bit j = bit 4 of element j); p may be unaligned */
@inline export function qh_at(p: usize): u32 {
  return load<u32>(p);
}

/** low nibble of qs[j]: element j (scalar) */
@inline export function nib_lo(qs: usize, j: i32): i32 {
  return <i32>(load<u8>(qs + j) & 0x0f);
}

/** high nibble of qs[j]: element j + 16 (scalar) */
@inline export function nib_hi(qs: usize, j: i32): i32 {
  return <i32>(load<u8>(qs + j) >> 4);
}

/** bit 4 of element j (0 or 16) of a 5-bit block, element j in 0..31 */
@inline export function high_bit(qh: u32, j: i32): i32 {
  return <i32>((qh >> j) & 1) << 4;
}

/**
 * Sixteen bytes, byte i = 0x10 if bit i of `bits` (a 16-bit field) is set, else 0: the bit-4 planes of
 * 16 consecutive elements of a 5-bit block (bits = qh & 0xffff for elements 0..15, qh >> 16 for 16..31).
 */
@inline export function high_bits_16(bits: u32): v128 {
  // bytes 0..7 copy the field's low byte, bytes 8..15 its high byte; lane i then tests bit i % 8
  const spread = i8x16.shuffle(i32x4.splat(bits), i32x4.splat(bits), 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const mask = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return v128.and(i8x16.eq(v128.and(spread, mask), mask), i8x16.splat(0x10));
}

/**
 * Σ w[i]·x[i] over a block's 32 values: `lo` and `hi` hold the weights of elements 0..15 and 16..31
 * as int8 lanes, `xq` points at the 32 int8 activation quants. Exact.
 */
@inline export function block_dot_i8(lo: v128, hi: v128, xq: usize): i32 {
  return hsum_i32x4(i32x4.add(dot_i8x16(lo, v128.load(xq)), dot_i8x16(hi, v128.load(xq, 16))));
}

// ------------------------------------------------------------------------------------------------
// the x86 lane scheme, scalar form (for the `_generic` twins; static scratch, the module is
// single-threaded)

/** lanes per block in the x86 scheme (8 i32 lanes of 4 consecutive elements) */
export const LANES: i32 = 8;
/** the f32 accumulators acc[0..7] of a row */
export const LEG_ACC: usize = memory.data(8 * 4);
/** a second set (IQ4_NL's two accumulators) */
export const LEG_ACC2: usize = memory.data(8 * 4);
/** the 32 int8 weight quants of one block, unpacked in element order */
export const LEG_Q: usize = memory.data(32);

@inline export function acc_clear(acc: usize): void {
  memory.fill(acc, 0, 8 * 4);
}

/** L[k] = Σ q_w[e]·q_x[e] over e = 4k .. 4k+3: `q` the 32 unpacked weight quants, `xq` the int8 activations */
@inline export function lane_sum(q: usize, xq: usize, k: i32): i32 {
  let sum = 0;
  for (let e = 4 * k; e < 4 * k + 4; e++) sum += <i32>load<i8>(q + e) * <i32>load<i8>(xq + e);
  return sum;
}

/** acc[k] = fma(d, f32(L[k]), acc[k]) for the 8 lanes of one block */
@inline export function fma_block(acc: usize, d: f32, q: usize, xq: usize): void {
  for (let k = 0; k < LANES; k++) {
    const a = acc + (<usize>k << 2);
    store<f32>(a, fma32(d, <f32>lane_sum(q, xq, k), load<f32>(a)));
  }
}

/** hsum_float_8: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) */
@inline export function hsum8(acc: usize): f32 {
  const r0: f32 = load<f32>(acc) + load<f32>(acc, 16);
  const r1: f32 = load<f32>(acc, 4) + load<f32>(acc, 20);
  const r2: f32 = load<f32>(acc, 8) + load<f32>(acc, 24);
  const r3: f32 = load<f32>(acc, 12) + load<f32>(acc, 28);
  return (r0 + r2) + (r1 + r3);
}

/** acc[k] += other[k] in f32 (`_mm256_add_ps(accum1, accum2)`), into acc */
@inline export function acc_add(acc: usize, other: usize): void {
  for (let k = 0; k < LANES; k++) {
    const a = acc + (<usize>k << 2);
    store<f32>(a, load<f32>(a) + load<f32>(other + (<usize>k << 2)));
  }
}

// ------------------------------------------------------------------------------------------------
// the x86 lane scheme, SIMD form

/**
 * The four x86 lanes of 16 int8 weights `w` times 16 int8 activations `x`:
 * [Σ bytes 0..3, Σ 4..7, Σ 8..11, Σ 12..15] of w·x, exact (i16 products, i32 sums).
 */
@inline export function quads(w: v128, x: v128): v128 {
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), i16x8.extend_low_i8x16_s(x));    // pairs of bytes 0..7
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), i16x8.extend_high_i8x16_s(x));  // pairs of bytes 8..15
  return i32x4.add(i32x4.shuffle(lo, hi, 0, 2, 4, 6), i32x4.shuffle(lo, hi, 1, 3, 5, 7));
}

/**
 * Non-zero lanes where one of the four f64 sums of a, b may have been rounded onto an f32 tie: it is
 * a tie (normal range: low 29 bits 1 << 28, i.e. its low 32-bit word shifted left by 3 is
 * 0x80000000) and |s| ≥ 32, where a multiple of 2^-48 may not be exact in f64 (see above).
 */
@inline export function f32_ties4(a: v128, b: v128): v128 {
  const tie = i32x4.eq(i32x4.shl(i32x4.shuffle(a, b, 0, 2, 4, 6), 3), i32x4.splat(0x80000000));
  const EXACT_BELOW = f64x2.splat(32);
  const big = i32x4.shuffle(f64x2.ge(f64x2.abs(a), EXACT_BELOW), f64x2.ge(f64x2.abs(b), EXACT_BELOW), 0, 2, 4, 6);
  return v128.and(tie, big);
}

/**
 * True when one of the four f64 sums in a, b is an f32 tie (normal range) of any magnitude: a
 * cheaper test than f32_ties4 that also sends the harmless ties below 32 down the exact path.
 */
@inline export function any_f32_tie(a: v128, b: v128): bool {
  const m = i64x2.splat(0x1fffffff), tie = i64x2.splat(0x10000000);
  return v128.any_true(v128.or(i64x2.eq(v128.and(a, m), tie), i64x2.eq(v128.and(b, m), tie)));
}

/** d·f32(lanes) + acc for two lanes in f64 (exact product, one f64 rounding): `acc` f64x2 holding
 *  f32 values, `dd` = f64x2.splat(d), `lanes` two i32 in the low half (|lane| ≤ 2^24) */
@inline export function fma_sum(acc: v128, dd: v128, lanes: v128): v128 {
  return f64x2.add(f64x2.mul(dd, f64x2.convert_low_i32x4_s(lanes)), acc);
}

/** acc = fma(d, f32(lanes), acc) for two lanes by fma32, lane by lane (the rare path; arguments as
 *  fma_sum, whose `dd` may also hold a different d per lane) */
export function fma_pair_exact(acc: v128, dd: v128, lanes: v128): v128 {
  const r0 = fma32(<f32>f64x2.extract_lane(dd, 0), <f32>i32x4.extract_lane(lanes, 0), <f32>f64x2.extract_lane(acc, 0));
  const r1 = fma32(<f32>f64x2.extract_lane(dd, 1), <f32>i32x4.extract_lane(lanes, 1), <f32>f64x2.extract_lane(acc, 1));
  return f64x2.replace_lane(f64x2.splat(<f64>r0), 1, <f64>r1);
}

/** s rounded to f32, kept in f64x2 */
@inline export function round_pair(s: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(s));
}

/** the scalar form: d·L + acc in f64 (exact product, one f64 rounding) */
@inline export function fma_sum1(d: f32, l: i32, acc: f32): f64 {
  return <f64>d * <f64>l + <f64>acc;
}
/** fma32 out of line, for the rare tie path of the SIMD kernels (keeps it out of their loops) */
export function fma32_slow(a: f32, b: f32, c: f32): f32 {
  return fma32(a, b, c);
}

/** true when the f64 s is exactly an f32 tie (normal range) */
@inline export function is_f32_tie(s: f64): bool {
  return (reinterpret<u64>(s) & 0x1fffffff) == 0x10000000;
}

/** the upper two i32 lanes of v in its lower half (for fma_sum) */
@inline export function upper_pair(v: v128): v128 {
  return i32x4.shuffle(v, v, 2, 3, 2, 3);
}

/** hsum_float_8 of eight f32 accumulators held as four f64x2 (a01 = acc[0..1], …, a67 = acc[6..7]) */
@inline export function hsum8_f64x2(a01: v128, a23: v128, a45: v128, a67: v128): f32 {
  const lo = i32x4.shuffle(f32x4.demote_f64x2_zero(a01), f32x4.demote_f64x2_zero(a23), 0, 1, 4, 5);
  const hi = i32x4.shuffle(f32x4.demote_f64x2_zero(a45), f32x4.demote_f64x2_zero(a67), 0, 1, 4, 5);
  return hsum8_f32x4(lo, hi);
}

/** hsum_float_8 of lo = acc[0..3], hi = acc[4..7]: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) */
@inline export function hsum8_f32x4(lo: v128, hi: v128): f32 {
  const r = f32x4.add(lo, hi);
  const s = f32x4.add(r, i32x4.shuffle(r, r, 2, 3, 2, 3));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** the f16 scales d_w of four rows' blocks at offset o (each block's first two bytes) in f32 */
@inline export function wscales4(w0: usize, w1: usize, w2: usize, w3: usize, o: usize): v128 {
  let dw = i16x8.splat(load<u16>(w0 + o));
  dw = v128.load16_lane(w1 + o, dw, 1);
  dw = v128.load16_lane(w2 + o, dw, 2);
  dw = v128.load16_lane(w3 + o, dw, 3);
  return halves4_to_f32x4(dw);
}

/** d_w·d_x (exact in f32: two f16 significands) of four rows' blocks, whose f32 scales dw are
 *  wscales4's, against an activation block whose f32 scale is at dx (its q8_0x extras) */
@inline export function scales4x(dw: v128, dx: usize): v128 {
  return f32x4.mul(dw, v128.load32_splat(dx));
}

/**
 * acc = fma(d, f32(lanes), acc) lane by lane — acc and d f32x4, lanes i32x4 (|lane| ≤ 2^24) — in f64
 * pairs as fma_sum + round_pair, through fma_pair_exact where a sum is an f32 tie (see above)
 */
@inline export function fma_f32x4_lanes(acc: v128, d: v128, lanes: v128): v128 {
  const a01 = f64x2.promote_low_f32x4(acc), a23 = f64x2.promote_low_f32x4(upper_pair(acc));
  const d01 = f64x2.promote_low_f32x4(d), d23 = f64x2.promote_low_f32x4(upper_pair(d));
  const s01 = fma_sum(a01, d01, lanes), s23 = fma_sum(a23, d23, upper_pair(lanes));
  if (any_f32_tie(s01, s23)) {
    return demote_f64x2x2(fma_pair_exact(a01, d01, lanes), fma_pair_exact(a23, d23, upper_pair(lanes)));
  }
  return demote_f64x2x2(s01, s23);
}
