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
// with the precomputed s. ggml's scalar reference (ggml_vec_dot_q4_1_q8_1_generic), per block, in f32:
//
//   sumf += (d_w · d_x) · f32(sumi) + m_w · s_x
//
// i.e. t = f32(f32(d_w·d_x)·sumi) + f32(m_w·s_x) rounded, then sumf = f32(sumf + t), block after block.
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { QK, block_at, block_dot_i8, half_at, nib_hi, nib_lo } from '../util/legacy';
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

/** the per-block float step both twins share: (d_w·d_x)·sumi + m_w·s_x */
@inline function block_term(wb: usize, xb: usize, sumi: i32): f32 {
  const dd = fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb));
  return dd * <f32>sumi + fp16_to_fp32(half_at(wb + 2)) * fp16_to_fp32(half_at(xb + 2));
}

/** ggml_vec_dot_q4_1_q8_1_generic: sumf += (d_w·d_x)·sumi + m_w·s_x per block, in block order. */
export function vec_dot_q4_1_q8_1_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_1_BYTES), xb = block_at(x, ib, Q8_1_BYTES);
    let sumi0 = 0, sumi1 = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi0 += nib_lo(wb + 4, j) * <i32>load<i8>(xb + 4 + j);
      sumi1 += nib_hi(wb + 4, j) * <i32>load<i8>(xb + 4 + j + QK / 2);
    }
    sumf += block_term(wb, xb, sumi0 + sumi1);
  }
  return sumf;
}

/** The SIMD twin: nibbles (0..15) as int8 lanes, the integer dot in i32x4 lanes, the same float steps. */
export function vec_dot_q4_1_q8_1(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_1_BYTES), xb = block_at(x, ib, Q8_1_BYTES);
    const qs = v128.load(wb + 4);
    sumf += block_term(wb, xb, block_dot_i8(nibbles_lo(qs), nibbles_hi(qs), xb + 4));
  }
  return sumf;
}
