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
// The dot product with Q8_K activations reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_iq4_xs_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts). Per super-block, with D = f32(f16(d) · d8):
//   L[u]  = Σ_j (ls[j] − 32) · Σ grid·q8 over values 32j + 4u … 32j + 4u + 3   (exact i32, u = 0..7;
//           ggml's sumi1 + sumi2 of even and odd sub-blocks, added in i32 before the conversion)
//   acc[u] = fma(D, f32(L[u]), acc[u])
// and at the end  hsum_float_8(acc). (x86 multiplies through `_mm256_sign_epi8`, which would wrap a
// q8 of −128 where the grid value is negative; quantize_row_q8_K never produces −128, and both
// twins here use the true product.)
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import {
  X86_L, X86_ACC, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8,
  x86_pairs_lo, x86_pairs_hi, x86_quads, x86_fma_f32x4, x86_hsum8_f32x4,
} from '../util/x86';
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
  x86_clear(X86_ACC);
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    for (let j = 0; j < 8; j++) {
      for (let l = 0; l < 16; l++) {
        const b = <u32>load<u8>(wb + QS + 16 * j + l);
        store<i8>(X86_AUX8 + 32 * j + l, <i8>iq4_value(b & 0xf));
        store<i8>(X86_AUX8 + 32 * j + 16 + l, <i8>iq4_value(b >> 4));
      }
    }
    x86_clear(X86_L);
    for (let j = 0; j < 8; j++) x86_lanes_add(sub_scale(wb, j), X86_AUX8 + 32 * j, xb + Q8_K_QS + 32 * j, 32 * j, 32);
    x86_fma(X86_ACC, fp16_to_fp32(load<u16>(wb + D)) * load<f32>(xb), X86_L, 8);
  }
  return x86_hsum8(X86_ACC);
}

export function vec_dot_iq4_xs_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  let accLo = f32x4.splat(0), accHi = f32x4.splat(0);
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    // pair lanes (util/x86.ts) of values 0..7, 8..15 (a0, a1) and 16..23, 24..31 (b0, b1) of the sub-blocks
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    for (let j = 0; j < 8; j++) {
      const b = v128.load(wb + QS + 16 * j), q8 = xb + Q8_K_QS + 32 * j;
      const s = i16x8.splat(<i16>sub_scale(wb, j));
      const lo = iq4_values(nibbles_lo(b)), hi = iq4_values(nibbles_hi(b));
      const x0 = v128.load(q8), x1 = v128.load(q8, 16);
      a0 = i32x4.add(a0, x86_pairs_lo(lo, x0, s));
      a1 = i32x4.add(a1, x86_pairs_hi(lo, x0, s));
      b0 = i32x4.add(b0, x86_pairs_lo(hi, x1, s));
      b1 = i32x4.add(b1, x86_pairs_hi(hi, x1, s));
    }
    const dd = f64x2.splat(<f64>(fp16_to_fp32(load<u16>(wb + D)) * load<f32>(xb)));
    accLo = x86_fma_f32x4(accLo, dd, x86_quads(a0, a1));
    accHi = x86_fma_f32x4(accHi, dd, x86_quads(b0, b1));
  }
  return x86_hsum8_f32x4(accLo, accHi);
}
