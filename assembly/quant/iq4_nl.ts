// IQ4_NL — blocks of 32 weights, 18 bytes, 4.5 bits per weight (ggml `block_iq4_nl`):
//
//   byte 0..1   d       f16 scale
//   byte 2..17  qs[16]  4-bit indices into the non-linear grid kvalues_iq4nl (util/iq4.ts), two per byte:
//                       qs[j] & 0x0F → element j,  qs[j] >> 4 → element j + 16   (j = 0..15)
//
//   value[i] = d · kvalues_iq4nl[idx[i]]            grid: −127 −104 −83 −65 −49 −35 −22 −10 1 13 25 38 53 69 89 113
//
// Same block shape as Q4_0; only the nibble → integer map differs (a table instead of q − 8).
//
// Activation format: Q8_0.
//
// ---- the dot product: llama.cpp's x86 order -------------------------------------------------------
// llama.cpp c392e50's x86 CPU backend (AVX-512 build, -march=native; IQ4_NL is repacked only on ARM)
// has two kernels for IQ4_NL, and they do NOT agree bit for bit:
//   - one token (and every mat-mul of a 1-token batch; llamafile_sgemm declines n < 2):
//     ggml_vec_dot_iq4_nl_q8_0, `__AVX2__` branch (ggml-cpu-quants.c). Blocks are taken in pairs
//     (ib, ib + 1) with two accumulators, lanes as in util/legacy.ts (`mul_add_epi8` then
//     `_mm256_madd_epi16(·, 1)`: 4 consecutive products; grid values via `_mm_shuffle_epi8`):
//
//       accum1[k] = fma(d_x·d_w, f32(L_ib[k]),     accum1[k])
//       accum2[k] = fma(d_x·d_w, f32(L_ib+1[k]),   accum2[k])
//       sumf = hsum_float_8(accum1 + accum2)         (lane-wise f32 add, then the usual hsum)
//
//     and, for an odd block count, the last block in scalar code: sumf += d·f32(sumi), which the
//     compiler contracts to fma(d, f32(sumi), sumf) (GCC's default -ffp-contract=fast; clang's
//     -ffp-contract=on does the same for this one expression).
//   - a batch of ≥ 2 tokens: tinyBLAS_Q0_AVX<block_iq4_nl, block_q8_0, float> (llamafile/sgemm.cpp):
//     one 8-lane accumulator over all blocks, then hsum — the scheme of Q8_0/Q5_0.
// vec_dot_iq4_nl_q8_0 mirrors ggml_vec_dot_iq4_nl_q8_0 (the one-token product; the only reference
// with IQ4_NL weights, TinyStories-656K-Q2_K — layer matrices IQ4_NL because 128/384 columns are no
// multiple of 256 — has a 1-token prompt and continues token by token, so every IQ4_NL product
// llama.cpp made for it went through that function), and vec_dot_iq4_nl_q8_0_tinyblas mirrors
// tinyBLAS_Q0_AVX for batches of ≥ 2 tokens. The two differ in the last bits (the even/odd split
// of the accumulator), about one f32 rounding per output.
import { fp16_to_fp32 } from '../util/fp16';
import { fma32 } from '../util/expf';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { iq4_value, iq4_values } from '../util/iq4';
import {
  LEG_ACC, LEG_ACC2, LEG_Q, QK, acc_add, acc_clear, block_at, block_dot_i8, fma_block, fma_lanes4, half_at, hsum8,
  hsum8_f32x4, nib_hi, nib_lo, quads,
} from '../util/legacy';
import { Q8_0_BYTES } from './q8_0';

export const IQ4_NL_BYTES: i32 = 18;

export function dequantize_row_iq4_nl(x: usize, y: usize, k: i32): void {
  const nb = k / QK;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block_at(x, ib, IQ4_NL_BYTES);
    const d = fp16_to_fp32(half_at(xb));
    const yb = y + (<usize>(ib * QK) << 2);
    for (let j = 0; j < QK / 2; j++) {
      store<f32>(yb + (<usize>j << 2), d * <f32>iq4_value(nib_lo(xb + 2, j)));
      store<f32>(yb + (<usize>(j + QK / 2) << 2), d * <f32>iq4_value(nib_hi(xb + 2, j)));
    }
  }
}

/** the 32 grid values of a block, in element order, into LEG_Q */
@inline function unpack_iq4(wb: usize): void {
  for (let j = 0; j < QK / 2; j++) {
    store<i8>(LEG_Q + j, <i8>iq4_value(nib_lo(wb + 2, j)));
    store<i8>(LEG_Q + j + QK / 2, <i8>iq4_value(nib_hi(wb + 2, j)));
  }
}

/** d_x·d_w of block ib */
@inline function scale(wb: usize, xb: usize): f32 {
  return fp16_to_fp32(half_at(xb)) * fp16_to_fp32(half_at(wb));
}

/** ggml_vec_dot_iq4_nl_q8_0 (AVX2) in scalar code: even/odd blocks into two 8-lane accumulators, hsum_float_8 of their sum, FMA tail */
export function vec_dot_iq4_nl_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  acc_clear(LEG_ACC);
  acc_clear(LEG_ACC2);
  let ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const wb1 = block_at(w, ib, IQ4_NL_BYTES), xb1 = block_at(x, ib, Q8_0_BYTES);
    const wb2 = block_at(w, ib + 1, IQ4_NL_BYTES), xb2 = block_at(x, ib + 1, Q8_0_BYTES);
    unpack_iq4(wb1);
    fma_block(LEG_ACC, scale(wb1, xb1), LEG_Q, xb1 + 2);
    unpack_iq4(wb2);
    fma_block(LEG_ACC2, scale(wb2, xb2), LEG_Q, xb2 + 2);
  }
  acc_add(LEG_ACC, LEG_ACC2);
  let sumf = hsum8(LEG_ACC);
  for (; ib < nb; ib++) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    let sumi = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi += <i32>load<i8>(xb + 2 + j) * iq4_value(nib_lo(wb + 2, j));
      sumi += <i32>load<i8>(xb + 2 + j + QK / 2) * iq4_value(nib_hi(wb + 2, j));
    }
    sumf = fma32(scale(wb, xb), <f32>sumi, sumf);
  }
  return sumf;
}

/** The SIMD twin: grid values by swizzle, quads, two accumulator pairs with the FMAs in f64x2 (fma_lanes4). */
export function vec_dot_iq4_nl_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let a1_lo = f32x4.splat(0), a1_hi = f32x4.splat(0), a2_lo = f32x4.splat(0), a2_hi = f32x4.splat(0);
  let ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const wb1 = block_at(w, ib, IQ4_NL_BYTES), xb1 = block_at(x, ib, Q8_0_BYTES);
    const wb2 = block_at(w, ib + 1, IQ4_NL_BYTES), xb2 = block_at(x, ib + 1, Q8_0_BYTES);
    const qs1 = v128.load(wb1 + 2), qs2 = v128.load(wb2 + 2);
    const d1 = f64x2.splat(<f64>scale(wb1, xb1)), d2 = f64x2.splat(<f64>scale(wb2, xb2));
    a1_lo = fma_lanes4(a1_lo, d1, quads(iq4_values(nibbles_lo(qs1)), v128.load(xb1 + 2)));
    a1_hi = fma_lanes4(a1_hi, d1, quads(iq4_values(nibbles_hi(qs1)), v128.load(xb1 + 18)));
    a2_lo = fma_lanes4(a2_lo, d2, quads(iq4_values(nibbles_lo(qs2)), v128.load(xb2 + 2)));
    a2_hi = fma_lanes4(a2_hi, d2, quads(iq4_values(nibbles_hi(qs2)), v128.load(xb2 + 18)));
  }
  let sumf = hsum8_f32x4(f32x4.add(a1_lo, a2_lo), f32x4.add(a1_hi, a2_hi));
  if (ib < nb) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const sumi = block_dot_i8(iq4_values(nibbles_lo(qs)), iq4_values(nibbles_hi(qs)), xb + 2);
    sumf = fma32(scale(wb, xb), <f32>sumi, sumf);
  }
  return sumf;
}

/** tinyBLAS_Q0_AVX<block_iq4_nl> (batches of ≥ 2 tokens) in scalar code: one 8-lane accumulator, hsum_float_8 */
export function vec_dot_iq4_nl_q8_0_tinyblas_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  acc_clear(LEG_ACC);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    unpack_iq4(wb);
    // tinyBLAS forms unhalf(A.d)·unhalf(B.d) = d_w·d_x, the same f32 as d_x·d_w
    fma_block(LEG_ACC, scale(wb, xb), LEG_Q, xb + 2);
  }
  return hsum8(LEG_ACC);
}

/** The SIMD twin of vec_dot_iq4_nl_q8_0_tinyblas_generic. */
export function vec_dot_iq4_nl_q8_0_tinyblas(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let acc_lo = f32x4.splat(0), acc_hi = f32x4.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const dd = f64x2.splat(<f64>scale(wb, xb));
    acc_lo = fma_lanes4(acc_lo, dd, quads(iq4_values(nibbles_lo(qs)), v128.load(xb + 2)));
    acc_hi = fma_lanes4(acc_hi, dd, quads(iq4_values(nibbles_hi(qs)), v128.load(xb + 18)));
  }
  return hsum8_f32x4(acc_lo, acc_hi);
}
