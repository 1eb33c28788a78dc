// Q4_K — super-blocks of 256 weights in 8 sub-blocks of 32, 144 bytes, 4.5 bits per weight
// (ggml `block_q4_K`):
//
//   byte 0..1     d          f16 super-block scale of the sub-block scales
//   byte 2..3     dmin       f16 super-block scale of the sub-block mins
//   byte 4..15    scales[12] 8 scales sc[j] and 8 mins m[j], 6 bits each (util/kscales.ts)
//   byte 16..143  qs[128]    4-bit quants: 32-byte chunk c holds sub-block 2c in its low nibbles
//                            and sub-block 2c+1 in its high nibbles
//
//   value[32j + l] = (d·sc[j]) · q - (dmin·m[j])      q = nibble l of sub-block j, 0..15
//
// Each factor in parentheses is one f32 product, as in ggml's dequantize_row_q4_K.
//
// The dot product with Q8_K activations (q8_k.ts) reproduces llama.cpp's x86 kernel bit for bit:
// ggml_vec_dot_q4_K_q8_K, `#elif defined __AVX2__` branch (ggml-cpu-quants.c at c392e50; the lane
// scheme is util/x86.ts). Per super-block, with D = d8·f16(d) and M = −(d8·f16(dmin)) in f32:
//   L[u]    = Σ_j sc[j] · Σ q·q8 over values 32j + 4u … 32j + 4u + 3     (exact i32, u = 0..7)
//   prod[k] = m[2k]·(bsums[4k] + bsums[4k+1]) + m[2k+1]·(bsums[4k+2] + bsums[4k+3])   (exact, k < 4)
//   acc_m[k] = fma(M, f32(prod[k]), acc_m[k])        acc[u] = fma(D, f32(L[u]), acc[u])
// and at the end  hsum_float_8(acc) + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3])).
// The generic twin does this in scalars, the SIMD twin with i32x4 / f64x2 lanes (util/x86.ts).
import { fp16_to_fp32 } from '../util/fp16';
import { nibbles_hi, nibbles_lo } from '../util/simd';
import {
  get_scale_min_k4, k4_scale, k4_min, scales_mins_k4, mins_lanes_k4_generic, mins_lanes_k4, scale_splat_k4,
} from '../util/kscales';
import {
  X86_L, X86_M, X86_ACC, X86_ACC_M, X86_AUX8, x86_clear, x86_lanes_add, x86_fma, x86_hsum8, x86_hsum4,
  x86_pairs_lo, x86_pairs_hi, x86_quads, x86_fma_f32x4, x86_hsum8_f32x4, x86_hsum4_f32x4,
} from '../util/x86';
import { QK_K } from '../layout';
import { Q8_K_BYTES, Q8_K_QS, Q8_K_BSUMS } from './q8_k';

export const Q4_K_BYTES: i32 = 144;
const D = 0;
const DMIN = 2;
const SCALES = 4;
const QS = 16;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q4_K_BYTES;
}

export function dequantize_row_q4_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const xb = block(x, i);
    const d = fp16_to_fp32(load<u16>(xb + D));
    const dmin = fp16_to_fp32(load<u16>(xb + DMIN));
    const yb = y + (<usize>(i * QK_K) << 2);
    for (let c = 0; c < 4; c++) {
      const q = xb + QS + 32 * c;
      const sm1 = get_scale_min_k4(2 * c, xb + SCALES);
      const sm2 = get_scale_min_k4(2 * c + 1, xb + SCALES);
      const d1 = d * <f32>k4_scale(sm1), m1 = dmin * <f32>k4_min(sm1);
      const d2 = d * <f32>k4_scale(sm2), m2 = dmin * <f32>k4_min(sm2);
      const out = yb + (<usize>(64 * c) << 2);
      for (let l = 0; l < 32; l++) {
        const b = <u32>load<u8>(q + l);
        store<f32>(out + (<usize>l << 2), d1 * <f32>(b & 0xf) - m1);
        store<f32>(out + (<usize>(32 + l) << 2), d2 * <f32>(b >> 4) - m2);
      }
    }
  }
}

export function vec_dot_q4_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  x86_clear(X86_ACC);
  x86_clear(X86_ACC_M);
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const d8 = load<f32>(xb);
    const d: f32 = d8 * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(d8 * fp16_to_fp32(load<u16>(wb + DMIN)));
    mins_lanes_k4_generic(wb + SCALES, xb + Q8_K_BSUMS, X86_M);
    x86_fma(X86_ACC_M, dmin, X86_M, 4);
    // quants into aux8, in value order
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const b = load<u8>(wb + QS + 32 * c + l);
        store<i8>(X86_AUX8 + 64 * c + l, b & 0xf);
        store<i8>(X86_AUX8 + 64 * c + 32 + l, b >> 4);
      }
    }
    x86_clear(X86_L);
    for (let j = 0; j < 8; j++) {
      x86_lanes_add(k4_scale(get_scale_min_k4(j, wb + SCALES)), X86_AUX8 + 32 * j, xb + Q8_K_QS + 32 * j, 32 * j, 32);
    }
    x86_fma(X86_ACC, d, X86_L, 8);
  }
  return x86_hsum8(X86_ACC) + x86_hsum4(X86_ACC_M);
}

export function vec_dot_q4_K_q8_K(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK_K;
  const zero = i32x4.splat(0);
  let accLo = f32x4.splat(0), accHi = f32x4.splat(0), accM = f32x4.splat(0);
  for (let i = 0; i < nb; i++) {
    const wb = block(w, i), xb = x + <usize>i * Q8_K_BYTES;
    const sm = scales_mins_k4(wb + SCALES);
    // pair lanes (util/x86.ts) of bytes 0..7, 8..15 (a0, a1) and 16..23, 24..31 (b0, b1) of the chunks
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    for (let c = 0; c < 4; c++) {
      const q4 = wb + QS + 32 * c;
      const q8 = xb + Q8_K_QS + 64 * c;
      const v0 = v128.load(q4), v1 = v128.load(q4, 16);
      const x0 = v128.load(q8), x1 = v128.load(q8, 16), x2 = v128.load(q8, 32), x3 = v128.load(q8, 48);
      const s0 = scale_splat_k4(sm, 2 * c), s1 = scale_splat_k4(sm, 2 * c + 1);
      // sub-block 2c: low nibbles with x0, x1; sub-block 2c + 1: high nibbles with x2, x3
      const l0 = nibbles_lo(v0), l1 = nibbles_lo(v1), h0 = nibbles_hi(v0), h1 = nibbles_hi(v1);
      a0 = i32x4.add(a0, i32x4.add(x86_pairs_lo(l0, x0, s0), x86_pairs_lo(h0, x2, s1)));
      a1 = i32x4.add(a1, i32x4.add(x86_pairs_hi(l0, x0, s0), x86_pairs_hi(h0, x2, s1)));
      b0 = i32x4.add(b0, i32x4.add(x86_pairs_lo(l1, x1, s0), x86_pairs_lo(h1, x3, s1)));
      b1 = i32x4.add(b1, i32x4.add(x86_pairs_hi(l1, x1, s0), x86_pairs_hi(h1, x3, s1)));
    }
    const d8 = load<f32>(xb);
    const d: f32 = d8 * fp16_to_fp32(load<u16>(wb + D));
    const dmin: f32 = -(d8 * fp16_to_fp32(load<u16>(wb + DMIN)));
    accM = x86_fma_f32x4(accM, f64x2.splat(<f64>dmin), mins_lanes_k4(sm, xb + Q8_K_BSUMS));
    const dd = f64x2.splat(<f64>d);
    accLo = x86_fma_f32x4(accLo, dd, x86_quads(a0, a1));
    accHi = x86_fma_f32x4(accHi, dd, x86_quads(b0, b1));
  }
  return x86_hsum8_f32x4(accLo, accHi) + x86_hsum4_f32x4(accM);
}
