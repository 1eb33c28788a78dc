// Q6_K — super-blocks of 256 weights in 16 sub-blocks of 16, 210 bytes, 6.5625 bits per weight
// (ggml `block_q6_K`):
//
//   byte 0..127    ql[128]     low 4 bits of the quants
//   byte 128..191  qh[64]      high 2 bits of the quants
//   byte 192..207  scales[16]  int8 sub-block scales sc[j]
//   byte 208..209  d           f16 super-block scale
//
//   value[16j + l] = (d·sc[j]) · q                   q = 6-bit quant - 32, -32..31
//
// Quant order: each half h (values 128h .. 128h+127) uses ql[64h .. 64h+63] and qh[32h .. 32h+31];
// for l = 0..31 the 6-bit quants of values 128h + l + {0, 32, 64, 96} are
//   value +0:  ql[64h + l] & 0xf       | ((qh[32h + l] >> 0) & 3) << 4
//   value +32: ql[64h + 32 + l] & 0xf  | ((qh[32h + l] >> 2) & 3) << 4
//   value +64: ql[64h + l] >> 4        | ((qh[32h + l] >> 4) & 3) << 4
//   value +96: ql[64h + 32 + l] >> 4   | ((qh[32h + l] >> 6) & 3) << 4
// (d·sc[j]) is one f32 product, then multiplied by q, as in ggml's dequantize_row_q6_K.
//
// The dot product with Q8_K activations reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_q6_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts; its `maddubs(q, q8) − maddubs(32, q8)` is (q − 32)·q8, exact). Per
// super-block, with D = d8·f16(d) in f32:
//   L[u]  = Σ_j sc[j] · Σ q·q8 over the values 32c + 4u … 32c + 4u + 3 of each 32-value chunk c
//           (value e belongs to sub-block j = e / 16)                     (exact i32, u = 0..7)
//   acc[u] = fma(D, f32(L[u]), acc[u])
// and at the end  hsum_float_8(acc). The generic twin does this in scalars, the SIMD twins (one row,
// four rows) with i32x4 / f64x2 lanes (util/x86.ts; the integer lanes as described at
// vec_dot4_q6_K_q8_K).
import { fp16_to_fp32, fp16x4_to_f32x4 } from '../util/fp16';
import {
  X86_L, X86_ACC, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8,
  x86_hsum8_f32x4, x86_fma_sum_lo, x86_fma_sum_hi, x86_fma_ties, x86_fma_unsure, x86_fma_f32x4_slow, x86_fma_relaxed,
  
} from '../util/x86';
import { demote_f64x2x2 } from '../util/fma';
import { QK_K } from '../layout';
import { Q8_K_BYTES, Q8_K_QS } from './q8_k';

export const Q6_K_BYTES: i32 = 210;
const QL = 0;
const QH = 128;
const SCALES = 192;
const D = 208;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q6_K_BYTES;
}

/** the quant of value e (0..255) of a super-block, -32..31 */
@inline function quant(xb: usize, e: i32): i32 {
  const h = e >> 7, t = (e >> 5) & 3, l = e & 31;
  const b = <u32>load<u8>(xb + QL + 64 * h + 32 * (t & 1) + l);
  const lo4 = t & 2 ? b >> 4 : b & 0xf;
  const hi2 = (<u32>load<u8>(xb + QH + 32 * h + l) >> (2 * t)) & 3;
  return <i32>(lo4 | (hi2 << 4)) - 32;
}

@inline function scale(xb: usize, j: i32): i32 {
  return <i32>load<i8>(xb + SCALES + j);
}

export function dequantize_row_q6_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const xb = block(x, i);
    const d = fp16_to_fp32(load<u16>(xb + D));
    const yb = y + (<usize>(i * QK_K) << 2);
    for (let j = 0; j < 16; j++) {
      const dl = d * <f32>scale(xb, j);
      for (let l = 0; l < 16; l++) {
        const e = 16 * j + l;
        store<f32>(yb + (<usize>e << 2), dl * <f32>quant(xb, e));
      }
    }
  }
}

export function vec_dot_q6_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  return dot_q6_K_q8_K_generic(n, w, Q6_K_BYTES, x);
}

/** vec_dot_q6_K_q8_K_generic of a row whose super-blocks lie `stride` bytes apart (4·Q6_K_BYTES in the
 *  four-row layout, ops/rows4.ts) */
@inline function dot_q6_K_q8_K_generic(n: i32, w: usize, stride: i32, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  for (let i = 0; i < nb; i++) {
    const wb = w + <usize>i * stride, xb = x + <usize>i * Q8_K_BYTES;
    for (let e = 0; e < QK_K; e++) store<i8>(X86_AUX8 + e, <i8>quant(wb, e));
    x86_clear(X86_L);
    for (let j = 0; j < 16; j++) x86_lanes_add(scale(wb, j), X86_AUX8 + 16 * j, xb + Q8_K_QS + 16 * j, 16 * j, 16);
    x86_fma(X86_ACC, load<f32>(xb) * fp16_to_fp32(load<u16>(wb + D)), X86_L, 8);
  }
  return x86_hsum8(X86_ACC);
}

/** The SIMD twin: the integer lanes as in the four-row kernel below (q6_t*, q6k_quads), the FMAs of
 *  x86_fma_f32x4 with one tie test for the super-block (util/x86.ts) */
export function vec_dot_q6_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  const m0f = v128.load(Q6_MASKS), m30 = v128.load(Q6_MASKS, 16), mff = v128.load(Q6_MASKS, 32), k32 = v128.load(Q6_MASKS, 48);
  let accLo = zero, accHi = zero;
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    // L[4k .. 4k + 3] for k = 0, 1: after the loop, a holds k = 0 and b k = 1
    let a = zero, b = zero;
    for (let k = 0; k < 2; k++) {
      let l = zero;
      for (let hh = 0; hh < 2; hh++) {
        // chunks t = 0..3 of half hh, bytes 16k … 16k + 15 (see the four-row kernel)
        const ql = wb + QL + <usize>(64 * hh + 16 * k), qh = wb + QH + <usize>(32 * hh + 16 * k);
        const sc = wb + SCALES + <usize>(8 * hh + k), q8 = xb + Q8_K_QS + <usize>(128 * hh + 16 * k);
        const qlA = v128.load(ql), qlB = v128.load(ql, 32), qhv = v128.load(qh);
        const x0 = v128.load(q8), x1 = v128.load(q8, 32), x2 = v128.load(q8, 64), x3 = v128.load(q8, 96);
        const e0 = even_i16(x0), o0 = odd_i16(x0), e1 = even_i16(x1), o1 = odd_i16(x1);
        const e2 = even_i16(x2), o2 = odd_i16(x2), e3 = even_i16(x3), o3 = odd_i16(x3);
        l = i32x4.add(l, q6k_quads(q6_t0(qlA, qhv, m0f, m30), e0, o0, i32x4.dot_i16x8_s(i16x8.add(e0, o0), k32), sc, mff));
        l = i32x4.add(l, q6k_quads(q6_t1(qlB, qhv, m0f, m30), e1, o1, i32x4.dot_i16x8_s(i16x8.add(e1, o1), k32), sc + 2, mff));
        l = i32x4.add(l, q6k_quads(q6_t2(qlA, qhv, m0f, m30), e2, o2, i32x4.dot_i16x8_s(i16x8.add(e2, o2), k32), sc + 4, mff));
        l = i32x4.add(l, q6k_quads(q6_t3(qlB, qhv, m0f, m30), e3, o3, i32x4.dot_i16x8_s(i16x8.add(e3, o3), k32), sc + 6, mff));
      }
      a = b; b = l;
    }
    const dd = f64x2.splat(<f64>(load<f32>(xb) * fp16_to_fp32(load<u16>(wb + D))));
    const p0 = x86_fma_sum_lo(accLo, dd, a), q0 = x86_fma_sum_hi(accLo, dd, a);
    const p1 = x86_fma_sum_lo(accHi, dd, b), q1 = x86_fma_sum_hi(accHi, dd, b);
    if (x86_fma_unsure(i32x4.min_s(x86_fma_ties(p0, q0), x86_fma_ties(p1, q1)))) {
      accLo = x86_fma_f32x4_slow(accLo, dd, a);
      accHi = x86_fma_f32x4_slow(accHi, dd, b);
    } else {
      accLo = demote_f64x2x2(p0, q0);
      accHi = demote_f64x2x2(p1, q1);
    }
  }
  return x86_hsum8_f32x4(accLo, accHi);
}

// ---- four rows at once ----------------------------------------------------------------------------
// vec_dot4_q6_K_q8_K: a group of four rows (the four-row layout of ops/rows4.ts, read front to back)
// side by side over the same activation row (matmul.ts takes rows four at a time through it). Each row's result is vec_dot_q6_K_q8_K's, bit for bit: the
// same exact integer lanes L[u], the same FMAs and horizontal sum.
//
// Integer lanes without widening. Sixteen values of a chunk (bytes 16k … 16k + 15 of its 32, x86
// lanes 4k … 4k + 3, one sub-block) are read as i16x8 from ql and qh: lane i holds the bytes 2i and
// 2i + 1. Masks and shifts assemble their 6-bit quants in the low and high byte of each i16 lane
// (q6_t0 … q6_t3, by the chunk's place in its half), which become an "even" and an "odd" i16 vector;
// the activations' even and odd bytes become i16 lanes by shifts (shared by the four rows).
// `i32x4.dot_i16x8_s` of the even vectors adds the products of bytes 4j and 4j + 2 into lane j, the
// odd ones those of 4j + 1 and 4j + 3, so their sum is Σ q·x over x86 lane j; the −32 comes off as
// 32·Σ x (shared): Σ (q − 32)·x, exact, |·| ≤ 4·32·128 = 2^14. Times the sub-block scale (i32) and
// summed over the eight chunks: L[4k + j], |L| ≤ 8·128·2^14 = 2^24.

/** the even bytes of v sign-extended into i16 lanes */
@inline function even_i16(v: v128): v128 {
  return i16x8.shr_s(i16x8.shl(v, 8), 8);
}

/** the odd bytes of v sign-extended into i16 lanes */
@inline function odd_i16(v: v128): v128 {
  return i16x8.shr_s(v, 8);
}

/** 6-bit quants in the bytes of i16 lanes: the low nibbles of ql with bits 0-1 of each qh byte */
@inline function q6_t0(ql: v128, qh: v128, m0f: v128, m30: v128): v128 {
  return v128.or(v128.and(ql, m0f), v128.and(i16x8.shl(qh, 4), m30));
}

/** … the low nibbles of ql with bits 2-3 of qh */
@inline function q6_t1(ql: v128, qh: v128, m0f: v128, m30: v128): v128 {
  return v128.or(v128.and(ql, m0f), v128.and(i16x8.shl(qh, 2), m30));
}

/** … the high nibbles of ql with bits 4-5 of qh */
@inline function q6_t2(ql: v128, qh: v128, m0f: v128, m30: v128): v128 {
  return v128.or(v128.and(i16x8.shr_u(ql, 4), m0f), v128.and(qh, m30));
}

/** … the high nibbles of ql with bits 6-7 of qh */
@inline function q6_t3(ql: v128, qh: v128, m0f: v128, m30: v128): v128 {
  return v128.or(v128.and(i16x8.shr_u(ql, 4), m0f), v128.and(i16x8.shr_u(qh, 2), m30));
}

/**
 * sc · Σ (q − 32)·x per x86 lane: q the quants in the bytes of `p` (q6_t*), x the activations as
 * even_i16 (xe) and odd_i16 (xo), x32 = 32·Σ x per lane (act32), `scp` the address of the sub-block's
 * int8 scale
 */
@inline function q6k_quads(p: v128, xe: v128, xo: v128, x32: v128, scp: usize, mff: v128): v128 {
  const s = i32x4.add(
    i32x4.dot_i16x8_s(v128.and(p, mff), xe), i32x4.dot_i16x8_s(i16x8.shr_u(p, 8), xo));
  return i32x4.mul(i32x4.sub(s, x32), i32x4.shr_s(v128.load32_splat(scp - 3), 24));
}

/**
 * 32·Σ x over the pairs of activation bytes xv as q6k_quads_relaxed takes it (i16 lanes, |·| ≤ 2^13),
 * or over each x86 lane as q6k_quads takes it (i32 lanes, from xe, xo; k32: 32 in every i16 lane)
 */
@inline function act32(relaxed: bool, xv: v128, xe: v128, xo: v128, k32: v128): v128 {
  return relaxed ? i16x8.shl(i16x8.extadd_pairwise_i8x16_s(xv), 5) : i32x4.dot_i16x8_s(i16x8.add(xe, xo), k32);
}

/**
 * acc + q6k_quads(…) for one row of the four-row kernel, also stored to the caller's output (which
 * the kernel writes at its end) as an ordering barrier: it keeps the optimizer from merging a row's
 * chunk sums into one expression tree (which would run the rows one after the other, with every
 * chunk's activation vectors live at once) and the next row's loads after it (rather than all of a
 * chunk's loads hoisted to its top).
 */
@inline function q6k_acc(
  relaxed: bool, acc: v128, p: v128, xv: v128, xe: v128, xo: v128, x32: v128, scp: usize, mff: v128, out: usize,
): v128 {
  const a = i32x4.add(acc, relaxed ? q6k_quads_relaxed(p, xv, x32, scp) : q6k_quads(p, xe, xo, x32, scp, mff));
  v128.store(out, a);
  return a;
}

/**
 * q6k_quads by the i8 dot product (the relaxed-SIMD module), as llama.cpp's AVX2 kernel forms it: the
 * quants (0 … 63) are 7-bit, so i16x8.relaxed_dot_i8x16_i7x16_s of the activation bytes xv with them
 * is exact on every implementation (see q4_0.ts), two products per i16 lane; less x32 (act32: 32·Σ x
 * per pair) that is Σ (q − 32)·x per pair, |·| ≤ 2·32·128 = 2^13, and one i32x4.dot_i16x8_s with the
 * scale in every i16 lane adds the pairs of each x86 lane, times the scale.
 */
@inline function q6k_quads_relaxed(p: v128, xv: v128, x32: v128, scp: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const s = i16x8.sub(i16x8.relaxed_dot_i8x16_i7x16_s(xv, p), x32);
    return i32x4.dot_i16x8_s(s, i16x8.shr_s(v128.load16_splat(scp - 1), 8));
  }
  return unreachable();
}

/** 0x0f and 0x30 in every byte, 0x00ff and 32 in every i16 lane */
const Q6_MASKS = memory.data<u8>([
  0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,
  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
  0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0,
  32, 0, 32, 0, 32, 0, 32, 0, 32, 0, 32, 0, 32, 0, 32, 0,
], 16);

/** out[0..3] = vec_dot_q6_K_q8_K of the four rows of the four-row group w (ops/rows4.ts) with x */
export function vec_dot4_q6_K_q8_K(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q6_K(false, n, w, x, out);
}

/**
 * vec_dot4_q6_K_q8_K in the relaxed-SIMD module: the same integer lanes, the FMAs one
 * f32x4.relaxed_madd per row and step (fused where this module is chosen) instead of the f64 emulation.
 */
export function vec_dot4_q6_K_q8_K_relaxed(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q6_K(true, n, w, x, out);
}

@inline function dot4_q6_K(relaxed: bool, n: i32, w: usize, x: usize, out: usize): void {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  // the masks, loaded once (V8 would build constants anew in every chunk)
  const m0f = v128.load(Q6_MASKS), m30 = v128.load(Q6_MASKS, 16), mff = v128.load(Q6_MASKS, 32), k32 = v128.load(Q6_MASKS, 48);
  // rows 0..3: acc[0..3] in l*, acc[4..7] in h*
  let l0 = zero, l1 = zero, l2 = zero, l3 = zero;
  let h0 = zero, h1 = zero, h2 = zero, h3 = zero;
  for (let i = 0; i < nb; i++) {
    const o = <usize>i * Q6_K_BYTES, xb = x + <usize>i * Q8_K_BYTES;
    // the group's super-block i: rows 0 … 3 side by side (ops/rows4.ts)
    const b0 = w + 4 * o, b1 = b0 + Q6_K_BYTES, b2 = b1 + Q6_K_BYTES, b3 = b2 + Q6_K_BYTES;
    // D = d8·d of the four rows, as the single-row kernel forms it
    let dh = v128.load16_lane(b0 + D, zero, 0);
    dh = v128.load16_lane(b1 + D, dh, 2);
    dh = v128.load16_lane(b2 + D, dh, 4);
    dh = v128.load16_lane(b3 + D, dh, 6);
    const dd = f32x4.mul(f32x4.splat(load<f32>(xb)), fp16x4_to_f32x4(dh));
    const d0 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 0, 0, 0, 0));
    const d1 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 1, 1, 1, 1));
    const d2 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 2, 2, 2, 2));
    const d3 = f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 3, 3, 3, 3));
    // chunk (hh, t), bytes 16k … 16k + 15: values 128·hh + 32t + 16k + i, quants from ql[64·hh + 32(t & 1) + 16k + i]
    // (low nibbles for t < 2) and qh[32·hh + 16k + i] (bits 2t, 2t + 1), sub-block 8·hh + 2t + k
    { // x86 lanes 0 … 3: bytes 0 … 15 of every 32-value chunk
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      { // values 0 … 15: sub-block 0
        const xv = v128.load(xb, 4), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t0(v128.load(b0, 0), v128.load(b0, 128), m0f, m30), xv, xe, xo, x32, b0 + 192, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t0(v128.load(b1, 0), v128.load(b1, 128), m0f, m30), xv, xe, xo, x32, b1 + 192, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t0(v128.load(b2, 0), v128.load(b2, 128), m0f, m30), xv, xe, xo, x32, b2 + 192, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t0(v128.load(b3, 0), v128.load(b3, 128), m0f, m30), xv, xe, xo, x32, b3 + 192, mff, out);
      }
      { // values 32 … 47: sub-block 2
        const xv = v128.load(xb, 36), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t1(v128.load(b0, 32), v128.load(b0, 128), m0f, m30), xv, xe, xo, x32, b0 + 194, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t1(v128.load(b1, 32), v128.load(b1, 128), m0f, m30), xv, xe, xo, x32, b1 + 194, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t1(v128.load(b2, 32), v128.load(b2, 128), m0f, m30), xv, xe, xo, x32, b2 + 194, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t1(v128.load(b3, 32), v128.load(b3, 128), m0f, m30), xv, xe, xo, x32, b3 + 194, mff, out);
      }
      { // values 64 … 79: sub-block 4
        const xv = v128.load(xb, 68), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t2(v128.load(b0, 0), v128.load(b0, 128), m0f, m30), xv, xe, xo, x32, b0 + 196, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t2(v128.load(b1, 0), v128.load(b1, 128), m0f, m30), xv, xe, xo, x32, b1 + 196, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t2(v128.load(b2, 0), v128.load(b2, 128), m0f, m30), xv, xe, xo, x32, b2 + 196, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t2(v128.load(b3, 0), v128.load(b3, 128), m0f, m30), xv, xe, xo, x32, b3 + 196, mff, out);
      }
      { // values 96 … 111: sub-block 6
        const xv = v128.load(xb, 100), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t3(v128.load(b0, 32), v128.load(b0, 128), m0f, m30), xv, xe, xo, x32, b0 + 198, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t3(v128.load(b1, 32), v128.load(b1, 128), m0f, m30), xv, xe, xo, x32, b1 + 198, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t3(v128.load(b2, 32), v128.load(b2, 128), m0f, m30), xv, xe, xo, x32, b2 + 198, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t3(v128.load(b3, 32), v128.load(b3, 128), m0f, m30), xv, xe, xo, x32, b3 + 198, mff, out);
      }
      { // values 128 … 143: sub-block 8
        const xv = v128.load(xb, 132), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t0(v128.load(b0, 64), v128.load(b0, 160), m0f, m30), xv, xe, xo, x32, b0 + 200, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t0(v128.load(b1, 64), v128.load(b1, 160), m0f, m30), xv, xe, xo, x32, b1 + 200, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t0(v128.load(b2, 64), v128.load(b2, 160), m0f, m30), xv, xe, xo, x32, b2 + 200, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t0(v128.load(b3, 64), v128.load(b3, 160), m0f, m30), xv, xe, xo, x32, b3 + 200, mff, out);
      }
      { // values 160 … 175: sub-block 10
        const xv = v128.load(xb, 164), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t1(v128.load(b0, 96), v128.load(b0, 160), m0f, m30), xv, xe, xo, x32, b0 + 202, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t1(v128.load(b1, 96), v128.load(b1, 160), m0f, m30), xv, xe, xo, x32, b1 + 202, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t1(v128.load(b2, 96), v128.load(b2, 160), m0f, m30), xv, xe, xo, x32, b2 + 202, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t1(v128.load(b3, 96), v128.load(b3, 160), m0f, m30), xv, xe, xo, x32, b3 + 202, mff, out);
      }
      { // values 192 … 207: sub-block 12
        const xv = v128.load(xb, 196), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t2(v128.load(b0, 64), v128.load(b0, 160), m0f, m30), xv, xe, xo, x32, b0 + 204, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t2(v128.load(b1, 64), v128.load(b1, 160), m0f, m30), xv, xe, xo, x32, b1 + 204, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t2(v128.load(b2, 64), v128.load(b2, 160), m0f, m30), xv, xe, xo, x32, b2 + 204, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t2(v128.load(b3, 64), v128.load(b3, 160), m0f, m30), xv, xe, xo, x32, b3 + 204, mff, out);
      }
      { // values 224 … 239: sub-block 14
        const xv = v128.load(xb, 228), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t3(v128.load(b0, 96), v128.load(b0, 160), m0f, m30), xv, xe, xo, x32, b0 + 206, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t3(v128.load(b1, 96), v128.load(b1, 160), m0f, m30), xv, xe, xo, x32, b1 + 206, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t3(v128.load(b2, 96), v128.load(b2, 160), m0f, m30), xv, xe, xo, x32, b2 + 206, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t3(v128.load(b3, 96), v128.load(b3, 160), m0f, m30), xv, xe, xo, x32, b3 + 206, mff, out);
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
    { // x86 lanes 4 … 7: bytes 16 … 31 of every 32-value chunk
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      { // values 16 … 31: sub-block 1
        const xv = v128.load(xb, 20), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t0(v128.load(b0, 16), v128.load(b0, 144), m0f, m30), xv, xe, xo, x32, b0 + 193, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t0(v128.load(b1, 16), v128.load(b1, 144), m0f, m30), xv, xe, xo, x32, b1 + 193, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t0(v128.load(b2, 16), v128.load(b2, 144), m0f, m30), xv, xe, xo, x32, b2 + 193, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t0(v128.load(b3, 16), v128.load(b3, 144), m0f, m30), xv, xe, xo, x32, b3 + 193, mff, out);
      }
      { // values 48 … 63: sub-block 3
        const xv = v128.load(xb, 52), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t1(v128.load(b0, 48), v128.load(b0, 144), m0f, m30), xv, xe, xo, x32, b0 + 195, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t1(v128.load(b1, 48), v128.load(b1, 144), m0f, m30), xv, xe, xo, x32, b1 + 195, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t1(v128.load(b2, 48), v128.load(b2, 144), m0f, m30), xv, xe, xo, x32, b2 + 195, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t1(v128.load(b3, 48), v128.load(b3, 144), m0f, m30), xv, xe, xo, x32, b3 + 195, mff, out);
      }
      { // values 80 … 95: sub-block 5
        const xv = v128.load(xb, 84), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t2(v128.load(b0, 16), v128.load(b0, 144), m0f, m30), xv, xe, xo, x32, b0 + 197, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t2(v128.load(b1, 16), v128.load(b1, 144), m0f, m30), xv, xe, xo, x32, b1 + 197, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t2(v128.load(b2, 16), v128.load(b2, 144), m0f, m30), xv, xe, xo, x32, b2 + 197, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t2(v128.load(b3, 16), v128.load(b3, 144), m0f, m30), xv, xe, xo, x32, b3 + 197, mff, out);
      }
      { // values 112 … 127: sub-block 7
        const xv = v128.load(xb, 116), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t3(v128.load(b0, 48), v128.load(b0, 144), m0f, m30), xv, xe, xo, x32, b0 + 199, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t3(v128.load(b1, 48), v128.load(b1, 144), m0f, m30), xv, xe, xo, x32, b1 + 199, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t3(v128.load(b2, 48), v128.load(b2, 144), m0f, m30), xv, xe, xo, x32, b2 + 199, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t3(v128.load(b3, 48), v128.load(b3, 144), m0f, m30), xv, xe, xo, x32, b3 + 199, mff, out);
      }
      { // values 144 … 159: sub-block 9
        const xv = v128.load(xb, 148), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t0(v128.load(b0, 80), v128.load(b0, 176), m0f, m30), xv, xe, xo, x32, b0 + 201, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t0(v128.load(b1, 80), v128.load(b1, 176), m0f, m30), xv, xe, xo, x32, b1 + 201, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t0(v128.load(b2, 80), v128.load(b2, 176), m0f, m30), xv, xe, xo, x32, b2 + 201, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t0(v128.load(b3, 80), v128.load(b3, 176), m0f, m30), xv, xe, xo, x32, b3 + 201, mff, out);
      }
      { // values 176 … 191: sub-block 11
        const xv = v128.load(xb, 180), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t1(v128.load(b0, 112), v128.load(b0, 176), m0f, m30), xv, xe, xo, x32, b0 + 203, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t1(v128.load(b1, 112), v128.load(b1, 176), m0f, m30), xv, xe, xo, x32, b1 + 203, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t1(v128.load(b2, 112), v128.load(b2, 176), m0f, m30), xv, xe, xo, x32, b2 + 203, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t1(v128.load(b3, 112), v128.load(b3, 176), m0f, m30), xv, xe, xo, x32, b3 + 203, mff, out);
      }
      { // values 208 … 223: sub-block 13
        const xv = v128.load(xb, 212), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t2(v128.load(b0, 80), v128.load(b0, 176), m0f, m30), xv, xe, xo, x32, b0 + 205, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t2(v128.load(b1, 80), v128.load(b1, 176), m0f, m30), xv, xe, xo, x32, b1 + 205, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t2(v128.load(b2, 80), v128.load(b2, 176), m0f, m30), xv, xe, xo, x32, b2 + 205, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t2(v128.load(b3, 80), v128.load(b3, 176), m0f, m30), xv, xe, xo, x32, b3 + 205, mff, out);
      }
      { // values 240 … 255: sub-block 15
        const xv = v128.load(xb, 244), xe = even_i16(xv), xo = odd_i16(xv), x32 = act32(relaxed, xv, xe, xo, k32);
        a0 = q6k_acc(relaxed, a0, q6_t3(v128.load(b0, 112), v128.load(b0, 176), m0f, m30), xv, xe, xo, x32, b0 + 207, mff, out);
        a1 = q6k_acc(relaxed, a1, q6_t3(v128.load(b1, 112), v128.load(b1, 176), m0f, m30), xv, xe, xo, x32, b1 + 207, mff, out);
        a2 = q6k_acc(relaxed, a2, q6_t3(v128.load(b2, 112), v128.load(b2, 176), m0f, m30), xv, xe, xo, x32, b2 + 207, mff, out);
        a3 = q6k_acc(relaxed, a3, q6_t3(v128.load(b3, 112), v128.load(b3, 176), m0f, m30), xv, xe, xo, x32, b3 + 207, mff, out);
      }
      // acc[4 .. 7] = fma(D, f32(L), acc) per row (x86_fma_f32x4_fast, one tie test for the four rows)
      if (relaxed) {
        h0 = x86_fma_relaxed(h0, i32x4.shuffle(dd, dd, 0, 0, 0, 0), a0); h1 = x86_fma_relaxed(h1, i32x4.shuffle(dd, dd, 1, 1, 1, 1), a1);
        h2 = x86_fma_relaxed(h2, i32x4.shuffle(dd, dd, 2, 2, 2, 2), a2); h3 = x86_fma_relaxed(h3, i32x4.shuffle(dd, dd, 3, 3, 3, 3), a3);
      } else {
      const p0 = x86_fma_sum_lo(h0, d0, a0), q0 = x86_fma_sum_hi(h0, d0, a0);
      const p1 = x86_fma_sum_lo(h1, d1, a1), q1 = x86_fma_sum_hi(h1, d1, a1);
      const p2 = x86_fma_sum_lo(h2, d2, a2), q2 = x86_fma_sum_hi(h2, d2, a2);
      const p3 = x86_fma_sum_lo(h3, d3, a3), q3 = x86_fma_sum_hi(h3, d3, a3);
      const r0 = demote_f64x2x2(p0, q0), r1 = demote_f64x2x2(p1, q1), r2 = demote_f64x2x2(p2, q2), r3 = demote_f64x2x2(p3, q3);
      const ties = i32x4.min_s(i32x4.min_s(x86_fma_ties(p0, q0), x86_fma_ties(p1, q1)), i32x4.min_s(x86_fma_ties(p2, q2), x86_fma_ties(p3, q3)));
      if (x86_fma_unsure(ties)) {
        h0 = x86_fma_f32x4_slow(h0, d0, a0); h1 = x86_fma_f32x4_slow(h1, d1, a1);
        h2 = x86_fma_f32x4_slow(h2, d2, a2); h3 = x86_fma_f32x4_slow(h3, d3, a3);
      } else {
        h0 = r0; h1 = r1; h2 = r2; h3 = r3;
      }
      }
    }
  }
  store<f32>(out, x86_hsum8_f32x4(l0, h0));
  store<f32>(out, x86_hsum8_f32x4(l1, h1), 4);
  store<f32>(out, x86_hsum8_f32x4(l2, h2), 8);
  store<f32>(out, x86_hsum8_f32x4(l3, h3), 12);
}

/** The scalar twin of vec_dot4_q6_K_q8_K: the single-row product of each of the group's rows */
export function vec_dot4_q6_K_q8_K_generic(n: i32, w: usize, x: usize, out: usize): void {
  for (let r = 0; r < 4; r++) {
    store<f32>(out + (<usize>r << 2), dot_q6_K_q8_K_generic(n, w + <usize>r * Q6_K_BYTES, 4 * Q6_K_BYTES, x));
  }
}
