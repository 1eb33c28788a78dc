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
  LEG_ACC, LEG_ACC2, LEG_Q, QK, acc_add, acc_clear, block_at, block_dot_i8, f32_ties4, fma_block, fma_pair_exact, fma_sum,
  fma32_slow, fma_sum1, half_at, hsum8, hsum8_f64x2, is_f32_tie, nib_hi, nib_lo, quads, round_pair, upper_pair,
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

/** two f32 accumulators held in f64x2, added: f32(f64 sum) is the f32 sum (53 ≥ 2·24 + 2 bits, so no double rounding) */
@inline function add_f32(a: v128, b: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.add(a, b)));
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

/** The SIMD twin: grid values by swizzle, quads, two sets of accumulators with the FMAs in f64x2 pairs (fma_sum, see util/legacy.ts). */
export function vec_dot_iq4_nl_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let a01 = f64x2.splat(0), a23 = f64x2.splat(0), a45 = f64x2.splat(0), a67 = f64x2.splat(0);
  let b01 = f64x2.splat(0), b23 = f64x2.splat(0), b45 = f64x2.splat(0), b67 = f64x2.splat(0);
  let ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const wb1 = block_at(w, ib, IQ4_NL_BYTES), xb1 = block_at(x, ib, Q8_0_BYTES);
    const wb2 = block_at(w, ib + 1, IQ4_NL_BYTES), xb2 = block_at(x, ib + 1, Q8_0_BYTES);
    const qs1 = v128.load(wb1 + 2), qs2 = v128.load(wb2 + 2);
    const d1 = f64x2.splat(<f64>scale(wb1, xb1)), d2 = f64x2.splat(<f64>scale(wb2, xb2));
    const l1 = quads(iq4_values(nibbles_lo(qs1)), v128.load(xb1 + 2)), h1 = quads(iq4_values(nibbles_hi(qs1)), v128.load(xb1 + 18));
    const l2 = quads(iq4_values(nibbles_lo(qs2)), v128.load(xb2 + 2)), h2 = quads(iq4_values(nibbles_hi(qs2)), v128.load(xb2 + 18));
    const as01 = fma_sum(a01, d1, l1), as23 = fma_sum(a23, d1, upper_pair(l1));
    const as45 = fma_sum(a45, d1, h1), as67 = fma_sum(a67, d1, upper_pair(h1));
    if (v128.any_true(v128.or(f32_ties4(as01, as23), f32_ties4(as45, as67)))) {
      a01 = fma_pair_exact(a01, d1, l1); a23 = fma_pair_exact(a23, d1, upper_pair(l1));
      a45 = fma_pair_exact(a45, d1, h1); a67 = fma_pair_exact(a67, d1, upper_pair(h1));
    } else {
      a01 = round_pair(as01); a23 = round_pair(as23); a45 = round_pair(as45); a67 = round_pair(as67);
    }
    const bs01 = fma_sum(b01, d2, l2), bs23 = fma_sum(b23, d2, upper_pair(l2));
    const bs45 = fma_sum(b45, d2, h2), bs67 = fma_sum(b67, d2, upper_pair(h2));
    if (v128.any_true(v128.or(f32_ties4(bs01, bs23), f32_ties4(bs45, bs67)))) {
      b01 = fma_pair_exact(b01, d2, l2); b23 = fma_pair_exact(b23, d2, upper_pair(l2));
      b45 = fma_pair_exact(b45, d2, h2); b67 = fma_pair_exact(b67, d2, upper_pair(h2));
    } else {
      b01 = round_pair(bs01); b23 = round_pair(bs23); b45 = round_pair(bs45); b67 = round_pair(bs67);
    }
  }
  // accum1 + accum2 lane-wise in f32, then hsum_float_8
  let sumf = hsum8_f64x2(add_f32(a01, b01), add_f32(a23, b23), add_f32(a45, b45), add_f32(a67, b67));
  if (ib < nb) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const sumi = block_dot_i8(iq4_values(nibbles_lo(qs)), iq4_values(nibbles_hi(qs)), xb + 2);
    const s = fma_sum1(scale(wb, xb), sumi, sumf);
    sumf = is_f32_tie(s) ? fma32_slow(scale(wb, xb), <f32>sumi, sumf) : <f32>s;
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
  let a01 = f64x2.splat(0), a23 = f64x2.splat(0), a45 = f64x2.splat(0), a67 = f64x2.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const dd = f64x2.splat(<f64>scale(wb, xb));
    const lo = quads(iq4_values(nibbles_lo(qs)), v128.load(xb + 2)), hi = quads(iq4_values(nibbles_hi(qs)), v128.load(xb + 18));
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
