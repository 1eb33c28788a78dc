// F32 weights: 4 bytes per value, 32 bits per weight. Activation format: F32 (as ggml's vec_dot_f32).
import { hsum_f32x4 } from '../util/simd';

/** Σ x[i]·y[i] over n f32 values (sequential order). */
export function vec_dot_f32_generic(n: i32, x: usize, y: usize): f32 {
  let sum: f32 = 0;
  for (let i = 0; i < n; i++) {
    sum += load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2));
  }
  return sum;
}

/** Σ x[i]·y[i] with four f32x4 accumulators (16 values per step) and a scalar tail. */
export function vec_dot_f32(n: i32, x: usize, y: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const n16 = n & ~15;
  let i = 0;
  for (; i < n16; i += 16) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(x + o), v128.load(y + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(x + o, 32), v128.load(y + o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(x + o, 48), v128.load(y + o, 48)));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  let sum = hsum_f32x4(f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3)));
  for (; i < n; i++) sum += load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2));
  return sum;
}

export function dequantize_row_f32(x: usize, y: usize, n: i32): void {
  memory.copy(y, x, <usize>n << 2);
}
