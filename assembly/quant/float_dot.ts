// Dot products of F32 / F16 weight rows with f32 activations, summed in exactly the order
// llama.cpp's x86 (AVX-512) CPU backend sums them, because with F16 weights the activations are
// rounded to f16 and the smallest difference upstream can flip a rounding downstream.
//
// Two orders, as llama.cpp routes a matrix product:
// - `vec_dot_*_tinyblas`: a batch of two or more tokens with a row length n % 16 == 0 goes to
//   llamafile's tinyBLAS (`llamafile_sgemm` declines n < 2 tokens, "only for prompt processing"):
//   16 lanes, lane j accumulates elements j, j+16, j+32, …; then `_mm512_reduce_add_ps`: lanes
//   (j, j+8), (j, j+4), (j, j+2), (0, 1). Other row lengths fall back to the next order.
// - `vec_dot_*`: one token (or another row length) runs ggml_vec_dot_f32 / ggml_vec_dot_f16: steps of
//   64 elements into 4 accumulators of 16 lanes, folded as acc0+acc2, acc1+acc3, then their sum,
//   reduced as above; the last n % 64 elements are added one by one (in f32 for F32 weights, in
//   double for F16 weights).
// Every multiply-add is fused, as ggml's `_mm512_fmadd_ps` (and GCC's contraction of the f32 tail)
// does; WASM has no FMA, so util/fma.ts computes the correctly rounded result through f64.
// The `_generic` twins spell the same order out in scalar code; SIMD and generic agree bit for bit.
import { fp16_to_fp32, fp16x8_lo } from '../util/fp16';
import { hsum_f32x4 } from '../util/simd';
import { fma32, fma_f32x4 } from '../util/fma';

const LANES = memory.data(64 * 4); // scratch for the generic twins: 64 scalar lane accumulators

@inline function weight<T>(w: usize, i: i32): f32 {
  if (sizeof<T>() == 2) return fp16_to_fp32(load<u16>(w + (<usize>i << 1)));
  return load<f32>(w + (<usize>i << 2));
}

/** four consecutive weights (lanes i..i+3) as f32x4 */
@inline function weight4<T>(w: usize, i: i32): v128 {
  if (sizeof<T>() == 2) return fp16x8_lo(w + (<usize>i << 1)); // the low four of eight halves
  return v128.load(w + (<usize>i << 2));
}

@inline function lane(j: i32): usize {
  return LANES + (<usize>j << 2);
}

/**
 * _mm512_reduce_add_ps over 16 scalar f32 lanes at `p` (overwritten): lanes (j, j+8), (j, j+4),
 * (j, j+2), (0, 1). Shared with the BF16 dot (bf16.ts).
 */
@inline export function reduce_add16_generic(p: usize): f32 {
  for (let j = 0; j < 8; j++) store<f32>(p + (<usize>j << 2), load<f32>(p + (<usize>j << 2)) + load<f32>(p + (<usize>(j + 8) << 2)));
  for (let j = 0; j < 4; j++) store<f32>(p + (<usize>j << 2), load<f32>(p + (<usize>j << 2)) + load<f32>(p + (<usize>(j + 4) << 2)));
  for (let j = 0; j < 2; j++) store<f32>(p + (<usize>j << 2), load<f32>(p + (<usize>j << 2)) + load<f32>(p + (<usize>(j + 2) << 2)));
  return load<f32>(p) + load<f32>(p + 4);
}

/**
 * The SIMD twin of reduce_add16_generic: 16 lanes held as four f32x4 (a0 = lanes 0..3, a1 = 4..7,
 * a2 = 8..11, a3 = 12..15), the same pairs in the same order. Shared with the BF16 dot (bf16.ts).
 */
@inline export function reduce_add16(a0: v128, a1: v128, a2: v128, a3: v128): f32 {
  return hsum_f32x4(f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3)));
}

/** _mm512_reduce_add_ps over the 16 scalar lanes at LANES */
@inline function reduce16_generic(): f32 {
  return reduce_add16_generic(LANES);
}

@inline function dot_generic<T>(tinyblas: bool, n: i32, w: usize, x: usize): f32 {
  if (tinyblas && n % 16 == 0) {
    memory.fill(LANES, 0, 16 * 4);
    for (let i = 0; i < n; i += 16) {
      for (let j = 0; j < 16; j++) {
        store<f32>(lane(j), fma32(weight<T>(w, i + j), load<f32>(x + (<usize>(i + j) << 2)), load<f32>(lane(j))));
      }
    }
    return reduce16_generic();
  }
  memory.fill(LANES, 0, 64 * 4);
  const np = n & ~63;
  for (let i = 0; i < np; i += 64) {
    for (let j = 0; j < 64; j++) {
      store<f32>(lane(j), fma32(weight<T>(w, i + j), load<f32>(x + (<usize>(i + j) << 2)), load<f32>(lane(j))));
    }
  }
  for (let j = 0; j < 16; j++) store<f32>(lane(j), load<f32>(lane(j)) + load<f32>(lane(j + 32)));
  for (let j = 16; j < 32; j++) store<f32>(lane(j), load<f32>(lane(j)) + load<f32>(lane(j + 32)));
  for (let j = 0; j < 16; j++) store<f32>(lane(j), load<f32>(lane(j)) + load<f32>(lane(j + 16)));
  return leftovers<T>(reduce16_generic(), np, n, w, x);
}

@inline function leftovers<T>(sum: f32, from: i32, n: i32, w: usize, x: usize): f32 {
  if (sizeof<T>() == 2) {
    let s = <f64>sum;
    for (let i = from; i < n; i++) s += <f64>(weight<T>(w, i) * load<f32>(x + (<usize>i << 2)));
    return <f32>s;
  }
  for (let i = from; i < n; i++) sum = fma32(weight<T>(w, i), load<f32>(x + (<usize>i << 2)), sum);
  return sum;
}

/**
 * acc + w[i..i+3]·x[i..i+3], fused. With F16 weights the activations are f16-rounded too (the F16
 * format's activation is `round_row_f16`), and the product of two f16 values has at most 22
 * significant bits and an exponent well inside f32's normal range (2^-48 … 2^32): it is exact in
 * f32, so a separate multiply and add round once, exactly as the fused operation does — no
 * emulation needed. (The `_generic` twin keeps fma32, so the tests check this equality.)
 */
@inline function fma4<T>(acc: v128, w: usize, x: usize, i: i32): v128 {
  if (sizeof<T>() == 2) return f32x4.add(f32x4.mul(weight4<T>(w, i), v128.load(x + (<usize>i << 2))), acc);
  return fma_f32x4(weight4<T>(w, i), v128.load(x + (<usize>i << 2)), acc);
}

@inline function dot_simd<T>(tinyblas: bool, n: i32, w: usize, x: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  if (tinyblas && n % 16 == 0) {
    for (let i = 0; i < n; i += 16) {
      a0 = fma4<T>(a0, w, x, i);
      a1 = fma4<T>(a1, w, x, i + 4);
      a2 = fma4<T>(a2, w, x, i + 8);
      a3 = fma4<T>(a3, w, x, i + 12);
    }
    return reduce_add16(a0, a1, a2, a3);
  }
  // 4 accumulators × 16 lanes = 16 f32x4: accumulator k lanes 4q..4q+3 are b[4k+q]
  let b4 = f32x4.splat(0), b5 = f32x4.splat(0), b6 = f32x4.splat(0), b7 = f32x4.splat(0);
  let b8 = f32x4.splat(0), b9 = f32x4.splat(0), b10 = f32x4.splat(0), b11 = f32x4.splat(0);
  let b12 = f32x4.splat(0), b13 = f32x4.splat(0), b14 = f32x4.splat(0), b15 = f32x4.splat(0);
  const np = n & ~63;
  for (let i = 0; i < np; i += 64) {
    a0 = fma4<T>(a0, w, x, i);
    a1 = fma4<T>(a1, w, x, i + 4);
    a2 = fma4<T>(a2, w, x, i + 8);
    a3 = fma4<T>(a3, w, x, i + 12);
    b4 = fma4<T>(b4, w, x, i + 16);
    b5 = fma4<T>(b5, w, x, i + 20);
    b6 = fma4<T>(b6, w, x, i + 24);
    b7 = fma4<T>(b7, w, x, i + 28);
    b8 = fma4<T>(b8, w, x, i + 32);
    b9 = fma4<T>(b9, w, x, i + 36);
    b10 = fma4<T>(b10, w, x, i + 40);
    b11 = fma4<T>(b11, w, x, i + 44);
    b12 = fma4<T>(b12, w, x, i + 48);
    b13 = fma4<T>(b13, w, x, i + 52);
    b14 = fma4<T>(b14, w, x, i + 56);
    b15 = fma4<T>(b15, w, x, i + 60);
  }
  // acc0 += acc2, acc1 += acc3, acc0 += acc1
  a0 = f32x4.add(f32x4.add(a0, b8), f32x4.add(b4, b12));
  a1 = f32x4.add(f32x4.add(a1, b9), f32x4.add(b5, b13));
  a2 = f32x4.add(f32x4.add(a2, b10), f32x4.add(b6, b14));
  a3 = f32x4.add(f32x4.add(a3, b11), f32x4.add(b7, b15));
  return leftovers<T>(reduce_add16(a0, a1, a2, a3), np, n, w, x);
}

/** Σ x[i]·y[i] over n f32 values, in ggml_vec_dot_f32's order (one token) */
export function vec_dot_f32(n: i32, x: usize, y: usize): f32 { return dot_simd<f32>(false, n, x, y); }
export function vec_dot_f32_generic(n: i32, x: usize, y: usize): f32 { return dot_generic<f32>(false, n, x, y); }
/** the same in tinyBLAS's order (a batch of tokens) */
export function vec_dot_f32_tinyblas(n: i32, x: usize, y: usize): f32 { return dot_simd<f32>(true, n, x, y); }
export function vec_dot_f32_tinyblas_generic(n: i32, x: usize, y: usize): f32 { return dot_generic<f32>(true, n, x, y); }

/** Σ w[i]·x[i], w f16, x f32 (f16-rounded when llama.cpp rounds it, see f16.ts) */
export function vec_dot_f16(n: i32, w: usize, x: usize): f32 { return dot_simd<u16>(false, n, w, x); }
export function vec_dot_f16_generic(n: i32, w: usize, x: usize): f32 { return dot_generic<u16>(false, n, w, x); }
export function vec_dot_f16_tinyblas(n: i32, w: usize, x: usize): f32 { return dot_simd<u16>(true, n, w, x); }
export function vec_dot_f16_tinyblas_generic(n: i32, w: usize, x: usize): f32 { return dot_generic<u16>(true, n, w, x); }
