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
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { QK, block_at, block_dot_i8, fma32_slow, fma_sum1, half_at, is_f32_tie, nib_hi, nib_lo } from '../util/legacy';
import { Q8_0_BYTES } from './q8_0';

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
  const nb = n / QK;
  let acc: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
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
