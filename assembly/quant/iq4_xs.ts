// IQ4_XS — super-blocks of 256 weights in 8 sub-blocks of 32, 136 bytes, 4.25 bits per weight
// (ggml `block_iq4_xs`):
//
//   byte 0..1     d            f16 super-block scale
//   byte 2..3     scales_h     u16: bits 2j, 2j+1 are the high 2 bits of sub-block j's scale
//   byte 4..7     scales_l[4]  low 4 bits of the scales: sub-block j in byte j/2, low nibble for
//                              even j, high nibble for odd j
//   byte 8..135   qs[128]      4-bit grid indices: 16 bytes per sub-block, values 0..15 in the low
//                              nibbles and 16..31 in the high nibbles
//
//   ls[j] = scales_l nibble | (scales_h bits) << 4        6 bits, 0..63
//   value[32j + l] = (d·(ls[j] - 32)) · kvalues_iq4nl[index]   (util/iq4.ts grid, shared with IQ4_NL)
//
// (d·(ls - 32)) is one f32 product, as in ggml's dequantize_row_iq4_xs.
//
// The dot product with Q8_K activations follows ggml_vec_dot_iq4_xs_q8_K_generic: per sub-block j
// an exact i32 sum Σ grid·q8 over its 32 values, then in f32
//   sumf += ((f16(d)·d8) · f32(ls[j] - 32)) · f32(sum)         sub-blocks in order, super-blocks in order.
import { fp16_to_fp32 } from '../util/fp16';
import { dot_i8x16, hsum_i32x4, nibbles_hi, nibbles_lo } from '../util/simd';
import { iq4_value, iq4_values } from '../util/iq4';
import { QK_K } from '../layout';
import { Q8_K_BYTES, Q8_K_QS } from './q8_k';

export const IQ4_XS_BYTES: i32 = 136;
const D = 0;
const SCALES_H = 2;
const SCALES_L = 4;
const QS = 8;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * IQ4_XS_BYTES;
}

/** the 6-bit scale of sub-block j (0..7), minus 32 */
@inline function sub_scale(xb: usize, j: i32): i32 {
  const lo = (<u32>load<u8>(xb + SCALES_L + (j >> 1)) >> (4 * (j & 1))) & 0xf;
  const hi = (<u32>load<u16>(xb + SCALES_H) >> (2 * j)) & 3;
  return <i32>(lo | (hi << 4)) - 32;
}

export function dequantize_row_iq4_xs(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const xb = block(x, i);
    const d = fp16_to_fp32(load<u16>(xb + D));
    for (let j = 0; j < 8; j++) {
      const dl = d * <f32>sub_scale(xb, j);
      const qs = xb + QS + 16 * j;
      const out = y + (<usize>(i * QK_K + 32 * j) << 2);
      for (let l = 0; l < 16; l++) {
        const b = <u32>load<u8>(qs + l);
        store<f32>(out + (<usize>l << 2), dl * <f32>iq4_value(b & 0xf));
        store<f32>(out + (<usize>(16 + l) << 2), dl * <f32>iq4_value(b >> 4));
      }
    }
  }
}

export function vec_dot_iq4_xs_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  let sumf: f32 = 0;
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const d4d8 = fp16_to_fp32(load<u16>(wb + D)) * load<f32>(xb);
    for (let j = 0; j < 8; j++) {
      const qs = wb + QS + 16 * j, q8 = xb + Q8_K_QS + 32 * j;
      let sumi1 = 0, sumi2 = 0;
      for (let l = 0; l < 16; l++) {
        const b = <u32>load<u8>(qs + l);
        sumi1 += <i32>load<i8>(q8 + l) * iq4_value(b & 0xf);
        sumi2 += <i32>load<i8>(q8 + 16 + l) * iq4_value(b >> 4);
      }
      const dl = d4d8 * <f32>sub_scale(wb, j);
      sumf += dl * <f32>(sumi1 + sumi2);
    }
  }
  return sumf;
}

export function vec_dot_iq4_xs_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  let sumf: f32 = 0;
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const d4d8 = fp16_to_fp32(load<u16>(wb + D)) * load<f32>(xb);
    for (let j = 0; j < 8; j++) {
      const b = v128.load(wb + QS + 16 * j), q8 = xb + Q8_K_QS + 32 * j;
      const acc = i32x4.add(
        dot_i8x16(iq4_values(nibbles_lo(b)), v128.load(q8)),
        dot_i8x16(iq4_values(nibbles_hi(b)), v128.load(q8, 16)),
      );
      const dl = d4d8 * <f32>sub_scale(wb, j);
      sumf += dl * <f32>hsum_i32x4(acc);
    }
  }
  return sumf;
}
