// Q5_K — super-blocks of 256 weights in 8 sub-blocks of 32, 176 bytes, 5.5 bits per weight
// (ggml `block_q5_K`):
//
//   byte 0..1     d          f16 super-block scale of the sub-block scales
//   byte 2..3     dmin       f16 super-block scale of the sub-block mins
//   byte 4..15    scales[12] 8 scales sc[j] and 8 mins m[j], 6 bits each (util/kscales.ts)
//   byte 16..47   qh[32]     5th bits: bit j of qh[l] belongs to value l of sub-block j
//   byte 48..175  qs[128]    low 4 bits: 32-byte chunk c holds sub-block 2c in its low nibbles
//                            and sub-block 2c+1 in its high nibbles
//
//   value[32j + l] = (d·sc[j]) · q - (dmin·m[j])      q = nibble + 16·(bit j of qh[l]), 0..31
//
// Each factor in parentheses is one f32 product, as in ggml's dequantize_row_q5_K.
//
// The dot product with Q8_K activations reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_q5_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts). Per super-block, with D = d8·f16(d) and M = −(d8·f16(dmin)) in f32:
//   L[u]  = Σ_j sc[j] · Σ q·q8 over values 32j + 4u … 32j + 4u + 3      (exact i32, u = 0..7)
//   acc[u] = fma(D, f32(L[u]), acc[u])
//   summs  = fma(M, f32(Σ_k bsums[k]·m[k/2]), summs)                      (scalar)
// and at the end  hsum_float_8(acc) + summs. The scalar `summs += dmin * sumi` of the C source is
// taken as one fused multiply-add: llama.cpp's C is compiled as gnu11, where GCC's default is
// -ffp-contract=fast, with FMA enabled by -march=native (clang's default contracts it as well). The
// reference fixtures do not tell the fused and the unfused form apart (both give the same logits).
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import {
  get_scale_min_k4, k4_scale, k4_min, scales_mins_k4, mins_dot_k4_generic, mins_dot_k4, scale_splat_k4,
} from '../util/kscales';
import { fma32 } from '../util/expf';
import {
  X86_L, X86_ACC, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8,
  x86_pairs_lo, x86_pairs_hi, x86_quads, x86_fma_f32x4, x86_hsum8_f32x4,
} from '../util/x86';
import { QK_K } from '../layout';
import { Q8_K_BYTES, Q8_K_QS, Q8_K_BSUMS } from './q8_k';

export const Q5_K_BYTES: i32 = 176;
const D = 0;
const DMIN = 2;
const SCALES = 4;
const QH = 16;
const QS = 48;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q5_K_BYTES;
}

/** value l (0..31) of sub-block j (0..7), 0..31 */
@inline function quant(xb: usize, j: i32, l: i32): u32 {
  const b = <u32>load<u8>(xb + QS + 32 * (j >> 1) + l);
  const lo4 = j & 1 ? b >> 4 : b & 0xf;
  return lo4 + (((<u32>load<u8>(xb + QH + l) >> j) & 1) << 4);
}

export function dequantize_row_q5_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const xb = block(x, i);
    const d = fp16_to_fp32(load<u16>(xb + D));
    const dmin = fp16_to_fp32(load<u16>(xb + DMIN));
    const yb = y + (<usize>(i * QK_K) << 2);
    for (let j = 0; j < 8; j++) {
      const sm = get_scale_min_k4(j, xb + SCALES);
      const dl = d * <f32>k4_scale(sm), ml = dmin * <f32>k4_min(sm);
      const out = yb + (<usize>(32 * j) << 2);
      for (let l = 0; l < 32; l++) store<f32>(out + (<usize>l << 2), dl * <f32>quant(xb, j, l) - ml);
    }
  }
}

export function vec_dot_q5_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  let summs: f32 = 0;
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const d8 = load<f32>(xb);
    const d: f32 = d8 * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(d8 * fp16_to_fp32(load<u16>(wb + DMIN)));
    summs = fma32(dmin, <f32>mins_dot_k4_generic(wb + SCALES, xb + Q8_K_BSUMS), summs);
    for (let j = 0; j < 8; j++) {
      for (let l = 0; l < 32; l++) store<i8>(X86_AUX8 + 32 * j + l, <i8>quant(wb, j, l));
    }
    x86_clear(X86_L);
    for (let j = 0; j < 8; j++) {
      x86_lanes_add(k4_scale(get_scale_min_k4(j, wb + SCALES)), X86_AUX8 + 32 * j, xb + Q8_K_QS + 32 * j, 32 * j, 32);
    }
    x86_fma(X86_ACC, d, X86_L, 8);
  }
  return x86_hsum8(X86_ACC) + summs;
}

/** 16 in each byte whose bit `bit` is set in `qh`, else 0 */
@inline function high_bit(qh: v128, bit: i32): v128 {
  return v128.and(i8x16.shl(i8x16.shr_u(qh, bit), 4), i8x16.splat(0x10));
}

export function vec_dot_q5_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  let accLo = f32x4.splat(0), accHi = f32x4.splat(0);
  let summs: f32 = 0;
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const sm = scales_mins_k4(wb + SCALES);
    const hb0 = v128.load(wb + QH), hb1 = v128.load(wb + QH, 16);
    // pair lanes (util/x86.ts) of bytes 0..7, 8..15 (a0, a1) and 16..23, 24..31 (b0, b1) of the chunks
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    for (let c = 0; c < 4; c++) {
      const q4 = wb + QS + 32 * c;
      const q8 = xb + Q8_K_QS + 64 * c;
      const v0 = v128.load(q4), v1 = v128.load(q4, 16);
      const x0 = v128.load(q8), x1 = v128.load(q8, 16), x2 = v128.load(q8, 32), x3 = v128.load(q8, 48);
      const j0 = 2 * c, j1 = 2 * c + 1;
      const s0 = scale_splat_k4(sm, j0), s1 = scale_splat_k4(sm, j1);
      const l0 = v128.or(nibbles_lo(v0), high_bit(hb0, j0)), l1 = v128.or(nibbles_lo(v1), high_bit(hb1, j0));
      const h0 = v128.or(nibbles_hi(v0), high_bit(hb0, j1)), h1 = v128.or(nibbles_hi(v1), high_bit(hb1, j1));
      a0 = i32x4.add(a0, i32x4.add(x86_pairs_lo(l0, x0, s0), x86_pairs_lo(h0, x2, s1)));
      a1 = i32x4.add(a1, i32x4.add(x86_pairs_hi(l0, x0, s0), x86_pairs_hi(h0, x2, s1)));
      b0 = i32x4.add(b0, i32x4.add(x86_pairs_lo(l1, x1, s0), x86_pairs_lo(h1, x3, s1)));
      b1 = i32x4.add(b1, i32x4.add(x86_pairs_hi(l1, x1, s0), x86_pairs_hi(h1, x3, s1)));
    }
    const d8 = load<f32>(xb);
    const d: f32 = d8 * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(d8 * fp16_to_fp32(load<u16>(wb + DMIN)));
    summs = fma32(dmin, <f32>mins_dot_k4(sm, xb + Q8_K_BSUMS), summs);
    const dd = f64x2.splat(<f64>d);
    accLo = x86_fma_f32x4(accLo, dd, x86_quads(a0, a1));
    accHi = x86_fma_f32x4(accHi, dd, x86_quads(b0, b1));
  }
  return x86_hsum8_f32x4(accLo, accHi) + summs;
}
