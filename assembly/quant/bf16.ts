// BF16 — one "brain float" per weight, 2 bytes, 16 bits per weight (ggml `ggml_bf16_t`), no blocks:
//
//   byte 2i..2i+1   bits[i]   u16: the upper half of an f32 (s eeeeeeee mmmmmmm, bias 127)
//
//   value[i] = f32 with bits (bits[i] << 16)        (exact; Inf and NaN payloads carry over)
//
// Activation format "BF16": llama.cpp converts the activation row to bf16 (vec_dot_type = BF16,
// GGML_FP32_TO_BF16: round to nearest even on the upper 16 bits, NaN forced quiet, no flush of
// subnormals) and its x86 dot widens both sides back to f32. We keep the activation as f32 values
// already rounded to bf16 (`round_row_bf16`), so the dot sees the same numbers.
//
// Two bf16 numbers have 8 significant bits each, so every product w·x is exact in f32 (barring
// underflow below 2^-126 / overflow): ggml's fused multiply-adds and our separate multiply + add give
// the same sums. The summation order is llama.cpp's on x86 AVX-512 (without AVX512-BF16), by row length:
//
// - n % 16 == 0: llamafile's tinyBLAS<16, __m512, __m512, ggml_bf16_t> — exactly the F16 order of
//   float_dot.ts: 16 lanes, lane j accumulates elements j, j+16, j+32, …, then _mm512_reduce_add_ps.
// - otherwise ggml_vec_dot_bf16 (AVX512F branch): steps of 32 elements into two accumulators of 16
//   lanes (c1: elements i..i+15, c2: i+16..i+31); in double, sum = reduce(c1), sum += reduce(c2); the
//   last n % 32 products are added one by one in double; the double is rounded to f32 at the end.
//   (This differs from ggml_vec_dot_f16, which steps by 64 into four accumulators.)
//
// The `_generic` twin spells both orders out in scalar code; SIMD and generic agree bit for bit.
import { bf16_to_fp32, fp32_to_bf16 } from '../util/fp16';
import { reduce_add16, reduce_add16_generic } from './float_dot';

const LANES = memory.data(32 * 4); // scratch for the generic twin: two accumulators of 16 scalar lanes

export function dequantize_row_bf16(x: usize, y: usize, k: i32): void {
  for (let i = 0; i < k; i++) store<f32>(y + (<usize>i << 2), bf16_to_fp32(load<u16>(x + (<usize>i << 1))));
}

/** y[i] = f32(bf16(x[i])): the activation as llama.cpp's BF16 dot sees it */
export function round_row_bf16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, bf16_to_fp32(fp32_to_bf16(load<f32>(x + o))));
  }
}

/** f32(w[i]) · x[i] */
@inline function prod(w: usize, x: usize, i: i32): f32 {
  return bf16_to_fp32(load<u16>(w + (<usize>i << 1))) * load<f32>(x + (<usize>i << 2));
}

/** f32(w[i..i+3]) · x[i..i+3] as f32x4 (the widening is a zero-extend and shift by 16) */
@inline function prod4(w: usize, x: usize, i: i32): v128 {
  const wv = i32x4.shl(v128.load16x4_u(w + (<usize>i << 1)), 16);
  return f32x4.mul(wv, v128.load(x + (<usize>i << 2)));
}

@inline function lane(j: i32): usize {
  return LANES + (<usize>j << 2);
}

export function vec_dot_bf16_generic(n: i32, w: usize, x: usize): f32 {
  if (n % 16 == 0) {
    memory.fill(LANES, 0, 16 * 4);
    for (let i = 0; i < n; i += 16) {
      for (let j = 0; j < 16; j++) store<f32>(lane(j), load<f32>(lane(j)) + prod(w, x, i + j));
    }
    return reduce_add16_generic(LANES);
  }
  memory.fill(LANES, 0, 32 * 4);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    for (let j = 0; j < 32; j++) store<f32>(lane(j), load<f32>(lane(j)) + prod(w, x, i + j));
  }
  let sum: f64 = 0;
  sum += <f64>reduce_add16_generic(lane(0));
  sum += <f64>reduce_add16_generic(lane(16));
  for (; i < n; i++) sum += <f64>prod(w, x, i);
  return <f32>sum;
}

export function vec_dot_bf16(n: i32, w: usize, x: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  if (n % 16 == 0) {
    for (let i = 0; i < n; i += 16) {
      a0 = f32x4.add(a0, prod4(w, x, i));
      a1 = f32x4.add(a1, prod4(w, x, i + 4));
      a2 = f32x4.add(a2, prod4(w, x, i + 8));
      a3 = f32x4.add(a3, prod4(w, x, i + 12));
    }
    return reduce_add16(a0, a1, a2, a3);
  }
  // c1 = a0..a3 (elements i..i+15), c2 = b0..b3 (elements i+16..i+31)
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = f32x4.add(a0, prod4(w, x, i));
    a1 = f32x4.add(a1, prod4(w, x, i + 4));
    a2 = f32x4.add(a2, prod4(w, x, i + 8));
    a3 = f32x4.add(a3, prod4(w, x, i + 12));
    b0 = f32x4.add(b0, prod4(w, x, i + 16));
    b1 = f32x4.add(b1, prod4(w, x, i + 20));
    b2 = f32x4.add(b2, prod4(w, x, i + 24));
    b3 = f32x4.add(b3, prod4(w, x, i + 28));
  }
  let sum: f64 = 0;
  sum += <f64>reduce_add16(a0, a1, a2, a3);
  sum += <f64>reduce_add16(b0, b1, b2, b3);
  for (; i < n; i++) sum += <f64>prod(w, x, i);
  return <f32>sum;
}
