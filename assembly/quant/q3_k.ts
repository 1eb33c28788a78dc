// Q3_K — super-blocks of 256 weights, 110 bytes, 3.4375 bits per weight (ggml `block_q3_K`):
//
//   byte 0..31     hmask[32]   the high bit of each 3-bit quant: bit b of hmask[l] belongs to
//                              weight 32·b + l
//   byte 32..95    qs[64]      the low 2 bits, four per byte (index map below)
//   byte 96..107   scales[12]  16 6-bit sub-block scales, stored +32 (see `scale` below)
//   byte 108..109  d           f16 super-block scale
//
//   weight p (0..255) = 128·h + 32·s + l   (h ∈ 0..1, s ∈ 0..3, l ∈ 0..31):
//     q   = ((qs[32·h + l] >> 2·s) & 3) − (bit 4·h + s of hmask[l] set ? 0 : 4)      ∈ −4..3
//     sub-block j = p / 16, with signed scale S_j = scale_j − 32 ∈ −32..31
//     value[p] = f32(f32(d · S_j) · q), as ggml's dequantize_row_q3_K (exact: f16 · 6 bits · 3 bits
//     fits an f32)
//
//   scale_j, 6 bits: the low 4 from byte j (j < 8, low nibble) or byte j − 8 (j ≥ 8, high
//   nibble); the high 2 from bits 2·(j / 4), 2·(j / 4) + 1 of byte 8 + (j % 4).
//   (ggml reads the 12 bytes as three u32 and recombines them with kmask1 = 0x03030303 and
//   kmask2 = 0x0f0f0f0f into 16 bytes; same values.)
//
// Dot product with Q8_K activations (value = d_x · q8): llama.cpp's x86 kernel bit for bit,
// ggml_vec_dot_q3_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts; its `maddubs(low 2 bits, q8) − maddubs(4·(hmask bit clear), q8)` is q·q8,
// exact). Per super-block, with dd = f32(d_x · d):
//   L[u]  = Σ_j S_j · Σ q·q8 over the values 32c + 4u … 32c + 4u + 3 of each 32-value chunk c
//           (value p belongs to sub-block j = p / 16)                     (exact i32, u = 0..7;
//           |L[u]| ≤ 32·32·4·128 = 2^19)
//   acc[u] = fma(dd, f32(L[u]), acc[u])
// and at the end  hsum_float_8(acc) = ((acc0 + acc4) + (acc2 + acc6)) + ((acc1 + acc5) + (acc3 + acc7)).
import { QK_K } from '../layout';
import { fp16_to_fp32 } from '../util/fp16';
import {
  X86_L, X86_ACC, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8,
  x86_pairs_lo, x86_pairs_hi, x86_quads, x86_fma_f32x4, x86_hsum8_f32x4,
} from '../util/x86';
import { Q8_K_BYTES, Q8_K_QS } from './q8_k';

export const Q3_K_BYTES: i32 = 110;
const HMASK: i32 = 0;
const QS: i32 = 32;
const SCALES: i32 = 96;
const D: i32 = 108;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q3_K_BYTES;
}

@inline function q8_block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q8_K_BYTES;
}

/** S_j = scale_j − 32 of sub-block j of the super-block at xb (scalar) */
@inline function scale(xb: usize, j: i32): i32 {
  const lo = (<i32>load<u8>(xb + SCALES + (j & 7)) >> ((j >> 3) << 2)) & 0xf;
  const hi = (<i32>load<u8>(xb + SCALES + 8 + (j & 3)) >> ((j >> 2) << 1)) & 3;
  return (lo | (hi << 4)) - 32;
}

/** the 3-bit quant of weight p (−4..3) */
@inline function quant(xb: usize, p: i32): i32 {
  const h = p >> 7, s = (p >> 5) & 3, l = p & 31;
  const low = (<i32>load<u8>(xb + QS + (h << 5) + l) >> (s << 1)) & 3;
  const high = (<i32>load<u8>(xb + HMASK + l) >> ((h << 2) + s)) & 1;
  return low - (high ? 0 : 4);
}

export function dequantize_row_q3_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block(x, ib);
    const dAll = fp16_to_fp32(load<u16>(xb + D));
    const yb = y + (<usize>(ib * QK_K) << 2);
    for (let j = 0; j < 16; j++) {
      const dl = dAll * <f32>scale(xb, j);
      for (let i = 0; i < 16; i++) {
        const p = (j << 4) + i;
        store<f32>(yb + (<usize>p << 2), dl * <f32>quant(xb, p));
      }
    }
  }
}

/** The scalar twin: the x86 lanes and float order in scalars (see the header). */
export function vec_dot_q3_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    for (let p = 0; p < QK_K; p++) store<i8>(X86_AUX8 + p, <i8>quant(wb, p));
    x86_clear(X86_L);
    for (let j = 0; j < 16; j++) x86_lanes_add(scale(wb, j), X86_AUX8 + (j << 4), xb + Q8_K_QS + (j << 4), j << 4, 16);
    x86_fma(X86_ACC, load<f32>(xb) * fp16_to_fp32(load<u16>(wb + D)), X86_L, 8);
  }
  return x86_hsum8(X86_ACC);
}

/** The 16 6-bit scale_j (0..63, not yet − 32) of the super-block at xb as byte lanes (lane j). */
@inline function scales16(xb: usize): v128 {
  // bytes 94..109 of the block: lanes 2..13 are scales[0..11] (one load, inside the block)
  const v = v128.load(xb + SCALES - 2);
  // low 4 bits: lanes 0..7 the low nibbles of scales[0..7], lanes 8..15 their high nibbles
  const lo8 = i8x16.shuffle(v, v, 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5, 6, 7, 8, 9);
  const low = i8x16.shuffle(
    v128.and(lo8, i8x16.splat(0xf)), i8x16.shr_u(lo8, 4),
    0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31,
  );
  // high 2 bits: lane j takes scales[8 + j % 4] >> 2·(j / 4)
  const h01 = i8x16.shuffle(v, i8x16.shr_u(v, 2), 10, 11, 12, 13, 26, 27, 28, 29, 0, 0, 0, 0, 0, 0, 0, 0);
  const h23 = i8x16.shuffle(i8x16.shr_u(v, 4), i8x16.shr_u(v, 6), 0, 0, 0, 0, 0, 0, 0, 0, 10, 11, 12, 13, 26, 27, 28, 29);
  const high = v128.and(i8x16.shuffle(h01, h23, 0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31), i8x16.splat(3));
  return v128.or(low, i8x16.shl(high, 4));
}

/** S_j = scale_j − 32 in every i16 lane, from scales16 */
@inline function scale_splat_q3(sc: v128, j: i32): v128 {
  // byte j zero-extended by swizzle's out-of-range index 0x80, then − 32
  return i16x8.sub(i8x16.swizzle(sc, i16x8.splat(<i16>(0x8000 | j))), i16x8.splat(32));
}

/** Same sums as the generic twin: the x86 lanes through pair lanes in i32x4, the floats in f64x2. */
export function vec_dot_q3_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const m3 = i8x16.splat(3);
  const four = i8x16.splat(4);
  const zero = i8x16.splat(0);
  let accLo = f32x4.splat(0), accHi = f32x4.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    const sc = scales16(wb);
    const hmA = v128.load(wb + HMASK), hmB = v128.load(wb + HMASK + 16);
    // pair lanes (util/x86.ts) of bytes 0..7, 8..15 (a0, a1) and 16..23, 24..31 (b0, b1) of the chunks
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    for (let h = 0; h < 2; h++) {
      const qa = v128.load(wb + QS + (h << 5)), qb = v128.load(wb + QS + (h << 5) + 16);
      const q8p = xb + Q8_K_QS + (h << 7);
      for (let s = 0; s < 4; s++) {
        const shift = s << 1;
        const hbit: i32 = 1 << ((h << 2) + s);
        const bit = i8x16.splat(<i8>hbit);
        // q = low 2 bits − 4 where the hmask bit is clear
        const a = i8x16.sub(v128.and(i8x16.shr_u(qa, shift), m3), v128.and(i8x16.eq(v128.and(hmA, bit), zero), four));
        const b = i8x16.sub(v128.and(i8x16.shr_u(qb, shift), m3), v128.and(i8x16.eq(v128.and(hmB, bit), zero), four));
        const j = (h << 3) + (s << 1); // sub-blocks j (a: chunk bytes 0..15) and j + 1 (b: 16..31)
        const sa = scale_splat_q3(sc, j), sb = scale_splat_q3(sc, j + 1);
        const xa = v128.load(q8p + (s << 5)), xb2 = v128.load(q8p + (s << 5) + 16);
        a0 = i32x4.add(a0, x86_pairs_lo(a, xa, sa));
        a1 = i32x4.add(a1, x86_pairs_hi(a, xa, sa));
        b0 = i32x4.add(b0, x86_pairs_lo(b, xb2, sb));
        b1 = i32x4.add(b1, x86_pairs_hi(b, xb2, sb));
      }
    }
    const dd = f64x2.splat(<f64>(load<f32>(xb) * fp16_to_fp32(load<u16>(wb + D))));
    accLo = x86_fma_f32x4(accLo, dd, x86_quads(a0, a1));
    accHi = x86_fma_f32x4(accHi, dd, x86_quads(b0, b1));
  }
  return x86_hsum8_f32x4(accLo, accHi);
}
