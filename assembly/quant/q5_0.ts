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
// Activation format: Q8_0. ggml's scalar reference (ggml_vec_dot_q5_0_q8_0_generic), per block, in f32:
//
//   sumf += (d_w · d_x) · f32(sumi)
//
// — note the scale product is formed first here, unlike Q4_0's (sumi·d_w)·d_x.
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { QK, block_at, block_dot_i8, half_at, high_bit, high_bits_16, nib_hi, nib_lo, qh_at } from '../util/legacy';
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

/** ggml_vec_dot_q5_0_q8_0_generic: sumf += (d_w·d_x)·sumi per block, in block order. */
export function vec_dot_q5_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q5_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qh = qh_at(wb + 2);
    let sumi0 = 0, sumi1 = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi0 += (q5_lo(wb, qh, j) - 16) * <i32>load<i8>(xb + 2 + j);
      sumi1 += (q5_hi(wb, qh, j) - 16) * <i32>load<i8>(xb + 2 + j + QK / 2);
    }
    sumf += (fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb))) * <f32>(sumi0 + sumi1);
  }
  return sumf;
}

/** The SIMD twin: (nibble | bit-4 plane) − 16 as int8 lanes, the integer dot in i32x4 lanes. */
export function vec_dot_q5_0_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  const sixteen = i8x16.splat(16);
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q5_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qh = qh_at(wb + 2);
    const qs = v128.load(wb + 6);
    const lo = i8x16.sub(v128.or(nibbles_lo(qs), high_bits_16(qh & 0xffff)), sixteen);
    const hi = i8x16.sub(v128.or(nibbles_hi(qs), high_bits_16(qh >> 16)), sixteen);
    const sumi = block_dot_i8(lo, hi, xb + 2);
    sumf += (fp16_to_fp32(half_at(wb)) * fp16_to_fp32(half_at(xb))) * <f32>sumi;
  }
  return sumf;
}
