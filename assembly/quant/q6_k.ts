// Q6_K — super-blocks of 256 weights in 16 sub-blocks of 16, 210 bytes, 6.5625 bits per weight
// (ggml `block_q6_K`):
//
//   byte 0..127    ql[128]     low 4 bits of the quants
//   byte 128..191  qh[64]      high 2 bits of the quants
//   byte 192..207  scales[16]  int8 sub-block scales sc[j]
//   byte 208..209  d           f16 super-block scale
//
//   value[16j + l] = (d·sc[j]) · q                   q = 6-bit quant - 32, -32..31
//
// Quant order: each half h (values 128h .. 128h+127) uses ql[64h .. 64h+63] and qh[32h .. 32h+31];
// for l = 0..31 the 6-bit quants of values 128h + l + {0, 32, 64, 96} are
//   value +0:  ql[64h + l] & 0xf       | ((qh[32h + l] >> 0) & 3) << 4
//   value +32: ql[64h + 32 + l] & 0xf  | ((qh[32h + l] >> 2) & 3) << 4
//   value +64: ql[64h + l] >> 4        | ((qh[32h + l] >> 4) & 3) << 4
//   value +96: ql[64h + 32 + l] >> 4   | ((qh[32h + l] >> 6) & 3) << 4
// (d·sc[j]) is one f32 product, then multiplied by q, as in ggml's dequantize_row_q6_K.
//
// The dot product with Q8_K activations reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_q6_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts; its `maddubs(q, q8) − maddubs(32, q8)` is (q − 32)·q8, exact). Per
// super-block, with D = d8·f16(d) in f32:
//   L[u]  = Σ_j sc[j] · Σ q·q8 over the values 32c + 4u … 32c + 4u + 3 of each 32-value chunk c
//           (value e belongs to sub-block j = e / 16)                     (exact i32, u = 0..7)
//   acc[u] = fma(D, f32(L[u]), acc[u])
// and at the end  hsum_float_8(acc).
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import {
  X86_L, X86_ACC, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8,
  x86_pairs_lo, x86_pairs_hi, x86_quads, x86_fma_f32x4, x86_hsum8_f32x4,
} from '../util/x86';
import { QK_K } from '../layout';
import { Q8_K_BYTES, Q8_K_QS } from './q8_k';

export const Q6_K_BYTES: i32 = 210;
const QL = 0;
const QH = 128;
const SCALES = 192;
const D = 208;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q6_K_BYTES;
}

/** the quant of value e (0..255) of a super-block, -32..31 */
@inline function quant(xb: usize, e: i32): i32 {
  const h = e >> 7, t = (e >> 5) & 3, l = e & 31;
  const b = <u32>load<u8>(xb + QL + 64 * h + 32 * (t & 1) + l);
  const lo4 = t & 2 ? b >> 4 : b & 0xf;
  const hi2 = (<u32>load<u8>(xb + QH + 32 * h + l) >> (2 * t)) & 3;
  return <i32>(lo4 | (hi2 << 4)) - 32;
}

@inline function scale(xb: usize, j: i32): i32 {
  return <i32>load<i8>(xb + SCALES + j);
}

export function dequantize_row_q6_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const xb = block(x, i);
    const d = fp16_to_fp32(load<u16>(xb + D));
    const yb = y + (<usize>(i * QK_K) << 2);
    for (let j = 0; j < 16; j++) {
      const dl = d * <f32>scale(xb, j);
      for (let l = 0; l < 16; l++) {
        const e = 16 * j + l;
        store<f32>(yb + (<usize>e << 2), dl * <f32>quant(xb, e));
      }
    }
  }
}

export function vec_dot_q6_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    for (let e = 0; e < QK_K; e++) store<i8>(X86_AUX8 + e, <i8>quant(wb, e));
    x86_clear(X86_L);
    for (let j = 0; j < 16; j++) x86_lanes_add(scale(wb, j), X86_AUX8 + 16 * j, xb + Q8_K_QS + 16 * j, 16 * j, 16);
    x86_fma(X86_ACC, load<f32>(xb) * fp16_to_fp32(load<u16>(wb + D)), X86_L, 8);
  }
  return x86_hsum8(X86_ACC);
}

/** 6-bit quants - 32 from 16 low nibbles and 16 bytes whose bits 4-5 hold the high 2 bits */
@inline function q6(lo4: v128, hi2at4: v128): v128 {
  return i8x16.sub(v128.or(lo4, v128.and(hi2at4, i8x16.splat(0x30))), i8x16.splat(32));
}

export function vec_dot_q6_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  let accLo = f32x4.splat(0), accHi = f32x4.splat(0);
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    // pair lanes (util/x86.ts) of bytes 0..7, 8..15 (a0, a1) and 16..23, 24..31 (b0, b1) of the chunks
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    for (let h = 0; h < 2; h++) {
      const ql = wb + QL + 64 * h, qh = wb + QH + 32 * h, q8 = xb + Q8_K_QS + 128 * h;
      const l0 = v128.load(ql), l1 = v128.load(ql, 16), l2 = v128.load(ql, 32), l3 = v128.load(ql, 48);
      const h0 = v128.load(qh), h1 = v128.load(qh, 16);
      const sc = wb + SCALES + 8 * h;
      // chunk t (values 128h + 32t …): first half sub-block 8h + 2t, second half 8h + 2t + 1
      {
        const f0 = q6(nibbles_lo(l0), i8x16.shl(h0, 4)), f1 = q6(nibbles_lo(l1), i8x16.shl(h1, 4));
        const x0 = v128.load(q8, 0), x1 = v128.load(q8, 16);
        const s0 = i16x8.splat(<i16>load<i8>(sc, 0)), s1 = i16x8.splat(<i16>load<i8>(sc, 1));
        a0 = i32x4.add(a0, x86_pairs_lo(f0, x0, s0));
        a1 = i32x4.add(a1, x86_pairs_hi(f0, x0, s0));
        b0 = i32x4.add(b0, x86_pairs_lo(f1, x1, s1));
        b1 = i32x4.add(b1, x86_pairs_hi(f1, x1, s1));
      }
      {
        const f0 = q6(nibbles_lo(l2), i8x16.shl(h0, 2)), f1 = q6(nibbles_lo(l3), i8x16.shl(h1, 2));
        const x0 = v128.load(q8, 32), x1 = v128.load(q8, 48);
        const s0 = i16x8.splat(<i16>load<i8>(sc, 2)), s1 = i16x8.splat(<i16>load<i8>(sc, 3));
        a0 = i32x4.add(a0, x86_pairs_lo(f0, x0, s0));
        a1 = i32x4.add(a1, x86_pairs_hi(f0, x0, s0));
        b0 = i32x4.add(b0, x86_pairs_lo(f1, x1, s1));
        b1 = i32x4.add(b1, x86_pairs_hi(f1, x1, s1));
      }
      {
        const f0 = q6(nibbles_hi(l0), h0), f1 = q6(nibbles_hi(l1), h1);
        const x0 = v128.load(q8, 64), x1 = v128.load(q8, 80);
        const s0 = i16x8.splat(<i16>load<i8>(sc, 4)), s1 = i16x8.splat(<i16>load<i8>(sc, 5));
        a0 = i32x4.add(a0, x86_pairs_lo(f0, x0, s0));
        a1 = i32x4.add(a1, x86_pairs_hi(f0, x0, s0));
        b0 = i32x4.add(b0, x86_pairs_lo(f1, x1, s1));
        b1 = i32x4.add(b1, x86_pairs_hi(f1, x1, s1));
      }
      {
        const f0 = q6(nibbles_hi(l2), i8x16.shr_u(h0, 2)), f1 = q6(nibbles_hi(l3), i8x16.shr_u(h1, 2));
        const x0 = v128.load(q8, 96), x1 = v128.load(q8, 112);
        const s0 = i16x8.splat(<i16>load<i8>(sc, 6)), s1 = i16x8.splat(<i16>load<i8>(sc, 7));
        a0 = i32x4.add(a0, x86_pairs_lo(f0, x0, s0));
        a1 = i32x4.add(a1, x86_pairs_hi(f0, x0, s0));
        b0 = i32x4.add(b0, x86_pairs_lo(f1, x1, s1));
        b1 = i32x4.add(b1, x86_pairs_hi(f1, x1, s1));
      }
    }
    const dd = f64x2.splat(<f64>(load<f32>(xb) * fp16_to_fp32(load<u16>(wb + D))));
    accLo = x86_fma_f32x4(accLo, dd, x86_quads(a0, a1));
    accHi = x86_fma_f32x4(accHi, dd, x86_quads(b0, b1));
  }
  return x86_hsum8_f32x4(accLo, accHi);
}
