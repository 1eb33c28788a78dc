// Q4_0 — blocks of 32 weights, 18 bytes, 4.5 bits per weight (ggml `block_q4_0`):
//
//   byte 0..1   d       f16 scale
//   byte 2..17  qs[16]  4-bit quants, two per byte:
//                       qs[j] & 0x0F → element j,  qs[j] >> 4 → element j + 16   (j = 0..15)
//
//   value[i] = d · (q[i] − 8)                       q[i] in 0..15, so q − 8 in −8..7
//
// Activation format: Q8_0 (ggml's vec_dot_type for Q4_0).
//
// ---- the dot product: llama.cpp's x86 order -------------------------------------------------------
// In llama.cpp c392e50's x86 CPU backend (AVX-512 build, -march=native) a Q4_0 weight matrix whose
// row count is a multiple of 8 is repacked at load time into block_q4_0x8 (the CPU_AARCH64 extra
// buffer type: ggml_aarch64_get_optimal_repack_type returns q4_0_8x8_q8_0 when ggml_cpu_has_avx2()
// and ne[1] % 8 == 0; every Q4_0 matrix of the fixture models qualifies). ggml_compute_forward asks
// the extra buffer types first, so its mat-muls run tensor_traits::forward_mul_mat
// (ggml-cpu-aarch64.cpp), never llamafile's tinyBLAS or ggml_vec_dot_q4_0_q8_0:
//   - groups of 4 tokens: ggml_gemm_q4_0_8x8_q8_0 (activations quantized 4 rows at a time by
//     quantize_q8_0_4x8, whose AVX2 form gives the same bytes as quantize_row_q8_0);
//   - the remaining ne11 % 4 tokens, and single tokens: ggml_gemv_q4_0_8x8_q8_0.
// Both AVX2 bodies form, per output and block, the exact integer block sum sumi = Σ (q_w − 8)·q_x
// (lanes of `mul_sum_i8_pairs_int32x8` added in i32) and then one FMA per block,
//
//   acc = fma(f32(sumi), d_w·d_x, acc)           (`_mm256_fmadd_ps(cvtepi32_ps(iacc), col·row, acc)`)
//
// with d_w·d_x the exact f32 product of the two f16 scales; the result is acc, no horizontal sum.
// gemm and gemv agree per output, so a token's result does not depend on the batch. Both twins
// below compute exactly that (fma32: the correctly rounded fused multiply-add).
//
// Not mirrored: a Q4_0 matrix with ne[1] % 8 != 0 is not repacked and would run tinyBLAS_Q0_AVX
// (batches) / ggml_vec_dot_q4_0_q8_0 (one token) — the 8-lane scheme of util/legacy.ts.
import { fp16_to_fp32 } from '../util/fp16';
import { fma32 } from '../util/expf';
import { NIBBLE_MASK, even_i8_to_i16, hsum_i32x4x4, nibbles_hi, nibbles_lo, odd_i8_to_i16 } from '../util/simd';
import {
  QK, block_at, wscales4, scales4x, fma_f32x4_lanes, block_dot_i8, fma32_slow, fma_sum1, half_at, is_f32_tie, nib_hi, nib_lo,
} from '../util/legacy';
import { Q8_0_BYTES, Q8_0X_EXTRA, q8_0x_extras } from './q8_0';
import { x86_fma_relaxed } from '../util/x86';
import { tile_by_tokens } from '../util/tile';

export const Q4_0_BYTES: i32 = 18;

export function dequantize_row_q4_0(x: usize, y: usize, k: i32): void {
  const nb = k / QK;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block_at(x, ib, Q4_0_BYTES);
    const d = fp16_to_fp32(half_at(xb));
    const yb = y + (<usize>(ib * QK) << 2);
    for (let j = 0; j < QK / 2; j++) {
      store<f32>(yb + (<usize>j << 2), <f32>(nib_lo(xb + 2, j) - 8) * d);
      store<f32>(yb + (<usize>(j + QK / 2) << 2), <f32>(nib_hi(xb + 2, j) - 8) * d);
    }
  }
}

/** ggml_gemv/gemm_q4_0_8x8_q8_0 (AVX2) per output, in scalar code: acc = fma(f32(sumi), d_w·d_x, acc) per block */
export function vec_dot_q4_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  return dot_q4_0_q8_0_generic(n, w, Q4_0_BYTES, x);
}

/** vec_dot_q4_0_q8_0_generic of a row whose blocks lie `stride` bytes apart (4·Q4_0_BYTES in the
 *  four-row layout, ops/rows4.ts) */
@inline function dot_q4_0_q8_0_generic(n: i32, w: usize, stride: i32, x: usize): f32 {
  const nb = n / QK;
  let acc: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, stride), xb = block_at(x, ib, Q8_0_BYTES);
    let sumi = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi += (nib_lo(wb + 2, j) - 8) * <i32>load<i8>(xb + 2 + j);
      sumi += (nib_hi(wb + 2, j) - 8) * <i32>load<i8>(xb + 2 + j + QK / 2);
    }
    acc = fma32(<f32>sumi, fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb)), acc);
  }
  return acc;
}

/** The SIMD twin: nibbles − 8 as int8 lanes, the exact block sum in i32x4 lanes, the same FMA per block
 *  (in f64, by fma32 when the f64 sum is an f32 tie, see util/legacy.ts). */
export function vec_dot_q4_0_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  const eight = i8x16.splat(8);
  let acc: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const lo = i8x16.sub(nibbles_lo(qs), eight);
    const hi = i8x16.sub(nibbles_hi(qs), eight);
    const sumi = block_dot_i8(lo, hi, xb + 2);
    // fma32's result without its TwoSum: f32(f64 sum) unless that sum is an f32 tie (util/legacy.ts)
    const d = fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb));
    const s = fma_sum1(d, sumi, acc);
    if (is_f32_tie(s)) acc = fma32_slow(<f32>sumi, d, acc);
    else acc = <f32>s;
  }
  return acc;
}

// ---- four rows at once ----------------------------------------------------------------------------
// Decode is one activation row against every weight row, and a row's blocks form one chain of
// dependent FMAs. vec_dot4_q4_0_q8_0 runs a group of four rows (in the four-row layout of
// ops/rows4.ts, read front to back) side by side over the same activation: the four chains overlap,
// each activation block is unpacked once for four rows, and the four rows' FMAs of a block are one
// pair of f64x2 operations (fma_f32x4_lanes; one relaxed_madd in the relaxed module). Each row's
// result is bit for bit vec_dot_q4_0_q8_0's: the same exact block sums, the same fused multiply-add
// per block. A block is one q4_0_step4, the step the tile kernel below takes for each of its tokens.
//
// Unpacking without widening: read as i16x8, lane k of qs holds bytes 2k and 2k + 1, whose four
// nibbles are elements 2k (bits 0..3), 2k + 16 (4..7), 2k + 1 (8..11) and 2k + 17 (12..15); masks and
// shifts put each in a 16-bit lane of its own, and the activation's even and odd bytes become i16
// lanes by two shifts. The weights' −8 comes out once per block: Σ (q − 8)·x = Σ q·x − 8·Σ x, 8·Σ x
// read from the activation row's extras (q8_0x, q8_0.ts).

/** Σ q·x over one block: `qs` the 16 weight bytes, the activation's 32 quants as i16 lanes of
 *  elements 2k (xe), 2k + 1 (xo), 16 + 2k (xeh), 17 + 2k (xoh); four i32 partial sums */
@inline function nibble_dot(qs: v128, xe: v128, xo: v128, xeh: v128, xoh: v128): v128 {
  const m = i16x8.splat(0x0f);
  const e = i32x4.add(i32x4.dot_i16x8_s(v128.and(qs, m), xe), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(qs, 4), m), xeh));
  const o = i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(qs, 8), m), xo), i32x4.dot_i16x8_s(i16x8.shr_u(qs, 12), xoh));
  return i32x4.add(e, o);
}

/** [Σ (q − 8)·x of block o of rows w0 … w3] against the activation block xb, whose extras (q8_0x) are
 *  at ex: exact i32 */
@inline function block_sums4(w0: usize, w1: usize, w2: usize, w3: usize, o: usize, xb: usize, ex: usize): v128 {
  const xl = v128.load(xb + 2), xh = v128.load(xb + 18);
  const xe = even_i8_to_i16(xl), xo = odd_i8_to_i16(xl), xeh = even_i8_to_i16(xh), xoh = odd_i8_to_i16(xh);
  const sums = hsum_i32x4x4(
    nibble_dot(v128.load(w0 + o + 2), xe, xo, xeh, xoh), nibble_dot(v128.load(w1 + o + 2), xe, xo, xeh, xoh),
    nibble_dot(v128.load(w2 + o + 2), xe, xo, xeh, xoh), nibble_dot(v128.load(w3 + o + 2), xe, xo, xeh, xoh));
  return i32x4.sub(sums, v128.load32_splat(ex, 4));
}

/** out[0..3] = vec_dot_q4_0_q8_0 of the four rows of the four-row group w (ops/rows4.ts) with x */
export function vec_dot4_q4_0_q8_0(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q4_0(false, n, w, x, out);
}

/** the four-row kernel, one block step (q4_0_step4) after another */
@inline function dot4_q4_0(relaxed: bool, n: i32, w: usize, x: usize, out: usize): void {
  const nb = n / QK;
  const m8 = v128.load(NIBBLE_MASK); // the relaxed form's mask, loaded once (V8 would build it anew in every block)
  const ex = q8_0x_extras(x, nb);
  let acc = f32x4.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const b0 = block_at(w, ib, 4 * Q4_0_BYTES), b1 = b0 + Q4_0_BYTES, b2 = b1 + Q4_0_BYTES, b3 = b2 + Q4_0_BYTES;
    acc = q4_0_step4(relaxed, acc, b0, b1, b2, b3, block_at(x, ib, Q8_0_BYTES), ex + <usize>ib * Q8_0X_EXTRA, wscales4(b0, b1, b2, b3, 0), m8);
  }
  v128.store(out, acc);
}

/** The scalar twin of vec_dot4_q4_0_q8_0: the single-row product of each of the group's rows */
export function vec_dot4_q4_0_q8_0_generic(n: i32, w: usize, x: usize, out: usize): void {
  for (let r = 0; r < 4; r++) store<f32>(out + (<usize>r << 2), dot_q4_0_q8_0_generic(n, w + <usize>r * Q4_0_BYTES, 4 * Q4_0_BYTES, x));
}

// ---- four rows by four tokens ---------------------------------------------------------------------
// A batch (prefill) runs every group of four rows over several activation rows. vec_dot4x4_q4_0_q8_0
// takes four of them at once: each block's weight scales are converted and its quants loaded once
// for the four tokens, and the four tokens' chains of FMAs overlap. Each result is bit for bit
// vec_dot4_q4_0_q8_0's (the same block sums and fused multiply-adds, token by token).

/**
 * out + t·outRowBytes [0..3] = vec_dot4_q4_0_q8_0 of the four-row group w with the activation row
 * x + t·xRowBytes, for t = 0 … 3
 */
export function vec_dot4x4_q4_0_q8_0(n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  dot4x4_q4_0(false, n, w, x, xRowBytes, out, outRowBytes);
}

/** The scalar twin of vec_dot4x4_q4_0_q8_0: the four-row twin for each token */
export function vec_dot4x4_q4_0_q8_0_generic(n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  tile_by_tokens(vec_dot4_q4_0_q8_0_generic, n, w, x, xRowBytes, out, outRowBytes);
}

/** vec_dot4x4_q4_0_q8_0 with relaxed SIMD (block sums and FMAs as vec_dot4_q4_0_q8_0_relaxed) */
export function vec_dot4x4_q4_0_q8_0_relaxed(n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  dot4x4_q4_0(true, n, w, x, xRowBytes, out, outRowBytes);
}

@inline function dot4x4_q4_0(relaxed: bool, n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  const nb = n / QK;
  const m8 = v128.load(NIBBLE_MASK); // the relaxed form's mask, loaded once
  const x1 = x + xRowBytes, x2 = x1 + xRowBytes, x3 = x2 + xRowBytes;
  const ex = q8_0x_extras(x, nb) - x; // the extras' offset within a row
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0; // token t: rows 0 … 3
  for (let ib = 0; ib < nb; ib++) {
    const b0 = block_at(w, ib, 4 * Q4_0_BYTES), b1 = b0 + Q4_0_BYTES, b2 = b1 + Q4_0_BYTES, b3 = b2 + Q4_0_BYTES;
    const dw = wscales4(b0, b1, b2, b3, 0);
    const xo = <usize>ib * Q8_0_BYTES, eo = ex + <usize>ib * Q8_0X_EXTRA;
    a0 = q4_0_step4(relaxed, a0, b0, b1, b2, b3, x + xo, x + eo, dw, m8);
    a1 = q4_0_step4(relaxed, a1, b0, b1, b2, b3, x1 + xo, x1 + eo, dw, m8);
    a2 = q4_0_step4(relaxed, a2, b0, b1, b2, b3, x2 + xo, x2 + eo, dw, m8);
    a3 = q4_0_step4(relaxed, a3, b0, b1, b2, b3, x3 + xo, x3 + eo, dw, m8);
  }
  v128.store(out, a0);
  v128.store(out + outRowBytes, a1);
  v128.store(out + 2 * outRowBytes, a2);
  v128.store(out + 3 * outRowBytes, a3);
}

/** one block of four rows against the activation block xb (extras at ex): acc = fma(d_w·d_x,
 *  Σ (q − 8)·x, acc) per row, `dw` the rows' weight scales (wscales4) */
@inline function q4_0_step4(relaxed: bool, acc: v128, b0: usize, b1: usize, b2: usize, b3: usize, xb: usize, ex: usize, dw: v128, m8: v128): v128 {
  const d = scales4x(dw, ex);
  if (relaxed) return x86_fma_relaxed(acc, d, block_sums4_relaxed(b0, b1, b2, b3, 0, xb, ex, m8));
  return fma_f32x4_lanes(acc, d, block_sums4(b0, b1, b2, b3, 0, xb, ex));
}

// ---- relaxed SIMD (the kernels-relaxed module, chosen at load where the runtime has relaxed SIMD
// and its relaxed_madd is fused; src/wasm/instance.ts) ---------------------------------------------
// The nibbles (0 … 15) are 7-bit, so the integer block sums take the i8 dot product:
// i16x8.relaxed_dot_i8x16_i7x16_s(x, q) is Σ of two products x·q per i16 lane, exact (|·| ≤ 2·128·15)
// on every implementation (pmaddubsw on x86), and the four rows' fused multiply-adds of a block are
// one f32x4.relaxed_madd (fused on x86 with FMA3, checked at load) instead of the f64 emulation.
// Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's baseline compiler (Liftoff, V8 11.3, with
// --experimental-wasm-relaxed-simd) adds its accumulator operand twice — other sums than its
// optimizing tier for the same code (V8 12.4, Node 22, agrees in both tiers).

/** Σ q·x over one block as four i32 partial sums: `qs` the 16 weight bytes, xl / xh the activation's
 *  quants of elements 0 … 15 / 16 … 31 (low / high nibbles); m8: 0x0f in every byte */
@inline function nibble_dot_relaxed(qs: v128, xl: v128, xh: v128, m8: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const lo = i16x8.relaxed_dot_i8x16_i7x16_s(xl, v128.and(qs, m8));
    const hi = i16x8.relaxed_dot_i8x16_i7x16_s(xh, v128.and(i16x8.shr_u(qs, 4), m8));
    return i32x4.extadd_pairwise_i16x8_s(i16x8.add(lo, hi)); // |lo + hi| ≤ 4·128·15 fits i16
  }
  return unreachable();
}

/** block_sums4 by the i8 dot product: [Σ (q − 8)·x of block o of rows w0 … w3], exact i32 */
@inline function block_sums4_relaxed(w0: usize, w1: usize, w2: usize, w3: usize, o: usize, xb: usize, ex: usize, m8: v128): v128 {
  const xl = v128.load(xb + 2), xh = v128.load(xb + 18);
  const sums = hsum_i32x4x4(
    nibble_dot_relaxed(v128.load(w0 + o + 2), xl, xh, m8), nibble_dot_relaxed(v128.load(w1 + o + 2), xl, xh, m8),
    nibble_dot_relaxed(v128.load(w2 + o + 2), xl, xh, m8), nibble_dot_relaxed(v128.load(w3 + o + 2), xl, xh, m8));
  return i32x4.sub(sums, v128.load32_splat(ex, 4));
}

/** vec_dot4_q4_0_q8_0 with relaxed SIMD (identical results where relaxed_madd is fused) */
export function vec_dot4_q4_0_q8_0_relaxed(n: i32, w: usize, x: usize, out: usize): void {
  dot4_q4_0(true, n, w, x, out);
}
