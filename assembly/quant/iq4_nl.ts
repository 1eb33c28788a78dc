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
// Activation format: Q8_0. ggml's scalar reference (ggml_vec_dot_iq4_nl_q8_0_generic), per block, in f32:
//
//   d = d_x · d_w;  sumf += d · f32(sumi)
//
// (d_x·d_w and d_w·d_x are the same f32.) The SIMD twin looks the grid up with a byte swizzle.
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import { iq4_value, iq4_values } from '../util/iq4';
import { QK, block_at, block_dot_i8, half_at, nib_hi, nib_lo } from '../util/legacy';
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

/** ggml_vec_dot_iq4_nl_q8_0_generic: sumf += (d_x·d_w)·sumi per block, in block order. */
export function vec_dot_iq4_nl_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const d = fp16_to_fp32(half_at(xb)) * fp16_to_fp32(half_at(wb));
    let sumi1 = 0, sumi2 = 0;
    for (let j = 0; j < QK / 2; j++) {
      sumi1 += <i32>load<i8>(xb + 2 + j) * iq4_value(nib_lo(wb + 2, j));
      sumi2 += <i32>load<i8>(xb + 2 + j + QK / 2) * iq4_value(nib_hi(wb + 2, j));
    }
    sumf += d * <f32>(sumi1 + sumi2);
  }
  return sumf;
}

/** The SIMD twin: grid values by swizzle as int8 lanes, the integer dot in i32x4 lanes. */
export function vec_dot_iq4_nl_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block_at(w, ib, IQ4_NL_BYTES), xb = block_at(x, ib, Q8_0_BYTES);
    const qs = v128.load(wb + 2);
    const sumi = block_dot_i8(iq4_values(nibbles_lo(qs)), iq4_values(nibbles_hi(qs)), xb + 2);
    const d = fp16_to_fp32(half_at(xb)) * fp16_to_fp32(half_at(wb));
    sumf += d * <f32>sumi;
  }
  return sumf;
}
