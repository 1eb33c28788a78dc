// Q5_1 — blocks of 32 weights, 24 bytes, 6 bits per weight (ggml `block_q5_1`):
//
//   byte 0..1   d       f16 scale
//   byte 2..3   m       f16 offset (the block minimum)
//   byte 4..7   qh[4]   bit 4 of each quant, read as one little-endian u32: bit j → element j (j = 0..31)
//   byte 8..23  qs[16]  low 4 bits, two per byte:
//                       qs[j] & 0x0F → element j,  qs[j] >> 4 → element j + 16   (j = 0..15)
//
//   q[i] = low4[i] | (((qh >> i) & 1) << 4)         q in 0..31
//   value[i] = d · q[i] + m                         f32 product, then f32 sum
//
// Activation format: Q8_1 (d, s = d·Σq_x, 32 int8). ggml's scalar reference
// (ggml_vec_dot_q5_1_q8_1_generic), per block, in f32 — the same expression as Q4_1:
//
//   sumf += (d_w · d_x) · f32(sumi) + m_w · s_x
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { QK, block_at, block_dot_i8, half_at, high_bit, high_bits_16, nib_hi, nib_lo, qh_at } from '../util/legacy';
import { Q8_1_BYTES } from './q8_1';

export const Q5_1_BYTES: i32 = 24;

/** the 5-bit quant of element j (and j + 16) as ggml assembles it */
@inline function q5_lo(xb: usize, qh: u32, j: i32): i32 { return nib_lo(xb + 8, j) | high_bit(qh, j); }
@inline function q5_hi(xb: usize, qh: u32, j: i32): i32 { return nib_hi(xb + 8, j) | high_bit(qh, j + 16); }

export function dequantize_row_q5_1(x: usize, y: usize, k: i32): void {
  const nb = k / QK;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block_at(x, ib, Q5_1_BYTES);
    const d = fp16_to_fp32(half_at(xb));
    const m = fp16_to_fp32(half_at(xb + 2));
    const qh = qh_at(xb + 4);
    const yb = y + (<usize>(ib * QK) << 2);
    for (let j = 0; j < QK / 2; j++) {
      store<f32>(yb + (<usize>j << 2), <f32>q5_lo(xb, qh, j) * d + m);
      store<f32>(yb + (<usize>(j + QK / 2) << 2), <f32>q5_hi(xb, qh, j) * d + m);
    }
  }
}

/** the per-block float step both twins share: (d_w·d_x)·sumi + m_w·s_x */
@inline function block_term(wb: usize, xb: usize, sumi: i32): f32 {
  const dd = fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb));
  return dd * <f32>sumi + fp16_to_fp32(half_at(wb + 2)) * fp16_to_fp32(half_at(xb + 2));
}

/** ggml_vec_dot_q5_1_q8_1_generic: sumf += (d_w·d_x)·sumi + m_w·s_x per block, in block order. */
export function vec_dot_q5_1_q8_1_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q5_1_BYTES), xb = block_at(x, ib, Q8_1_BYTES);
    const qh = qh_at(wb + 4);
    let sumi0 = 0, sumi1 = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi0 += q5_lo(wb, qh, j) * <i32>load<i8>(xb + 4 + j);
      sumi1 += q5_hi(wb, qh, j) * <i32>load<i8>(xb + 4 + j + QK / 2);
    }
    sumf += block_term(wb, xb, sumi0 + sumi1);
  }
  return sumf;
}

/** The SIMD twin: nibble | bit-4 plane (0..31) as int8 lanes, the integer dot in i32x4 lanes. */
export function vec_dot_q5_1_q8_1(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q5_1_BYTES), xb = block_at(x, ib, Q8_1_BYTES);
    const qh = qh_at(wb + 4);
    const qs = v128.load(wb + 8);
    const lo = v128.or(nibbles_lo(qs), high_bits_16(qh & 0xffff));
    const hi = v128.or(nibbles_hi(qs), high_bits_16(qh >> 16));
    sumf += block_term(wb, xb, block_dot_i8(lo, hi, xb + 4));
  }
  return sumf;
}
