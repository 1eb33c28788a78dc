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
// Q8_K stores as bsums. The dot product reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_q2_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts). Per super-block, with D = f32(d_x · d) and M = −f32(d_x · dmin):
//
//   mins[k] = m_{2k}·bsums[2k] + m_{2k+1}·bsums[2k+1]            (exact i32, k = 0..7: `madd`)
//   L[u]    = Σ_j sc_j · Σ q·q8 over the values 32c + 4u … 32c + 4u + 3 of each 32-value chunk c
//             (value p belongs to sub-block j = p / 16)            (exact i32, u = 0..7)
//   acc[u]  = fma(D, f32(L[u]), fma(M, f32(mins[u]), acc[u]))      (two fused multiply-adds)
//
// and at the end  hsum_float_8(acc) = ((acc0 + acc4) + (acc2 + acc6)) + ((acc1 + acc5) + (acc3 + acc7)).
// The generic twin does this in scalars, the SIMD twin with i32x4 / f64x2 lanes.
import { QK_K } from '../layout';
import { fp16_to_fp32 } from '../util/fp16';
import {
  X86_L, X86_M, X86_ACC, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8,
  x86_pairs_lo, x86_pairs_hi, x86_quads, x86_fma_f32x4, x86_hsum8_f32x4,
} from '../util/x86';
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

/** The scalar twin: the x86 lanes and float order in scalars (see the header). */
export function vec_dot_q2_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    for (let k = 0; k < 8; k++) {
      const m0 = <i32>load<u8>(wb + SCALES + 2 * k) >> 4, m1 = <i32>load<u8>(wb + SCALES + 2 * k + 1) >> 4;
      const b = xb + Q8_K_BSUMS + (k << 2);
      store<i32>(X86_M + (<usize>k << 2), m0 * <i32>load<i16>(b) + m1 * <i32>load<i16>(b, 2));
    }
    const dx = load<f32>(xb);
    const dall: f32 = dx * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(dx * fp16_to_fp32(load<u16>(wb + DMIN)));
    x86_fma(X86_ACC, dmin, X86_M, 8);
    for (let p = 0; p < QK_K; p++) {
      const h = p >> 7, s = (p >> 5) & 3, l = p & 31;
      store<i8>(X86_AUX8 + p, <i8>((<i32>load<u8>(wb + QS + (h << 5) + l) >> (s << 1)) & 3));
    }
    x86_clear(X86_L);
    for (let j = 0; j < 16; j++) {
      x86_lanes_add(<i32>load<u8>(wb + SCALES + j) & 0xf, X86_AUX8 + (j << 4), xb + Q8_K_QS + (j << 4), j << 4, 16);
    }
    x86_fma(X86_ACC, dall, X86_L, 8);
  }
  return x86_hsum8(X86_ACC);
}

/** sc_j (byte j of the low-nibble vector) in every i16 lane */
@inline function scale_splat(sc: v128, j: i32): v128 {
  return i8x16.swizzle(sc, i16x8.splat(<i16>(0x8000 | j)));
}

/** Same sums as the generic twin: the x86 lanes through pair lanes in i32x4, the floats in f64x2. */
export function vec_dot_q2_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const m3 = i8x16.splat(3);
  const zero = i32x4.splat(0);
  let accLo = f32x4.splat(0), accHi = f32x4.splat(0);
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = q8_block(x, ib);
    const scm = v128.load(wb + SCALES);
    const sc = v128.and(scm, i8x16.splat(0xf));
    const mins = i8x16.shr_u(scm, 4);
    // pair lanes (util/x86.ts) of bytes 0..7, 8..15 (a0, a1) and 16..23, 24..31 (b0, b1) of the chunks
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    for (let h = 0; h < 2; h++) {
      const qa = v128.load(wb + QS + (h << 5)), qb = v128.load(wb + QS + (h << 5) + 16);
      const q8p = xb + Q8_K_QS + (h << 7);
      for (let s = 0; s < 4; s++) {
        const shift = s << 1;
        const j = (h << 3) + (s << 1); // sub-blocks j (chunk bytes 0..15) and j + 1 (16..31)
        const sa = scale_splat(sc, j), sb = scale_splat(sc, j + 1);
        const fa = v128.and(i8x16.shr_u(qa, shift), m3), fb = v128.and(i8x16.shr_u(qb, shift), m3);
        const xa = v128.load(q8p + (s << 5)), xb2 = v128.load(q8p + (s << 5) + 16);
        a0 = i32x4.add(a0, x86_pairs_lo(fa, xa, sa));
        a1 = i32x4.add(a1, x86_pairs_hi(fa, xa, sa));
        b0 = i32x4.add(b0, x86_pairs_lo(fb, xb2, sb));
        b1 = i32x4.add(b1, x86_pairs_hi(fb, xb2, sb));
      }
    }
    const dx = load<f32>(xb);
    const dall: f32 = dx * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(dx * fp16_to_fp32(load<u16>(wb + DMIN)));
    // mins lanes: the 16 bsums (i16) · the 16 mins (zero-extended to i16), neighbours added
    const dm = f64x2.splat(<f64>dmin);
    accLo = x86_fma_f32x4(accLo, dm, i32x4.dot_i16x8_s(v128.load(xb + Q8_K_BSUMS), i16x8.extend_low_i8x16_u(mins)));
    accHi = x86_fma_f32x4(accHi, dm, i32x4.dot_i16x8_s(v128.load(xb + Q8_K_BSUMS + 16), i16x8.extend_high_i8x16_u(mins)));
    const dd = f64x2.splat(<f64>dall);
    accLo = x86_fma_f32x4(accLo, dd, x86_quads(a0, a1));
    accHi = x86_fma_f32x4(accHi, dd, x86_quads(b0, b1));
  }
  return x86_hsum8_f32x4(accLo, accHi);
}
