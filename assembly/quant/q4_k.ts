// Q4_K — super-blocks of 256 weights in 8 sub-blocks of 32, 144 bytes, 4.5 bits per weight
// (ggml `block_q4_K`):
//
//   byte 0..1     d          f16 super-block scale of the sub-block scales
//   byte 2..3     dmin       f16 super-block scale of the sub-block mins
//   byte 4..15    scales[12] 8 scales sc[j] and 8 mins m[j], 6 bits each (util/kscales.ts)
//   byte 16..143  qs[128]    4-bit quants: 32-byte chunk c holds sub-block 2c in its low nibbles
//                            and sub-block 2c+1 in its high nibbles
//
//   value[32j + l] = (d·sc[j]) · q - (dmin·m[j])      q = nibble l of sub-block j, 0..15
//
// Each factor in parentheses is one f32 product, as in ggml's dequantize_row_q4_K.
//
// The dot product with Q8_K activations (q8_k.ts) reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_q4_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts). Per super-block, with D = d8·f16(d) and M = −(d8·f16(dmin)) in f32:
//   L[u]    = Σ_j sc[j] · Σ q·q8 over values 32j + 4u … 32j + 4u + 3     (exact i32, u = 0..7)
//   prod[k] = m[2k]·(bsums[4k] + bsums[4k+1]) + m[2k+1]·(bsums[4k+2] + bsums[4k+3])   (exact, k < 4)
//   acc_m[k] = fma(M, f32(prod[k]), acc_m[k])        acc[u] = fma(D, f32(L[u]), acc[u])
// and at the end  hsum_float_8(acc) + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3])).
// The generic twin does this in scalars, the SIMD twins (one row, four rows) with i32x4 / f64x2 lanes
// (util/x86.ts; the integer lanes as described at vec_dot4_q4_K_q8_K).
import { fp16_to_fp32, fp16x4_to_f32x4 } from '../util/fp16';
import {
  get_scale_min_k4, k4_scale, k4_min, scales_mins_k4, mins_lanes_k4_generic, mins_lanes_k4,
} from '../util/kscales';
import {
  X86_L, X86_M, X86_ACC, X86_ACC_M, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8, x86_hsum4,
  x86_hsum8_f32x4, x86_hsum4_f32x4, x86_fma_sum_lo, x86_fma_sum_hi, x86_fma_ties, x86_fma_unsure, x86_fma_f32x4_slow,
  x86_fma_relaxed,
} from '../util/x86';
import { NIBBLE_MASK } from '../util/simd';
import { demote_f64x2x2 } from '../util/fma';
import { QK_K } from '../layout';
import { Q8_K_BYTES, Q8_K_QS, Q8_K_BSUMS } from './q8_k';

export const Q4_K_BYTES: i32 = 144;
const D = 0;
const DMIN = 2;
const SCALES = 4;
const QS = 16;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q4_K_BYTES;
}

export function dequantize_row_q4_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const xb = block(x, i);
    const d = fp16_to_fp32(load<u16>(xb + D));
    const dmin = fp16_to_fp32(load<u16>(xb + DMIN));
    const yb = y + (<usize>(i * QK_K) << 2);
    for (let c = 0; c < 4; c++) {
      const q = xb + QS + 32 * c;
      const sm1 = get_scale_min_k4(2 * c, xb + SCALES);
      const sm2 = get_scale_min_k4(2 * c + 1, xb + SCALES);
      const d1 = d * <f32>k4_scale(sm1), m1 = dmin * <f32>k4_min(sm1);
      const d2 = d * <f32>k4_scale(sm2), m2 = dmin * <f32>k4_min(sm2);
      const out = yb + (<usize>(64 * c) << 2);
      for (let l = 0; l < 32; l++) {
        const b = <u32>load<u8>(q + l);
        store<f32>(out + (<usize>l << 2), d1 * <f32>(b & 0xf) - m1);
        store<f32>(out + (<usize>(32 + l) << 2), d2 * <f32>(b >> 4) - m2);
      }
    }
  }
}

export function vec_dot_q4_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  return dot_q4_K_q8_K_generic(n, w, Q4_K_BYTES, x);
}

/** vec_dot_q4_K_q8_K_generic of a row whose super-blocks lie `stride` bytes apart (4·Q4_K_BYTES in the
 *  four-row layout, ops/rows4.ts) */
@inline function dot_q4_K_q8_K_generic(n: i32, w: usize, stride: i32, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  x86_clear(X86_ACC_M);
  for (let i = 0; i < nb; i++) {
    const wb = w + <usize>i * stride, xb = x + <usize>i * Q8_K_BYTES;
    const d8 = load<f32>(xb);
    const d: f32 = d8 * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(d8 * fp16_to_fp32(load<u16>(wb + DMIN)));
    mins_lanes_k4_generic(wb + SCALES, xb + Q8_K_BSUMS, X86_M);
    x86_fma(X86_ACC_M, dmin, X86_M, 4);
    // quants into aux8, in value order
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const b = load<u8>(wb + QS + 32 * c + l);
        store<i8>(X86_AUX8 + 64 * c + l, b & 0xf);
        store<i8>(X86_AUX8 + 64 * c + 32 + l, b >> 4);
      }
    }
    x86_clear(X86_L);
    for (let j = 0; j < 8; j++) {
      x86_lanes_add(k4_scale(get_scale_min_k4(j, wb + SCALES)), X86_AUX8 + 32 * j, xb + Q8_K_QS + 32 * j, 32 * j, 32);
    }
    x86_fma(X86_ACC, d, X86_L, 8);
  }
  return x86_hsum8(X86_ACC) + x86_hsum4(X86_ACC_M);
}

/** The SIMD twin: the integer lanes as in the four-row kernel below (q4k_quads), the FMAs of
 *  x86_fma_f32x4 with one tie test for the super-block (util/x86.ts) */
export function vec_dot_q4_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  const m = v128.load(Q4_MASK);
  let accLo = zero, accHi = zero, accM = zero;
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const sm = scales_mins_k4(wb + SCALES);
    let s = i16x8.extend_low_i8x16_u(sm); // i32 lane 0: the scale pair (sc[2c], sc[2c + 1]) of chunk c
    // L[0..3] (a) and L[4..7] (b): bytes 0..15 and 16..31 of each 32-byte quant chunk
    let a = zero, b = zero;
    for (let c = 0; c < 4; c++) {
      const q4 = wb + QS + 32 * c, q8 = xb + Q8_K_QS + 64 * c;
      const sc = i32x4.shuffle(s, s, 0, 0, 0, 0);
      const x0 = v128.load(q8), y0 = v128.load(q8, 32), x1 = v128.load(q8, 16), y1 = v128.load(q8, 48);
      a = i32x4.add(a, q4k_quads(v128.load(q4), even_i16(x0), odd_i16(x0), even_i16(y0), odd_i16(y0), sc, m));
      b = i32x4.add(b, q4k_quads(v128.load(q4, 16), even_i16(x1), odd_i16(x1), even_i16(y1), odd_i16(y1), sc, m));
      s = i32x4.shuffle(s, s, 1, 2, 3, 0);
    }
    const d8 = load<f32>(xb);
    const d: f32 = d8 * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(d8 * fp16_to_fp32(load<u16>(wb + DMIN)));
    const dd = f64x2.splat(<f64>d), dm = f64x2.splat(<f64>dmin);
    const lanesM = mins_lanes_k4(sm, xb + Q8_K_BSUMS);
    const p0 = x86_fma_sum_lo(accLo, dd, a), q0 = x86_fma_sum_hi(accLo, dd, a);
    const p1 = x86_fma_sum_lo(accHi, dd, b), q1 = x86_fma_sum_hi(accHi, dd, b);
    const p2 = x86_fma_sum_lo(accM, dm, lanesM), q2 = x86_fma_sum_hi(accM, dm, lanesM);
    if (x86_fma_unsure(i32x4.min_s(i32x4.min_s(x86_fma_ties(p0, q0), x86_fma_ties(p1, q1)), x86_fma_ties(p2, q2)))) {
      accLo = x86_fma_f32x4_slow(accLo, dd, a);
      accHi = x86_fma_f32x4_slow(accHi, dd, b);
      accM = x86_fma_f32x4_slow(accM, dm, lanesM);
    } else {
      accLo = demote_f64x2x2(p0, q0);
      accHi = demote_f64x2x2(p1, q1);
      accM = demote_f64x2x2(p2, q2);
    }
  }
  return x86_hsum8_f32x4(accLo, accHi) + x86_hsum4_f32x4(accM);
}

// ---- four rows at once ----------------------------------------------------------------------------
// vec_dot4_q4_K_q8_K: a group of four rows (the four-row layout of ops/rows4.ts, read front to back)
// side by side over the same activation row (matmul.ts takes rows four at a time through it). Each row's result is vec_dot_q4_K_q8_K's, bit for bit: the
// same exact integer lanes L[u] and mins lanes prod[k], the same FMAs and horizontal sums.
//
// Integer lanes without widening. A 16-byte half (bytes 16h … 16h + 15) of quant chunk c, read as
// i16x8, holds in lane k the bytes 2k (bits 0..7) and 2k + 1 (bits 8..15), whose nibbles are the
// quants of sub-block 2c (low) and 2c + 1 (high). Masks and shifts put each nibble in an i16 lane of
// its own and the activations' even and odd bytes become i16 lanes (shifts shared by the four rows):
// then `i32x4.dot_i16x8_s` of a nibble vector with its activation vector adds the products of bytes
// 4j and 4j + 2 (or 4j + 1 and 4j + 3) into lane j, and even + odd is the sum of the four products
// of x86 lane 4h + j, for the low sub-block (Qlo) and the high one (Qhi), |Q| ≤ 4·15·128 < 2^15. The
// two go into the halves of each i32 lane, and one `i32x4.dot_i16x8_s` with the pair of sub-block
// scales (an i32 lane of the scales as i16) gives sc[2c]·Qlo + sc[2c+1]·Qhi, summed over the chunks
// into L[4h .. 4h + 3] (|L| ≤ 8·63·7680 < 2^22).

/** the even bytes of v sign-extended into i16 lanes */
@inline function even_i16(v: v128): v128 {
  return i16x8.shr_s(i16x8.shl(v, 8), 8);
}

/** the odd bytes of v sign-extended into i16 lanes */
@inline function odd_i16(v: v128): v128 {
  return i16x8.shr_s(v, 8);
}

/**
 * sc[2c]·Qlo + sc[2c+1]·Qhi per x86 lane of a 16-byte half `qs` of quant chunk c: Qlo / Qhi the sums
 * of its low / high nibbles times the activations x / y of the low / high sub-block (even_i16: xe, ye;
 * odd_i16: xo, yo); `sc` holds (sc[2c], sc[2c+1]) as i16 in every i32 lane
 */
@inline function q4k_quads(qs: v128, xe: v128, xo: v128, ye: v128, yo: v128, sc: v128, m: v128): v128 {
  const lo = i32x4.add(
    i32x4.dot_i16x8_s(v128.and(qs, m), xe), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(qs, 8), m), xo));
  const hi = i32x4.add(
    i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(qs, 4), m), ye), i32x4.dot_i16x8_s(i16x8.shr_u(qs, 12), yo));
  // [Qlo, Qhi] as i16 halves of each i32 lane (a blend of 16-bit lanes)
  return i32x4.dot_i16x8_s(i8x16.shuffle(lo, i32x4.shl(hi, 16), 0, 1, 18, 19, 4, 5, 22, 23, 8, 9, 26, 27, 12, 13, 30, 31), sc);
}

/** 0x000f in every i16 lane */
const Q4_MASK = memory.data<u8>([15, 0, 15, 0, 15, 0, 15, 0, 15, 0, 15, 0, 15, 0, 15, 0], 16);

/**
 * acc + q4k_quads(…) for one row of the four-row kernel, also stored to the caller's output (which
 * the kernel writes at its end) as an ordering barrier: it keeps the optimizer from merging a row's
 * chunk sums into one expression tree (which would run the rows one after the other, with every
 * chunk's activation vectors live at once) and the next row's loads after it (rather than all of a
 * chunk's loads hoisted to its top).
 */
@inline function q4k_acc(
  relaxed: bool, acc: v128, qs: v128, xv: v128, yv: v128, xe: v128, xo: v128, ye: v128, yo: v128, sc: v128, m: v128, out: usize,
): v128 {
  const a = i32x4.add(acc, relaxed ? q4k_quads_relaxed(qs, xv, yv, sc, m) : q4k_quads(qs, xe, xo, ye, yo, sc, m));
  v128.store(out, a);
  return a;
}

/**
 * q4k_quads by the i8 dot product (the relaxed-SIMD module): the nibbles (0 … 15) are 7-bit, so
 * i16x8.relaxed_dot_i8x16_i7x16_s of the activation bytes xv (low sub-block) / yv (high) with them
 * is exact on every implementation (see q4_0.ts), two products per i16 lane (|·| ≤ 2·15·128); the
 * dot of those with the sub-block's scale in every i16 lane adds each x86 lane's two pairs, times
 * the scale: sc[2c]·Qlo + sc[2c+1]·Qhi as in q4k_quads, the pair `sc` split into its two i16 halves.
 * `m8`: 0x0f in every byte.
 */
@inline function q4k_quads_relaxed(qs: v128, xv: v128, yv: v128, sc: v128, m8: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const lo = i16x8.relaxed_dot_i8x16_i7x16_s(xv, v128.and(qs, m8));
    const hi = i16x8.relaxed_dot_i8x16_i7x16_s(yv, v128.and(i16x8.shr_u(qs, 4), m8));
    const scLo = i8x16.shuffle(sc, sc, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
    const scHi = i8x16.shuffle(sc, sc, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    return i32x4.add(i32x4.dot_i16x8_s(lo, scLo), i32x4.dot_i16x8_s(hi, scHi));
  }
  return unreachable();
}

/**
 * mins_lanes_k4 with the bsums rearranged once for four rows: bsE / bsO hold in i32 lane k the
 * int16 pairs (bsums[4k], bsums[4k+1]) / (bsums[4k+2], bsums[4k+3]) (exact for any bsums)
 */
@inline function mins_lanes_k4x(sm: v128, bsE: v128, bsO: v128): v128 {
  const mE = i8x16.swizzle(sm, i8x16(8, -1, 8, -1, 10, -1, 10, -1, 12, -1, 12, -1, 14, -1, 14, -1));
  const mO = i8x16.swizzle(sm, i8x16(9, -1, 9, -1, 11, -1, 11, -1, 13, -1, 13, -1, 15, -1, 15, -1));
  return i32x4.add(i32x4.dot_i16x8_s(bsE, mE), i32x4.dot_i16x8_s(bsO, mO));
}

/** out[0..3] = vec_dot_q4_K_q8_K of the four rows of the four-row group w (ops/rows4.ts) with x */
export function vec_dot4_q4_K_q8_K(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q4_K(false, n, w, x, out);
}

/**
 * vec_dot4_q4_K_q8_K in the relaxed-SIMD module: the same integer lanes, the FMAs one
 * f32x4.relaxed_madd per row and step (fused where this module is chosen) instead of the f64 emulation.
 */
export function vec_dot4_q4_K_q8_K_relaxed(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q4_K(true, n, w, x, out);
}

@inline function dot4_q4_K(relaxed: bool, n: i32, w: usize, x: usize, out: usize): void {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  // loaded once (V8 would build the constant anew in every chunk): 0x000f per i16, or 0x0f per byte
  const m = v128.load(relaxed ? NIBBLE_MASK : Q4_MASK);
  // rows 0..3: acc[0..3] in l*, acc[4..7] in u*, acc_m in m*
  let l0 = zero, l1 = zero, l2 = zero, l3 = zero;
  let u0 = zero, u1 = zero, u2 = zero, u3 = zero;
  let m0 = zero, m1 = zero, m2 = zero, m3 = zero;
  for (let i = 0; i < nb; i++) {
    const o = <usize>i * Q4_K_BYTES, xb = x + <usize>i * Q8_K_BYTES;
    // the group's super-block i: rows 0 … 3 side by side (ops/rows4.ts)
    const b0 = w + 4 * o, b1 = b0 + Q4_K_BYTES, b2 = b1 + Q4_K_BYTES, b3 = b2 + Q4_K_BYTES;
    const sm0 = scales_mins_k4(b0 + SCALES), sm1 = scales_mins_k4(b1 + SCALES);
    const sm2 = scales_mins_k4(b2 + SCALES), sm3 = scales_mins_k4(b3 + SCALES);
    // D = d8·d and M = −(d8·dmin) of the four rows, as the single-row kernel forms them
    let dm = v128.load32_zero(b0);
    dm = v128.load32_lane(b1, dm, 1);
    dm = v128.load32_lane(b2, dm, 2);
    dm = v128.load32_lane(b3, dm, 3);
    const d8 = f32x4.splat(load<f32>(xb));
    const dd = f32x4.mul(d8, fp16x4_to_f32x4(v128.and(dm, i32x4.splat(0xffff))));
    const dn = f32x4.neg(f32x4.mul(d8, fp16x4_to_f32x4(i32x4.shr_u(dm, 16))));
    const d0 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 0, 0, 0, 0));
    const d1 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 1, 1, 1, 1));
    const d2 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 2, 2, 2, 2));
    const d3 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 3, 3, 3, 3));
    // sc[0..7] as i16: i32 lane c holds the pair (sc[2c], sc[2c + 1]) of chunk c
    const s0 = i16x8.extend_low_i8x16_u(sm0), s1 = i16x8.extend_low_i8x16_u(sm1);
    const s2 = i16x8.extend_low_i8x16_u(sm2), s3 = i16x8.extend_low_i8x16_u(sm3);
    { // x86 lanes 0 … 3: bytes 0 … 15 of every 32-byte quant chunk
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      { // chunk 0: sub-blocks 0 (low nibbles) and 1 (high nibbles)
        const xv = v128.load(xb, 4), yv = v128.load(xb, 36);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 16), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 0, 0, 0, 0), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 16), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 0, 0, 0, 0), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 16), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 0, 0, 0, 0), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 16), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 0, 0, 0, 0), m, out);
      }
      { // chunk 1: sub-blocks 2 (low nibbles) and 3 (high nibbles)
        const xv = v128.load(xb, 68), yv = v128.load(xb, 100);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 48), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 1, 1, 1, 1), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 48), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 1, 1, 1, 1), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 48), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 1, 1, 1, 1), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 48), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 1, 1, 1, 1), m, out);
      }
      { // chunk 2: sub-blocks 4 (low nibbles) and 5 (high nibbles)
        const xv = v128.load(xb, 132), yv = v128.load(xb, 164);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 80), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 2, 2, 2, 2), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 80), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 2, 2, 2, 2), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 80), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 2, 2, 2, 2), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 80), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 2, 2, 2, 2), m, out);
      }
      { // chunk 3: sub-blocks 6 (low nibbles) and 7 (high nibbles)
        const xv = v128.load(xb, 196), yv = v128.load(xb, 228);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 112), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 3, 3, 3, 3), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 112), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 3, 3, 3, 3), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 112), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 3, 3, 3, 3), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 112), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 3, 3, 3, 3), m, out);
      }
      // acc[0 .. 3] = fma(D, f32(L), acc) per row (x86_fma_f32x4_fast, one tie test for the four rows)
      if (relaxed) {
        l0 = x86_fma_relaxed(l0, i32x4.shuffle(dd, dd, 0, 0, 0, 0), a0); l1 = x86_fma_relaxed(l1, i32x4.shuffle(dd, dd, 1, 1, 1, 1), a1);
        l2 = x86_fma_relaxed(l2, i32x4.shuffle(dd, dd, 2, 2, 2, 2), a2); l3 = x86_fma_relaxed(l3, i32x4.shuffle(dd, dd, 3, 3, 3, 3), a3);
      } else {
      const p0 = x86_fma_sum_lo(l0, d0, a0), q0 = x86_fma_sum_hi(l0, d0, a0);
      const p1 = x86_fma_sum_lo(l1, d1, a1), q1 = x86_fma_sum_hi(l1, d1, a1);
      const p2 = x86_fma_sum_lo(l2, d2, a2), q2 = x86_fma_sum_hi(l2, d2, a2);
      const p3 = x86_fma_sum_lo(l3, d3, a3), q3 = x86_fma_sum_hi(l3, d3, a3);
      const r0 = demote_f64x2x2(p0, q0), r1 = demote_f64x2x2(p1, q1), r2 = demote_f64x2x2(p2, q2), r3 = demote_f64x2x2(p3, q3);
      const ties = i32x4.min_s(i32x4.min_s(x86_fma_ties(p0, q0), x86_fma_ties(p1, q1)), i32x4.min_s(x86_fma_ties(p2, q2), x86_fma_ties(p3, q3)));
      if (x86_fma_unsure(ties)) {
        l0 = x86_fma_f32x4_slow(l0, d0, a0); l1 = x86_fma_f32x4_slow(l1, d1, a1);
        l2 = x86_fma_f32x4_slow(l2, d2, a2); l3 = x86_fma_f32x4_slow(l3, d3, a3);
      } else {
        l0 = r0; l1 = r1; l2 = r2; l3 = r3;
      }
      }
    }
    { // x86 lanes 4 … 7: bytes 16 … 31 of every 32-byte quant chunk
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      { // chunk 0: sub-blocks 0 (low nibbles) and 1 (high nibbles)
        const xv = v128.load(xb, 20), yv = v128.load(xb, 52);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 32), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 0, 0, 0, 0), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 32), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 0, 0, 0, 0), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 32), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 0, 0, 0, 0), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 32), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 0, 0, 0, 0), m, out);
      }
      { // chunk 1: sub-blocks 2 (low nibbles) and 3 (high nibbles)
        const xv = v128.load(xb, 84), yv = v128.load(xb, 116);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 64), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 1, 1, 1, 1), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 64), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 1, 1, 1, 1), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 64), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 1, 1, 1, 1), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 64), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 1, 1, 1, 1), m, out);
      }
      { // chunk 2: sub-blocks 4 (low nibbles) and 5 (high nibbles)
        const xv = v128.load(xb, 148), yv = v128.load(xb, 180);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 96), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 2, 2, 2, 2), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 96), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 2, 2, 2, 2), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 96), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 2, 2, 2, 2), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 96), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 2, 2, 2, 2), m, out);
      }
      { // chunk 3: sub-blocks 6 (low nibbles) and 7 (high nibbles)
        const xv = v128.load(xb, 212), yv = v128.load(xb, 244);
        const xe = even_i16(xv), xo = odd_i16(xv), ye = even_i16(yv), yo = odd_i16(yv);
        a0 = q4k_acc(relaxed, a0, v128.load(b0, 128), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s0, s0, 3, 3, 3, 3), m, out);
        a1 = q4k_acc(relaxed, a1, v128.load(b1, 128), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s1, s1, 3, 3, 3, 3), m, out);
        a2 = q4k_acc(relaxed, a2, v128.load(b2, 128), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s2, s2, 3, 3, 3, 3), m, out);
        a3 = q4k_acc(relaxed, a3, v128.load(b3, 128), xv, yv, xe, xo, ye, yo, i32x4.shuffle(s3, s3, 3, 3, 3, 3), m, out);
      }
      // acc[4 .. 7] = fma(D, f32(L), acc) per row (x86_fma_f32x4_fast, one tie test for the four rows)
      if (relaxed) {
        u0 = x86_fma_relaxed(u0, i32x4.shuffle(dd, dd, 0, 0, 0, 0), a0); u1 = x86_fma_relaxed(u1, i32x4.shuffle(dd, dd, 1, 1, 1, 1), a1);
        u2 = x86_fma_relaxed(u2, i32x4.shuffle(dd, dd, 2, 2, 2, 2), a2); u3 = x86_fma_relaxed(u3, i32x4.shuffle(dd, dd, 3, 3, 3, 3), a3);
      } else {
      const p0 = x86_fma_sum_lo(u0, d0, a0), q0 = x86_fma_sum_hi(u0, d0, a0);
      const p1 = x86_fma_sum_lo(u1, d1, a1), q1 = x86_fma_sum_hi(u1, d1, a1);
      const p2 = x86_fma_sum_lo(u2, d2, a2), q2 = x86_fma_sum_hi(u2, d2, a2);
      const p3 = x86_fma_sum_lo(u3, d3, a3), q3 = x86_fma_sum_hi(u3, d3, a3);
      const r0 = demote_f64x2x2(p0, q0), r1 = demote_f64x2x2(p1, q1), r2 = demote_f64x2x2(p2, q2), r3 = demote_f64x2x2(p3, q3);
      const ties = i32x4.min_s(i32x4.min_s(x86_fma_ties(p0, q0), x86_fma_ties(p1, q1)), i32x4.min_s(x86_fma_ties(p2, q2), x86_fma_ties(p3, q3)));
      if (x86_fma_unsure(ties)) {
        u0 = x86_fma_f32x4_slow(u0, d0, a0); u1 = x86_fma_f32x4_slow(u1, d1, a1);
        u2 = x86_fma_f32x4_slow(u2, d2, a2); u3 = x86_fma_f32x4_slow(u3, d3, a3);
      } else {
        u0 = r0; u1 = r1; u2 = r2; u3 = r3;
      }
      }
    }
    // the mins: acc_m = fma(M, f32(prod), acc_m)
    const bs0 = v128.load(xb + Q8_K_BSUMS), bs1 = v128.load(xb + Q8_K_BSUMS, 16);
    const bsE = i32x4.shuffle(bs0, bs1, 0, 2, 4, 6), bsO = i32x4.shuffle(bs0, bs1, 1, 3, 5, 7);
    if (relaxed) {
      m0 = x86_fma_relaxed(m0, i32x4.shuffle(dn, dn, 0, 0, 0, 0), mins_lanes_k4x(sm0, bsE, bsO));
      m1 = x86_fma_relaxed(m1, i32x4.shuffle(dn, dn, 1, 1, 1, 1), mins_lanes_k4x(sm1, bsE, bsO));
      m2 = x86_fma_relaxed(m2, i32x4.shuffle(dn, dn, 2, 2, 2, 2), mins_lanes_k4x(sm2, bsE, bsO));
      m3 = x86_fma_relaxed(m3, i32x4.shuffle(dn, dn, 3, 3, 3, 3), mins_lanes_k4x(sm3, bsE, bsO));
      continue;
    }
    const n0 = f64x2.promote_low_f32x4(i32x4.shuffle(dn, dn, 0, 0, 0, 0)), k0 = mins_lanes_k4x(sm0, bsE, bsO);
    const n1 = f64x2.promote_low_f32x4(i32x4.shuffle(dn, dn, 1, 1, 1, 1)), k1 = mins_lanes_k4x(sm1, bsE, bsO);
    const n2 = f64x2.promote_low_f32x4(i32x4.shuffle(dn, dn, 2, 2, 2, 2)), k2 = mins_lanes_k4x(sm2, bsE, bsO);
    const n3 = f64x2.promote_low_f32x4(i32x4.shuffle(dn, dn, 3, 3, 3, 3)), k3 = mins_lanes_k4x(sm3, bsE, bsO);
    const l0 = x86_fma_sum_lo(m0, n0, k0), u0 = x86_fma_sum_hi(m0, n0, k0), r0 = demote_f64x2x2(l0, u0);
    const l1 = x86_fma_sum_lo(m1, n1, k1), u1 = x86_fma_sum_hi(m1, n1, k1), r1 = demote_f64x2x2(l1, u1);
    const l2 = x86_fma_sum_lo(m2, n2, k2), u2 = x86_fma_sum_hi(m2, n2, k2), r2 = demote_f64x2x2(l2, u2);
    const l3 = x86_fma_sum_lo(m3, n3, k3), u3 = x86_fma_sum_hi(m3, n3, k3), r3 = demote_f64x2x2(l3, u3);
    const ties = i32x4.min_s(i32x4.min_s(x86_fma_ties(l0, u0), x86_fma_ties(l1, u1)), i32x4.min_s(x86_fma_ties(l2, u2), x86_fma_ties(l3, u3)));
    if (x86_fma_unsure(ties)) {
      m0 = x86_fma_f32x4_slow(m0, n0, k0); m1 = x86_fma_f32x4_slow(m1, n1, k1);
      m2 = x86_fma_f32x4_slow(m2, n2, k2); m3 = x86_fma_f32x4_slow(m3, n3, k3);
    } else {
      m0 = r0; m1 = r1; m2 = r2; m3 = r3;
    }
  }
  store<f32>(out, x86_hsum8_f32x4(l0, u0) + x86_hsum4_f32x4(m0));
  store<f32>(out, x86_hsum8_f32x4(l1, u1) + x86_hsum4_f32x4(m1), 4);
  store<f32>(out, x86_hsum8_f32x4(l2, u2) + x86_hsum4_f32x4(m2), 8);
  store<f32>(out, x86_hsum8_f32x4(l3, u3) + x86_hsum4_f32x4(m3), 12);
}

/** The scalar twin of vec_dot4_q4_K_q8_K: the single-row product of each of the group's rows */
export function vec_dot4_q4_K_q8_K_generic(n: i32, w: usize, x: usize, out: usize): void {
  for (let r = 0; r < 4; r++) {
    store<f32>(out + (<usize>r << 2), dot_q4_K_q8_K_generic(n, w + <usize>r * Q4_K_BYTES, 4 * Q4_K_BYTES, x));
  }
}
