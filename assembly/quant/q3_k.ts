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
// Dot product with Q8_K activations (value = d_x · q8), as ggml_vec_dot_q3_K_q8_K_generic, which
// keeps eight integer lanes and eight float lanes: lane l gets every weight p with p % 8 == l.
//   per super-block:  aux32[l] = Σ_j S_j · Σ_{p ∈ j, p % 8 = l} q8[p] · q[p]      (exact, i32:
//                     32 terms of |S·q·q8| ≤ 32·4·128, so |aux32| ≤ 2^19)
//                     dd = f32(d · d_x)
//                     sums[l] = sums[l] + f32(dd · f32(aux32[l]))    (f32 conversion exact)
//   after the last super-block:  sumf = ((… ((+0 + sums[0]) + sums[1]) …) + sums[7])
// with sums[l] starting at +0. This is the lane scheme util/kscales.ts provides for all K-quants:
// the generic twin uses its scalar lanes (k_aux_add, k_sums_add, k_sums_total); the SIMD version
// its vector form (aux32 and sums in two i32x4 / f32x4 each, lanes 0..3 and 4..7, the same
// roundings per lane), so the twins agree bit for bit. Only the scale unpacking and the 3-bit
// unpacking are Q3_K's own.
import { QK_K } from '../layout';
import { fp16_to_fp32 } from '../util/fp16';
import {
  K_AUX8, k_sums_clear, k_aux_clear, k_aux_add, k_sums_add, k_sums_total,
  lane_sums_i8x16, scale_lanes_lo, scale_lanes_hi, sums_add_f32x4, sums_total_f32x4,
} from '../util/kscales';
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

/** The scalar twin: ggml_vec_dot_q3_K_q8_K_generic's lanes and order (see the header). */
export function vec_dot_q3_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  k_sums_clear();
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    for (let p = 0; p < QK_K; p++) store<i8>(K_AUX8 + p, <i8>quant(wb, p)); // ggml's aux8
    k_aux_clear();
    for (let j = 0; j < 16; j++) k_aux_add(scale(wb, j), K_AUX8 + (j << 4), xb + Q8_K_QS + (j << 4), 16);
    k_sums_add(fp16_to_fp32(load<u16>(wb + D)) * load<f32>(xb));
  }
  return k_sums_total(0);
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

/** (S_j, S_j+1) as i16 pairs in every 32-bit lane (kscales' scale_pair layout), from scales16 */
@inline function scale_pair_q3(sc: v128, j: i32): v128 {
  // bytes j, j + 1 zero-extended by swizzle's out-of-range index 0x80, then − 32
  return i16x8.sub(i8x16.swizzle(sc, i32x4.splat(0x80008000 | j | ((j + 1) << 16))), i16x8.splat(32));
}

/** Same sums as the generic twin: aux32 as two i32x4, sums as two f32x4, the same roundings per lane. */
export function vec_dot_q3_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const m3 = i8x16.splat(3);
  const four = i8x16.splat(4);
  const zero = i8x16.splat(0);
  let sumsLo = f32x4.splat(0), sumsHi = f32x4.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    const sc = scales16(wb);
    const hmA = v128.load(wb + HMASK), hmB = v128.load(wb + HMASK + 16);
    let accLo = i32x4.splat(0), accHi = i32x4.splat(0);
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
        const j = (h << 3) + (s << 1); // sub-blocks j (a) and j + 1 (b)
        const pair = scale_pair_q3(sc, j);
        // lane sums in i16: |a·q8 + a'·q8'| ≤ 2·4·128 = 1024 < 2^15, exact
        const pa = lane_sums_i8x16(a, v128.load(q8p + (s << 5))), pb = lane_sums_i8x16(b, v128.load(q8p + (s << 5) + 16));
        accLo = i32x4.add(accLo, scale_lanes_lo(pa, pb, pair));
        accHi = i32x4.add(accHi, scale_lanes_hi(pa, pb, pair));
      }
    }
    const dd: f32 = fp16_to_fp32(load<u16>(wb + D)) * load<f32>(xb);
    sumsLo = sums_add_f32x4(sumsLo, dd, accLo);
    sumsHi = sums_add_f32x4(sumsHi, dd, accHi);
  }
  return sums_total_f32x4(0, sumsLo, sumsHi);
}
