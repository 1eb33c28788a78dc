// Q4_0 — blocks of 32 weights, 18 bytes, 4.5 bits per weight (ggml `block_q4_0`):
//
//   byte 0..1   d       f16 scale
//   byte 2..17  qs[16]  4-bit quants, two per byte:
//                       qs[j] & 0x0F → element j,  qs[j] >> 4 → element j + 16   (j = 0..15)
//
//   value[i] = d · (q[i] − 8)                       q[i] in 0..15, so q − 8 in −8..7
//
// Activation format: Q8_0 (ggml's vec_dot_type for Q4_0). Per block, ggml's scalar reference
// (ggml_vec_dot_q4_0_q8_0_generic) forms sumi = Σ (q_w − 8)·q_x in int and then, in f32,
//
//   sumf += (f32(sumi) · d_w) · d_x           (left to right, as the C expression sumi*d_w*d_x)
//
// block after block. Both twins below evaluate exactly that expression in that order.
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { QK, block_at, block_dot_i8, half_at, nib_hi, nib_lo } from '../util/legacy';
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

/** ggml_vec_dot_q4_0_q8_0_generic: sumf += (f32(sumi)·d_w)·d_x per block, in block order. */
export function vec_dot_q4_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    let sumi0 = 0, sumi1 = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi0 += (nib_lo(wb + 2, j) - 8) * <i32>load<i8>(xb + 2 + j);
      sumi1 += (nib_hi(wb + 2, j) - 8) * <i32>load<i8>(xb + 2 + j + QK / 2);
    }
    sumf += (<f32>(sumi0 + sumi1) * fp16_to_fp32(half_at(wb))) * fp16_to_fp32(half_at(xb));
  }
  return sumf;
}

/** The SIMD twin: nibbles − 8 as int8 lanes, the integer dot in i32x4 lanes, the same float steps. */
export function vec_dot_q4_0_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  const eight = i8x16.splat(8);
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, Q4_0_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const lo = i8x16.sub(nibbles_lo(qs), eight);
    const hi = i8x16.sub(nibbles_hi(qs), eight);
    const sumi = block_dot_i8(lo, hi, xb + 2);
    sumf += (<f32>sumi * fp16_to_fp32(half_at(wb))) * fp16_to_fp32(half_at(xb));
  }
  return sumf;
}
