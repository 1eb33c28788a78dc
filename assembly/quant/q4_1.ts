// Q4_1 — blocks of 32 weights, 20 bytes, 5 bits per weight (ggml `block_q4_1`):
//
//   byte 0..1   d       f16 scale
//   byte 2..3   m       f16 offset (the block minimum)
//   byte 4..19  qs[16]  4-bit quants, two per byte:
//                       qs[j] & 0x0F → element j,  qs[j] >> 4 → element j + 16   (j = 0..15)
//
//   value[i] = d · q[i] + m                         q[i] in 0..15; f32 product, then f32 sum
//
// Activation format: Q8_1 (see q8_1.ts: d, s = d·Σq_x, 32 int8). Since
// Σ (d_w·q_w + m_w)·(d_x·q_x) = d_w·d_x·Σ q_w·q_x + m_w·(d_x·Σ q_x), the offset costs one product
// with the precomputed s.
//
// ---- the dot product: llama.cpp's x86 order -------------------------------------------------------
// llama.cpp c392e50's x86 CPU backend has no other kernel for Q4_1: it is not repacked
// (ggml-cpu-aarch64.cpp repacks only Q4_0 on x86) and llamafile_sgemm has no Q4_1 case, so batches
// and single tokens alike run ggml_vec_dot_q4_1_q8_1, `__AVX2__` branch (ggml-cpu-quants.c), once per
// (row, token) — a token's result does not depend on the batch. Per block, with the 8-lane scheme of
// util/legacy.ts (L[k]: 4 consecutive products, `mul_sum_us8_pairs_float`, weights unsigned):
//
//   acc[k] = fma(d_w·d_x, f32(L[k]), acc[k])      (`_mm256_fmadd_ps(d0d1, xy, acc)`)
//   summs  = summs + m_w·s_x                      (f32; the product of two f16 values is exact)
//
// and at the end  result = hsum_float_8(acc) + summs. Both twins below compute exactly that.
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import {
  LEG_ACC, LEG_Q, QK, acc_clear, block_at, f32_ties4, fma_block, fma_pair_exact, fma_sum, half_at, hsum8, hsum8_f64x2,
  nib_hi, nib_lo, quads, round_pair, upper_pair,
} from '../util/legacy';
import { Q8_1_BYTES } from './q8_1';

export const Q4_1_BYTES: i32 = 20;

export function dequantize_row_q4_1(x: usize, y: usize, k: i32): void {
  const nb = k / QK;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block_at(x, ib, Q4_1_BYTES);
    const d = fp16_to_fp32(half_at(xb));
    const m = fp16_to_fp32(half_at(xb + 2));
    const yb = y + (<usize>(ib * QK) << 2);
    for (let j = 0; j < QK / 2; j++) {
      store<f32>(yb + (<usize>j << 2), <f32>nib_lo(xb + 4, j) * d + m);
      store<f32>(yb + (<usize>(j + QK / 2) << 2), <f32>nib_hi(xb + 4, j) * d + m);
    }
  }
}

/** m_w·s_x of one block (exact in f32) */
@inline function min_term(wb: usize, xb: usize): f32 {
  return fp16_to_fp32(half_at(wb + 2)) * fp16_to_fp32(half_at(xb + 2));
}

/** ggml_vec_dot_q4_1_q8_1 (AVX2) in scalar code: acc[k] = fma(d_w·d_x, L[k], acc[k]), summs += m_w·s_x, hsum_float_8(acc) + summs */
export function vec_dot_q4_1_q8_1_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  acc_clear(LEG_ACC);
  let summs: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_1_BYTES), xb = block_at(x, ib, Q8_1_BYTES);
    summs += min_term(wb, xb);
    for (let j = 0; j < QK / 2; j++) {
      store<i8>(LEG_Q + j, <i8>nib_lo(wb + 4, j));
      store<i8>(LEG_Q + j + QK / 2, <i8>nib_hi(wb + 4, j));
    }
    fma_block(LEG_ACC, fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb)), LEG_Q, xb + 4);
  }
  return hsum8(LEG_ACC) + summs;
}

/** The SIMD twin: the 8 lanes as two i32x4 of quads, the FMAs in f64x2 (fma_sum, see util/legacy.ts), the same sums. */
export function vec_dot_q4_1_q8_1(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let a01 = f64x2.splat(0), a23 = f64x2.splat(0), a45 = f64x2.splat(0), a67 = f64x2.splat(0);
  let summs: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_1_BYTES), xb = block_at(x, ib, Q8_1_BYTES);
    summs += min_term(wb, xb);
    const qs = v128.load(wb + 4);
    const lo = nibbles_lo(qs), hi = nibbles_hi(qs);
    const dd = f64x2.splat(<f64>(fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb))));
    const ql = quads(lo, v128.load(xb + 4)), qh2 = quads(hi, v128.load(xb + 20));
    const as01 = fma_sum(a01, dd, ql), as23 = fma_sum(a23, dd, upper_pair(ql));
    const as45 = fma_sum(a45, dd, qh2), as67 = fma_sum(a67, dd, upper_pair(qh2));
    if (v128.any_true(v128.or(f32_ties4(as01, as23), f32_ties4(as45, as67)))) {
      a01 = fma_pair_exact(a01, dd, ql); a23 = fma_pair_exact(a23, dd, upper_pair(ql));
      a45 = fma_pair_exact(a45, dd, qh2); a67 = fma_pair_exact(a67, dd, upper_pair(qh2));
    } else {
      a01 = round_pair(as01); a23 = round_pair(as23); a45 = round_pair(as45); a67 = round_pair(as67);
    }
  }
  return hsum8_f64x2(a01, a23, a45, a67) + summs;
}
