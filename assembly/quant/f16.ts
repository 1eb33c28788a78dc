// F16 weights: IEEE half, 2 bytes per value, 16 bits per weight.
//
// Activation format "F16": llama.cpp rounds the activation row to f16 (vec_dot_type = F16) and its
// x86 dot converts both sides back to f32 before multiplying. We keep the activation as f32 values
// already rounded to f16 (`round_row_f16`), which gives the same products without converting the
// activation again for every weight row.
import { fp16_to_fp32, fp32_to_fp16, fp16x8_lo, fp16x8_hi } from '../util/fp16';
import { hsum_f32x4 } from '../util/simd';

/** y[i] = f32(f16(x[i])): the activation as llama.cpp's F16 dot sees it. */
export function round_row_f16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, fp16_to_fp32(fp32_to_fp16(load<f32>(x + o))));
  }
}

export function dequantize_row_f16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), fp16_to_fp32(load<u16>(x + (<usize>i << 1))));
}

/** Σ w[i]·x[i], w f16, x f16-rounded f32 (sequential order). */
export function vec_dot_f16_generic(n: i32, w: usize, x: usize): f32 {
  let sum: f32 = 0;
  for (let i = 0; i < n; i++) {
    sum += fp16_to_fp32(load<u16>(w + (<usize>i << 1))) * load<f32>(x + (<usize>i << 2));
  }
  return sum;
}

/** Σ w[i]·x[i], 16 halves per step into four f32x4 accumulators, scalar tail. */
export function vec_dot_f16(n: i32, w: usize, x: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const n16 = n & ~15;
  let i = 0;
  for (; i < n16; i += 16) {
    const pw = w + (<usize>i << 1);
    const px = x + (<usize>i << 2);
    a0 = f32x4.add(a0, f32x4.mul(fp16x8_lo(pw), v128.load(px)));
    a1 = f32x4.add(a1, f32x4.mul(fp16x8_hi(pw), v128.load(px, 16)));
    a2 = f32x4.add(a2, f32x4.mul(fp16x8_lo(pw + 16), v128.load(px, 32)));
    a3 = f32x4.add(a3, f32x4.mul(fp16x8_hi(pw + 16), v128.load(px, 48)));
  }
  for (; i + 8 <= n; i += 8) {
    const pw = w + (<usize>i << 1);
    const px = x + (<usize>i << 2);
    a0 = f32x4.add(a0, f32x4.mul(fp16x8_lo(pw), v128.load(px)));
    a1 = f32x4.add(a1, f32x4.mul(fp16x8_hi(pw), v128.load(px, 16)));
  }
  let sum = hsum_f32x4(f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3)));
  for (; i < n; i++) sum += fp16_to_fp32(load<u16>(w + (<usize>i << 1))) * load<f32>(x + (<usize>i << 2));
  return sum;
}
