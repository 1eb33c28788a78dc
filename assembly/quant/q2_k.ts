// Q2_K — super-blocks of 256 weights, 84 bytes, 2.625 bits per weight (ggml `block_q2_K`):
//
//   byte 0..15    scales[16]  u8: low nibble = scale sc, high nibble = min m, one pair per
//                             sub-block of 16 weights
//   byte 16..79   qs[64]      2-bit quants, four per byte (see the index map below)
//   byte 80..81   d           f16 super-block scale of the scales
//   byte 82..83   dmin        f16 super-block scale of the mins
//
//   weight p (0..255) = 128·h + 32·s + l   (h ∈ 0..1, s ∈ 0..3, l ∈ 0..31):
//     q   = (qs[32·h + l] >> 2·s) & 3                       ∈ 0..3
//     sub-block  j = p / 16 = 8·h + 2·s + (l ≥ 16)
//     value[p] = f32(f32(d · sc_j) · q) − f32(dmin · m_j), in f32 as ggml's dequantize_row_q2_K
//     (the products are exact — an f16 times at most 6 bits fits an f32 — so the subtraction is
//     the only rounding)
//
// The activations are Q8_K (quant/q8_k.ts): value = d_x · q8. Because every weight of sub-block j
// carries the same offset −dmin·m_j, the dot product needs only the sub-block sums of q8, which
// Q8_K stores as bsums. Per super-block, as ggml_vec_dot_q2_K_q8_K_generic:
//
//   summs = Σ_j bsums[j] · m_j                       (exact, i32)
//   isum  = Σ_j sc_j · Σ_{p ∈ j} q8[p] · q[p]       (exact, i32: |isum| ≤ 256·3·128·15 < 2^24)
//   dall  = f32(d_x · d),  dmin' = f32(d_x · dmin)
//   sumf  = sumf + (f32(dall · f32(isum)) − f32(dmin' · f32(summs)))
//
// over the super-blocks in order, starting from sumf = +0. Every conversion i32 → f32 is exact
// (|summs| ≤ 16·2048·15 < 2^24), so the float part is six rounded operations per super-block,
// done in this order by both twins (no fused multiply-add: WASM has none).
import { QK_K } from '../layout';
import { fp16_to_fp32 } from '../util/fp16';
import { hsum_i32x4 } from '../util/simd';
import { Q8_K_BYTES, Q8_K_QS, Q8_K_BSUMS } from './q8_k';

export const Q2_K_BYTES: i32 = 84;
const SCALES: i32 = 0;
const QS: i32 = 16;
const D: i32 = 80;
const DMIN: i32 = 82;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q2_K_BYTES;
}

@inline function q8_block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q8_K_BYTES;
}

export function dequantize_row_q2_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block(x, ib);
    const d = fp16_to_fp32(load<u16>(xb + D));
    const dmin = fp16_to_fp32(load<u16>(xb + DMIN));
    const yb = y + (<usize>(ib * QK_K) << 2);
    for (let p = 0; p < QK_K; p++) {
      const h = p >> 7, s = (p >> 5) & 3, l = p & 31;
      const sc = <i32>load<u8>(xb + SCALES + (p >> 4));
      const dl = d * <f32>(sc & 0xf);
      const ml = dmin * <f32>(sc >> 4);
      const q = (<i32>load<u8>(xb + QS + (h << 5) + l) >> (s << 1)) & 3;
      store<f32>(yb + (<usize>p << 2), dl * <f32>q - ml);
    }
  }
}

/** The scalar twin: ggml_vec_dot_q2_K_q8_K_generic's sums in its order (see the header). */
export function vec_dot_q2_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    let summs: i32 = 0;
    for (let j = 0; j < 16; j++) {
      summs += <i32>load<i16>(xb + Q8_K_BSUMS + (j << 1)) * (<i32>load<u8>(wb + SCALES + j) >> 4);
    }
    const dx = load<f32>(xb);
    const dall: f32 = dx * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = dx * fp16_to_fp32(load<u16>(wb + DMIN));
    let isum: i32 = 0;
    for (let j = 0; j < 16; j++) {
      // sub-block j: 16 quants of qs[32·h + 16·(j & 1) + i] at shift 2·s, with h = j >> 3, s = (j >> 1) & 3
      const qp = wb + QS + ((j >> 3) << 5) + ((j & 1) << 4);
      const shift = ((j >> 1) & 3) << 1;
      const q8p = xb + Q8_K_QS + (j << 4);
      let isuml: i32 = 0;
      for (let i = 0; i < 16; i++) isuml += <i32>load<i8>(q8p + i) * ((<i32>load<u8>(qp + i) >> shift) & 3);
      isum += (<i32>load<u8>(wb + SCALES + j) & 0xf) * isuml;
    }
    sumf += dall * <f32>isum - dmin * <f32>summs;
  }
  return sumf;
}

/**
 * 16 quants (0..3) · 16 int8 activations · one sub-block scale, as four i32 partial sums:
 * the products (≤ 384 in magnitude) are paired in i16 lanes, then `i32x4.dot_i16x8_s` multiplies
 * them by the scale (≤ 15) and adds neighbours — all exact.
 */
@inline function sub_block_dot(q: v128, q8: v128, scale: i32): v128 {
  const prod = i16x8.add(i16x8.extmul_low_i8x16_s(q, q8), i16x8.extmul_high_i8x16_s(q, q8));
  return i32x4.dot_i16x8_s(prod, i16x8.splat(<i16>scale));
}

/** Same sums as the generic twin: the integers in i32x4 lanes (exact), the float part in its order. */
export function vec_dot_q2_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const m3 = i8x16.splat(3);
  let sumf: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    // summs: the 16 bsums (i16) · the 16 mins (high nibbles, zero-extended to i16)
    const mins = i8x16.shr_u(v128.load(wb + SCALES), 4);
    const summs = hsum_i32x4(i32x4.add(
      i32x4.dot_i16x8_s(v128.load(xb + Q8_K_BSUMS), i16x8.extend_low_i8x16_u(mins)),
      i32x4.dot_i16x8_s(v128.load(xb + Q8_K_BSUMS + 16), i16x8.extend_high_i8x16_u(mins)),
    ));
    const dx = load<f32>(xb);
    const dall: f32 = dx * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = dx * fp16_to_fp32(load<u16>(wb + DMIN));
    let acc = i32x4.splat(0);
    for (let h = 0; h < 2; h++) {
      const qa = v128.load(wb + QS + (h << 5)), qb = v128.load(wb + QS + (h << 5) + 16);
      const sp = wb + SCALES + (h << 3);
      const q8p = xb + Q8_K_QS + (h << 7);
      for (let s = 0; s < 4; s++) {
        const shift = s << 1;
        const x0 = v128.load(q8p + (s << 5)), x1 = v128.load(q8p + (s << 5) + 16);
        acc = i32x4.add(acc, sub_block_dot(v128.and(i8x16.shr_u(qa, shift), m3), x0, <i32>load<u8>(sp + (s << 1)) & 0xf));
        acc = i32x4.add(acc, sub_block_dot(v128.and(i8x16.shr_u(qb, shift), m3), x1, <i32>load<u8>(sp + (s << 1) + 1) & 0xf));
      }
    }
    sumf += dall * <f32>hsum_i32x4(acc) - dmin * <f32>summs;
  }
  return sumf;
}
