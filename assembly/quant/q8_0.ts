// Q8_0 — blocks of 32 weights, 34 bytes, 8.5 bits per weight (ggml `block_q8_0`):
//
//   byte 0..1   d      f16 scale
//   byte 2..33  qs[32] int8 quants            value[i] = d · qs[i]
//
// Q8_0 is also the activation format for Q8_0 weights: llama.cpp quantizes each activation row to
// Q8_0 blocks (x86 path: d = amax/127, q = round-half-even(x · 127/amax)); here they come in a q8_0x
// row (below), the same blocks with each one's f32 scale and sum after them. The dot product mirrors
// llama.cpp's x86 tinyBLAS_Q0_AVX (batches) / ggml_vec_dot_q8_0_q8_0 AVX2 branch (single tokens),
// which agree: 8 i32 lanes of 4 products per block, one FMA per lane and block with d_w·d_x,
// hsum_float_8 at the end (details above vec_dot_q8_0_q8_0_generic and in util/legacy.ts).
import { fp16_to_fp32, fp16x4_to_f32x4, fp32_to_fp16 } from '../util/fp16';
import { even_i8_to_i16, hsum_i32x4, odd_i8_to_i16 } from '../util/simd';
import { x86_fma_relaxed } from '../util/x86';
import {
  LEG_ACC, acc_clear, f32_ties4, fma_block, fma_f32x4_lanes, wscales4, scales4x, fma_pair_exact, fma_sum, hsum8, hsum8_f32x4, hsum8_f64x2, quads,
  round_pair, upper_pair,
} from '../util/legacy';
import { tile_by_tokens } from '../util/tile';

export const QK8_0: i32 = 32;
export const Q8_0_BYTES: i32 = 34;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q8_0_BYTES;
}

/** stores d = f16(amax/127) at dp and returns the multiplier 127/amax, as llama.cpp's x86 quantizer */
@inline function q8_scale(amax: f32, dp: usize): f32 {
  store<u16>(dp, <u16>fp32_to_fp16(amax / 127));
  return amax != 0 ? <f32>127 / amax : 0;
}

/**
 * One block of 32 activations → f16 d at `dp` and 32 int8 quants at `qp` (llama.cpp's x86
 * quantizer); returns the f32 d before rounding (Q8_1 needs it for its sum).
 */
export function quantize_block_q8_generic(xb: usize, dp: usize, qp: usize): f32 {
  let amax: f32 = 0;
  for (let j = 0; j < QK8_0; j++) amax = max(amax, abs(load<f32>(xb + (<usize>j << 2))));
  const id = q8_scale(amax, dp);
  for (let j = 0; j < QK8_0; j++) store<i8>(qp + j, saturate_i8(nearest(load<f32>(xb + (<usize>j << 2)) * id)));
  return amax / 127;
}

export function quantize_row_q8_0_generic(x: usize, y: usize, k: i32): void {
  const nb = k / QK8_0;
  for (let ib = 0; ib < nb; ib++) {
    const yb = block(y, ib);
    quantize_block_q8_generic(x + (<usize>(ib * QK8_0) << 2), yb, yb + 2);
  }
}

/** The SIMD twin of quantize_block_q8_generic (same bytes). */
@inline export function quantize_block_q8(xb: usize, dp: usize, qp: usize): f32 {
  const v0 = v128.load(xb), v1 = v128.load(xb, 16), v2 = v128.load(xb, 32), v3 = v128.load(xb, 48);
  const v4 = v128.load(xb, 64), v5 = v128.load(xb, 80), v6 = v128.load(xb, 96), v7 = v128.load(xb, 112);
  let m = f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3)));
  m = f32x4.max(m, f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))));
  const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  const id = f32x4.splat(q8_scale(amax, dp));
  v128.store(qp, quantize_16(v0, v1, v2, v3, id));
  v128.store(qp + 16, quantize_16(v4, v5, v6, v7, id));
  return amax / 127;
}

export function quantize_row_q8_0(x: usize, y: usize, k: i32): void {
  const nb = k / QK8_0;
  for (let ib = 0; ib < nb; ib++) {
    const yb = block(y, ib);
    quantize_block_q8(x + (<usize>(ib * QK8_0) << 2), yb, yb + 2);
  }
}

/**
 * A rounded quant into int8 as the SIMD path's trunc_sat + narrow does it: NaN → 0, out of range
 * saturates. Only reachable when 127/amax overflows (amax < 4e-37), where the block scale is 0 anyway.
 */
@inline function saturate_i8(v: f32): i8 {
  if (v != v) return 0;
  return <i8><i32>min(max(v, <f32>-128), <f32>127);
}

/** round-half-even(v · id) for 16 floats, saturated into 16 int8 lanes. */
@inline function quantize_16(a: v128, b: v128, c: v128, d: v128, id: v128): v128 {
  const ia = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, id)));
  const ib = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(b, id)));
  const ic = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(c, id)));
  const idd = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(d, id)));
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(ia, ib), i16x8.narrow_i32x4_s(ic, idd));
}

// ---- Q8_0 with its block sums ("q8_0x") -----------------------------------------------------------
// The activation format of Q4_0 and Q8_0 weights: the row's Q8_0 blocks, then for each block 8 bytes — its
// scale d as f32 and 8·Σ q as i32. The four-row Q4_0 kernels need both for every block and every
// group of four rows; computed here once per token instead of once per group (512 times for a
// 2048-row matrix). Kernels that take plain Q8_0 blocks read the same row and ignore the rest.

/** bytes after each block's place in the row's extras: f32 d, i32 8·Σ q */
export const Q8_0X_EXTRA: i32 = 8;

/** where block 0's extras of a q8_0x row of nb blocks begin */
@inline export function q8_0x_extras(x: usize, nb: i32): usize {
  return x + <usize>nb * Q8_0_BYTES;
}

/** quantize_row_q8_0, then each block's extras */
export function quantize_row_q8_0x(x: usize, y: usize, k: i32): void {
  quantize_row_q8_0(x, y, k);
  const nb = k / QK8_0, ex = q8_0x_extras(y, nb);
  for (let ib = 0; ib < nb; ib++) {
    const yb = block(y, ib), e = ex + <usize>ib * Q8_0X_EXTRA;
    store<f32>(e, fp16_to_fp32(load<u16>(yb)));
    const s = i16x8.add(i16x8.extadd_pairwise_i8x16_s(v128.load(yb + 2)), i16x8.extadd_pairwise_i8x16_s(v128.load(yb + 18)));
    store<i32>(e, hsum_i32x4(i32x4.extadd_pairwise_i16x8_s(s)) << 3, 4);
  }
}

/** The scalar twin of quantize_row_q8_0x */
export function quantize_row_q8_0x_generic(x: usize, y: usize, k: i32): void {
  quantize_row_q8_0_generic(x, y, k);
  const nb = k / QK8_0, ex = q8_0x_extras(y, nb);
  for (let ib = 0; ib < nb; ib++) {
    const yb = block(y, ib), e = ex + <usize>ib * Q8_0X_EXTRA;
    store<f32>(e, fp16_to_fp32(load<u16>(yb)));
    let sum = 0;
    for (let j = 0; j < QK8_0; j++) sum += <i32>load<i8>(yb + 2 + j);
    store<i32>(e, sum << 3, 4);
  }
}

export function dequantize_row_q8_0(x: usize, y: usize, k: i32): void {
  const nb = k / QK8_0;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block(x, ib);
    const d = fp16_to_fp32(load<u16>(xb));
    for (let j = 0; j < QK8_0; j++) store<f32>(y + (<usize>(ib * QK8_0 + j) << 2), d * <f32>load<i8>(xb + 2 + j));
  }
}

// ---- the dot product: llama.cpp's x86 order ------------------------------------------------------
//
// Which code computes a Q8_0 × Q8_0 row product in llama.cpp c392e50's x86 CPU backend (an AVX-512
// build, `-march=native`, GGML_USE_LLAMAFILE on, no repacking: ggml-cpu-aarch64.cpp repacks only
// Q4_0 on x86):
//   - a batch of ≥ 2 tokens: llamafile_sgemm → tinyBLAS_Q0_AVX<block_q8_0, block_q8_0, float>
//     (ggml/src/ggml-cpu/llamafile/sgemm.cpp; llamafile_sgemm returns false for n < 2),
//     per output: Cv = madd(set1(d_w·d_x), updot(sign(w, w), sign(x, w)), Cv) over the blocks, then
//     hsum(Cv);
//   - one token: ggml_vec_dot_q8_0_q8_0, `__AVX2__` branch (ggml-cpu-quants.c): acc = fmadd(set1(d_w·
//     d_x), mul_sum_i8_pairs_float(w, x), acc) over the blocks, then hsum_float_8(acc).
// Both are the 8-lane scheme of util/legacy.ts with the same lanes, FMAs and horizontal sum, so a
// token's result does not depend on the batch. Both twins below compute exactly that.

/** ggml_vec_dot_q8_0_q8_0 (AVX2) / tinyBLAS_Q0_AVX, in scalar code: acc[k] = fma(d_w·d_x, L[k], acc[k]), hsum_float_8 */
export function vec_dot_q8_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  return dot_q8_0_q8_0_generic(n, w, Q8_0_BYTES, x);
}

/** vec_dot_q8_0_q8_0_generic of a row whose blocks lie `stride` bytes apart (4·Q8_0_BYTES in the
 *  four-row layout, ops/rows4.ts) */
@inline function dot_q8_0_q8_0_generic(n: i32, w: usize, stride: i32, x: usize): f32 {
  const nb = n / QK8_0;
  acc_clear(LEG_ACC);
  for (let ib = 0; ib < nb; ib++) {
    const wb = w + <usize>ib * stride, xb = block(x, ib);
    const d = fp16_to_fp32(load<u16>(wb)) * fp16_to_fp32(load<u16>(xb));
    fma_block(LEG_ACC, d, wb + 2, xb + 2);
  }
  return hsum8(LEG_ACC);
}

/** The SIMD twin: the 8 lanes as two i32x4 of quads, the FMAs in f64x2 pairs (fma_sum, see util/legacy.ts), the same hsum. */
export function vec_dot_q8_0_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK8_0;
  let a01 = f64x2.splat(0), a23 = f64x2.splat(0), a45 = f64x2.splat(0), a67 = f64x2.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = block(x, ib);
    const dd = f64x2.splat(<f64>(fp16_to_fp32(load<u16>(wb)) * fp16_to_fp32(load<u16>(xb))));
    const lo = quads(v128.load(wb + 2), v128.load(xb + 2)), hi = quads(v128.load(wb + 18), v128.load(xb + 18));
    const as01 = fma_sum(a01, dd, lo), as23 = fma_sum(a23, dd, upper_pair(lo));
    const as45 = fma_sum(a45, dd, hi), as67 = fma_sum(a67, dd, upper_pair(hi));
    if (v128.any_true(v128.or(f32_ties4(as01, as23), f32_ties4(as45, as67)))) {
      a01 = fma_pair_exact(a01, dd, lo); a23 = fma_pair_exact(a23, dd, upper_pair(lo));
      a45 = fma_pair_exact(a45, dd, hi); a67 = fma_pair_exact(a67, dd, upper_pair(hi));
    } else {
      a01 = round_pair(as01); a23 = round_pair(as23); a45 = round_pair(as45); a67 = round_pair(as67);
    }
  }
  return hsum8_f64x2(a01, a23, a45, a67);
}

// ---- four rows at once ----------------------------------------------------------------------------
// As vec_dot4_q4_0_q8_0 (q4_0.ts): a group of four rows side by side over one activation row, each
// row's result bit for bit vec_dot_q8_0_q8_0's. The x86 lanes come without widening: with the even
// and odd bytes of 16 weights and 16 activations as i16 lanes, dot(even, even) + dot(odd, odd) has
// in lane k the four products of elements 4k … 4k + 3 — the lane L[k] of util/legacy.ts. A row's
// eight accumulators stay f32x4 between blocks (acc[0..3], acc[4..7]) and go through f64x2 pairs
// for each block's fused multiply-adds.

/** x86 lanes L[k] (k = 0..3) of the 16 weight quants at `wq` against 16 activations split into their
 *  even (xe0) and odd (xo0) bytes as i16 lanes */
@inline function lanes_lo(wq: usize, xe0: v128, xo0: v128): v128 {
  const v = v128.load(wq);
  return i32x4.add(i32x4.dot_i16x8_s(even_i8_to_i16(v), xe0), i32x4.dot_i16x8_s(odd_i8_to_i16(v), xo0));
}

/**
 * One block's FMAs for four lanes of one row in the form the module runs: acc = fma(d, f32(L), acc)
 * lane by lane (`d`: the f32 scale in every lane) by fma_f32x4_lanes (util/legacy.ts), or in the
 * relaxed-SIMD module x86_fma_relaxed
 */
@inline function fma_lanes4_as(relaxed: bool, acc: v128, d: v128, lanes: v128): v128 {
  return relaxed ? x86_fma_relaxed(acc, d, lanes) : fma_f32x4_lanes(acc, d, lanes);
}

/** out[0..3] = vec_dot_q8_0_q8_0 of the four rows of the four-row group w (ops/rows4.ts) with x */
export function vec_dot4_q8_0_q8_0(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q8_0(false, n, w, x, out);
}

/** vec_dot4_q8_0_q8_0 in the relaxed-SIMD module (see q4_0.ts): the same integer lanes, each block's
 *  eight FMAs of a row as two f32x4.relaxed_madd (fused where the module is used) */
export function vec_dot4_q8_0_q8_0_relaxed(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q8_0(true, n, w, x, out);
}

@inline function dot4_q8_0(relaxed: bool, n: i32, w: usize, x: usize, out: usize): void {
  const nb = n / QK8_0;
  const zero = f32x4.splat(0);
  let r0lo = zero, r0hi = zero, r1lo = zero, r1hi = zero, r2lo = zero, r2hi = zero, r3lo = zero, r3hi = zero;
  const ex = q8_0x_extras(x, nb);
  for (let ib = 0; ib < nb; ib++) {
    const xb = block(x, ib);
    const x0 = v128.load(xb + 2), x1 = v128.load(xb + 18);
    const xe0 = even_i8_to_i16(x0), xo0 = odd_i8_to_i16(x0), xe1 = even_i8_to_i16(x1), xo1 = odd_i8_to_i16(x1);
    // the group's block ib: rows 0 … 3 side by side (ops/rows4.ts)
    const w0 = w + <usize>ib * 4 * Q8_0_BYTES, w1 = w0 + Q8_0_BYTES, w2 = w1 + Q8_0_BYTES, w3 = w2 + Q8_0_BYTES;
    const d = scales4x(wscales4(w0, w1, w2, w3, 0), ex + <usize>ib * Q8_0X_EXTRA);
    const d0 = i32x4.shuffle(d, d, 0, 0, 0, 0), d1 = i32x4.shuffle(d, d, 1, 1, 1, 1);
    const d2 = i32x4.shuffle(d, d, 2, 2, 2, 2), d3 = i32x4.shuffle(d, d, 3, 3, 3, 3);
    r0lo = fma_lanes4_as(relaxed, r0lo, d0, lanes_lo(w0 + 2, xe0, xo0)); r0hi = fma_lanes4_as(relaxed, r0hi, d0, lanes_lo(w0 + 18, xe1, xo1));
    r1lo = fma_lanes4_as(relaxed, r1lo, d1, lanes_lo(w1 + 2, xe0, xo0)); r1hi = fma_lanes4_as(relaxed, r1hi, d1, lanes_lo(w1 + 18, xe1, xo1));
    r2lo = fma_lanes4_as(relaxed, r2lo, d2, lanes_lo(w2 + 2, xe0, xo0)); r2hi = fma_lanes4_as(relaxed, r2hi, d2, lanes_lo(w2 + 18, xe1, xo1));
    r3lo = fma_lanes4_as(relaxed, r3lo, d3, lanes_lo(w3 + 2, xe0, xo0)); r3hi = fma_lanes4_as(relaxed, r3hi, d3, lanes_lo(w3 + 18, xe1, xo1));
  }
  store4_hsum8(out, r0lo, r0hi, r1lo, r1hi, r2lo, r2hi, r3lo, r3hi);
}

/** The scalar twin of vec_dot4_q8_0_q8_0: the single-row product of each of the group's rows */
export function vec_dot4_q8_0_q8_0_generic(n: i32, w: usize, x: usize, out: usize): void {
  for (let r = 0; r < 4; r++) store<f32>(out + (<usize>r << 2), dot_q8_0_q8_0_generic(n, w + <usize>r * Q8_0_BYTES, 4 * Q8_0_BYTES, x));
}


// ---- four rows by four tokens ---------------------------------------------------------------------
// vec_dot4x4_q8_0_q8_0: a group of four rows against four activation rows of a batch (as
// vec_dot4x4_q4_0_q8_0 in q4_0.ts), each result bit for bit vec_dot4_q8_0_q8_0's. Each block's weight
// scales are converted once for the four tokens, and its quants, loaded once, stay in L1 for them;
// each token's sixteen accumulators (two per row) are its own chains. The 32 accumulators outnumber
// the registers, so the engine keeps some on its stack: still 1.5× the four-row kernel run four
// times (256 × 2048, 8 tokens, relaxed module).

/**
 * out + t·outRowBytes [0..3] = vec_dot4_q8_0_q8_0 of the four-row group w with the activation row
 * x + t·xRowBytes, for t = 0 … 3
 */
export function vec_dot4x4_q8_0_q8_0(n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  dot4x4_q8_0(false, n, w, x, xRowBytes, out, outRowBytes);
}

/** The scalar twin of vec_dot4x4_q8_0_q8_0: the four-row twin for each token */
export function vec_dot4x4_q8_0_q8_0_generic(n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  tile_by_tokens(vec_dot4_q8_0_q8_0_generic, n, w, x, xRowBytes, out, outRowBytes);
}

/** vec_dot4x4_q8_0_q8_0 in the relaxed-SIMD module (FMAs as vec_dot4_q8_0_q8_0_relaxed) */
export function vec_dot4x4_q8_0_q8_0_relaxed(n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  dot4x4_q8_0(true, n, w, x, xRowBytes, out, outRowBytes);
}

@inline function dot4x4_q8_0(relaxed: bool, n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  const nb = n / QK8_0;
  const z = f32x4.splat(0);
  // token t, row r: acc[0..3] in a<t><r>, acc[4..7] in b<t><r>
  let a00 = z, b00 = z, a01 = z, b01 = z, a02 = z, b02 = z, a03 = z, b03 = z;
  let a10 = z, b10 = z, a11 = z, b11 = z, a12 = z, b12 = z, a13 = z, b13 = z;
  let a20 = z, b20 = z, a21 = z, b21 = z, a22 = z, b22 = z, a23 = z, b23 = z;
  let a30 = z, b30 = z, a31 = z, b31 = z, a32 = z, b32 = z, a33 = z, b33 = z;
  const ex = q8_0x_extras(x, nb) - x; // the extras' offset within a row
  for (let ib = 0; ib < nb; ib++) {
    const w0 = w + <usize>ib * 4 * Q8_0_BYTES, w1 = w0 + Q8_0_BYTES, w2 = w1 + Q8_0_BYTES, w3 = w2 + Q8_0_BYTES;
    const dw = wscales4(w0, w1, w2, w3, 0), eo = ex + <usize>ib * Q8_0X_EXTRA;
    { // token 0
      const xt = x + 0 * xRowBytes, xb = block(xt, ib), x0 = v128.load(xb + 2), x1 = v128.load(xb + 18);
      const xe0 = even_i8_to_i16(x0), xo0 = odd_i8_to_i16(x0), xe1 = even_i8_to_i16(x1), xo1 = odd_i8_to_i16(x1);
      const d = scales4x(dw, xt + eo);
      const d0 = i32x4.shuffle(d, d, 0, 0, 0, 0), d1 = i32x4.shuffle(d, d, 1, 1, 1, 1);
      const d2 = i32x4.shuffle(d, d, 2, 2, 2, 2), d3 = i32x4.shuffle(d, d, 3, 3, 3, 3);
      a00 = fma_lanes4_as(relaxed, a00, d0, lanes_lo(w0 + 2, xe0, xo0)); b00 = fma_lanes4_as(relaxed, b00, d0, lanes_lo(w0 + 18, xe1, xo1));
      a01 = fma_lanes4_as(relaxed, a01, d1, lanes_lo(w1 + 2, xe0, xo0)); b01 = fma_lanes4_as(relaxed, b01, d1, lanes_lo(w1 + 18, xe1, xo1));
      a02 = fma_lanes4_as(relaxed, a02, d2, lanes_lo(w2 + 2, xe0, xo0)); b02 = fma_lanes4_as(relaxed, b02, d2, lanes_lo(w2 + 18, xe1, xo1));
      a03 = fma_lanes4_as(relaxed, a03, d3, lanes_lo(w3 + 2, xe0, xo0)); b03 = fma_lanes4_as(relaxed, b03, d3, lanes_lo(w3 + 18, xe1, xo1));
    }
    { // token 1
      const xt = x + 1 * xRowBytes, xb = block(xt, ib), x0 = v128.load(xb + 2), x1 = v128.load(xb + 18);
      const xe0 = even_i8_to_i16(x0), xo0 = odd_i8_to_i16(x0), xe1 = even_i8_to_i16(x1), xo1 = odd_i8_to_i16(x1);
      const d = scales4x(dw, xt + eo);
      const d0 = i32x4.shuffle(d, d, 0, 0, 0, 0), d1 = i32x4.shuffle(d, d, 1, 1, 1, 1);
      const d2 = i32x4.shuffle(d, d, 2, 2, 2, 2), d3 = i32x4.shuffle(d, d, 3, 3, 3, 3);
      a10 = fma_lanes4_as(relaxed, a10, d0, lanes_lo(w0 + 2, xe0, xo0)); b10 = fma_lanes4_as(relaxed, b10, d0, lanes_lo(w0 + 18, xe1, xo1));
      a11 = fma_lanes4_as(relaxed, a11, d1, lanes_lo(w1 + 2, xe0, xo0)); b11 = fma_lanes4_as(relaxed, b11, d1, lanes_lo(w1 + 18, xe1, xo1));
      a12 = fma_lanes4_as(relaxed, a12, d2, lanes_lo(w2 + 2, xe0, xo0)); b12 = fma_lanes4_as(relaxed, b12, d2, lanes_lo(w2 + 18, xe1, xo1));
      a13 = fma_lanes4_as(relaxed, a13, d3, lanes_lo(w3 + 2, xe0, xo0)); b13 = fma_lanes4_as(relaxed, b13, d3, lanes_lo(w3 + 18, xe1, xo1));
    }
    { // token 2
      const xt = x + 2 * xRowBytes, xb = block(xt, ib), x0 = v128.load(xb + 2), x1 = v128.load(xb + 18);
      const xe0 = even_i8_to_i16(x0), xo0 = odd_i8_to_i16(x0), xe1 = even_i8_to_i16(x1), xo1 = odd_i8_to_i16(x1);
      const d = scales4x(dw, xt + eo);
      const d0 = i32x4.shuffle(d, d, 0, 0, 0, 0), d1 = i32x4.shuffle(d, d, 1, 1, 1, 1);
      const d2 = i32x4.shuffle(d, d, 2, 2, 2, 2), d3 = i32x4.shuffle(d, d, 3, 3, 3, 3);
      a20 = fma_lanes4_as(relaxed, a20, d0, lanes_lo(w0 + 2, xe0, xo0)); b20 = fma_lanes4_as(relaxed, b20, d0, lanes_lo(w0 + 18, xe1, xo1));
      a21 = fma_lanes4_as(relaxed, a21, d1, lanes_lo(w1 + 2, xe0, xo0)); b21 = fma_lanes4_as(relaxed, b21, d1, lanes_lo(w1 + 18, xe1, xo1));
      a22 = fma_lanes4_as(relaxed, a22, d2, lanes_lo(w2 + 2, xe0, xo0)); b22 = fma_lanes4_as(relaxed, b22, d2, lanes_lo(w2 + 18, xe1, xo1));
      a23 = fma_lanes4_as(relaxed, a23, d3, lanes_lo(w3 + 2, xe0, xo0)); b23 = fma_lanes4_as(relaxed, b23, d3, lanes_lo(w3 + 18, xe1, xo1));
    }
    { // token 3
      const xt = x + 3 * xRowBytes, xb = block(xt, ib), x0 = v128.load(xb + 2), x1 = v128.load(xb + 18);
      const xe0 = even_i8_to_i16(x0), xo0 = odd_i8_to_i16(x0), xe1 = even_i8_to_i16(x1), xo1 = odd_i8_to_i16(x1);
      const d = scales4x(dw, xt + eo);
      const d0 = i32x4.shuffle(d, d, 0, 0, 0, 0), d1 = i32x4.shuffle(d, d, 1, 1, 1, 1);
      const d2 = i32x4.shuffle(d, d, 2, 2, 2, 2), d3 = i32x4.shuffle(d, d, 3, 3, 3, 3);
      a30 = fma_lanes4_as(relaxed, a30, d0, lanes_lo(w0 + 2, xe0, xo0)); b30 = fma_lanes4_as(relaxed, b30, d0, lanes_lo(w0 + 18, xe1, xo1));
      a31 = fma_lanes4_as(relaxed, a31, d1, lanes_lo(w1 + 2, xe0, xo0)); b31 = fma_lanes4_as(relaxed, b31, d1, lanes_lo(w1 + 18, xe1, xo1));
      a32 = fma_lanes4_as(relaxed, a32, d2, lanes_lo(w2 + 2, xe0, xo0)); b32 = fma_lanes4_as(relaxed, b32, d2, lanes_lo(w2 + 18, xe1, xo1));
      a33 = fma_lanes4_as(relaxed, a33, d3, lanes_lo(w3 + 2, xe0, xo0)); b33 = fma_lanes4_as(relaxed, b33, d3, lanes_lo(w3 + 18, xe1, xo1));
    }
  }
  store4_hsum8(out + 0 * outRowBytes, a00, b00, a01, b01, a02, b02, a03, b03);
  store4_hsum8(out + 1 * outRowBytes, a10, b10, a11, b11, a12, b12, a13, b13);
  store4_hsum8(out + 2 * outRowBytes, a20, b20, a21, b21, a22, b22, a23, b23);
  store4_hsum8(out + 3 * outRowBytes, a30, b30, a31, b31, a32, b32, a33, b33);
}

/** out[r] = hsum_float_8 of row r's accumulators (a_r = acc[0..3], b_r = acc[4..7]) */
@inline function store4_hsum8(out: usize, a0: v128, b0: v128, a1: v128, b1: v128, a2: v128, b2: v128, a3: v128, b3: v128): void {
  store<f32>(out, hsum8_f32x4(a0, b0));
  store<f32>(out, hsum8_f32x4(a1, b1), 4);
  store<f32>(out, hsum8_f32x4(a2, b2), 8);
  store<f32>(out, hsum8_f32x4(a3, b3), 12);
}
