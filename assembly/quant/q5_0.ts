// Q5_0 — blocks of 32 weights, 22 bytes, 5.5 bits per weight (ggml `block_q5_0`):
//
//   byte 0..1   d       f16 scale
//   byte 2..5   qh[4]   bit 4 of each quant, read as one little-endian u32: bit j → element j (j = 0..31)
//   byte 6..21  qs[16]  low 4 bits, two per byte:
//                       qs[j] & 0x0F → element j,  qs[j] >> 4 → element j + 16   (j = 0..15)
//
//   q[i] = low4[i] | (((qh >> i) & 1) << 4)         q in 0..31
//   value[i] = d · (q[i] − 16)                      q − 16 in −16..15
//
// (The block is 22 bytes, so qh and qs are only 2-byte aligned within a row.)
//
// Activation format: Q8_0.
//
// ---- the dot product: llama.cpp's x86 order -------------------------------------------------------
// llama.cpp c392e50's x86 CPU backend (AVX-512 build, -march=native; Q5_0 is not repacked on x86):
//   - a batch of ≥ 2 tokens: llamafile_sgemm → tinyBLAS_Q0_AVX<block_q5_0, block_q8_0, float>
//     (llamafile/sgemm.cpp; load(block_q5_0) = denibble | bittobyte gives q − 16 as int8 in element
//     order): per output Cv = madd(set1(d_w·d_x), updot(sign(w, w), sign(x, w)), Cv), then hsum(Cv);
//   - one token (llamafile_sgemm declines n < 2): ggml_vec_dot_q5_0_q8_0, `__AVX2__` branch:
//     acc = fmadd(set1(d_w·d_x), mul_sum_i8_pairs_float(q − 16, x), acc), then hsum_float_8(acc).
// Both are the 8-lane scheme of util/legacy.ts, per block acc[k] = fma(d_w·d_x, f32(L[k]), acc[k])
// and hsum_float_8 at the end, with the same lanes and order: a token's result does not depend on
// the batch. Both twins below compute exactly that.
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import {
  LEG_ACC, LEG_Q, QK, acc_clear, block_at, f32_ties4, fma_block, fma_pair_exact, fma_sum, half_at, high_bit, high_bits_16,
  hsum8, hsum8_f64x2, nib_hi, nib_lo, qh_at, quads, round_pair, upper_pair,
} from '../util/legacy';
import { Q8_0_BYTES } from './q8_0';

export const Q5_0_BYTES: i32 = 22;

/** the 5-bit quant of element j (and j + 16) as ggml assembles it */
@inline function q5_lo(xb: usize, qh: u32, j: i32): i32 { return nib_lo(xb + 6, j) | high_bit(qh, j); }
@inline function q5_hi(xb: usize, qh: u32, j: i32): i32 { return nib_hi(xb + 6, j) | high_bit(qh, j + 16); }

export function dequantize_row_q5_0(x: usize, y: usize, k: i32): void {
  const nb = k / QK;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block_at(x, ib, Q5_0_BYTES);
    const d = fp16_to_fp32(half_at(xb));
    const qh = qh_at(xb + 2);
    const yb = y + (<usize>(ib * QK) << 2);
    for (let j = 0; j < QK / 2; j++) {
      store<f32>(yb + (<usize>j << 2), <f32>(q5_lo(xb, qh, j) - 16) * d);
      store<f32>(yb + (<usize>(j + QK / 2) << 2), <f32>(q5_hi(xb, qh, j) - 16) * d);
    }
  }
}

/** tinyBLAS_Q0_AVX / ggml_vec_dot_q5_0_q8_0 (AVX2) in scalar code: acc[k] = fma(d_w·d_x, L[k], acc[k]), hsum_float_8 */
export function vec_dot_q5_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  acc_clear(LEG_ACC);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q5_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qh = qh_at(wb + 2);
    for (let j = 0; j < QK / 2; j++) {
      store<i8>(LEG_Q + j, <i8>(q5_lo(wb, qh, j) - 16));
      store<i8>(LEG_Q + j + QK / 2, <i8>(q5_hi(wb, qh, j) - 16));
    }
    fma_block(LEG_ACC, fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb)), LEG_Q, xb + 2);
  }
  return hsum8(LEG_ACC);
}

/** The SIMD twin: (nibble | bit-4 plane) − 16 as int8 lanes, quads, the FMAs in f64x2 (fma_sum, see util/legacy.ts). */
export function vec_dot_q5_0_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  const sixteen = i8x16.splat(16);
  let a01 = f64x2.splat(0), a23 = f64x2.splat(0), a45 = f64x2.splat(0), a67 = f64x2.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q5_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qh = qh_at(wb + 2);
    const qs = v128.load(wb + 6);
    const lo = i8x16.sub(v128.or(nibbles_lo(qs), high_bits_16(qh & 0xffff)), sixteen);
    const hi = i8x16.sub(v128.or(nibbles_hi(qs), high_bits_16(qh >> 16)), sixteen);
    const dd = f64x2.splat(<f64>(fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb))));
    const ql = quads(lo, v128.load(xb + 2)), qh2 = quads(hi, v128.load(xb + 18));
    const as01 = fma_sum(a01, dd, ql), as23 = fma_sum(a23, dd, upper_pair(ql));
    const as45 = fma_sum(a45, dd, qh2), as67 = fma_sum(a67, dd, upper_pair(qh2));
    if (v128.any_true(v128.or(f32_ties4(as01, as23), f32_ties4(as45, as67)))) {
      a01 = fma_pair_exact(a01, dd, ql); a23 = fma_pair_exact(a23, dd, upper_pair(ql));
      a45 = fma_pair_exact(a45, dd, qh2); a67 = fma_pair_exact(a67, dd, upper_pair(qh2));
    } else {
      a01 = round_pair(as01); a23 = round_pair(as23); a45 = round_pair(as45); a67 = round_pair(as67);
    }
  }
  return hsum8_f64x2(a01, a23, a45, a67);
}
