// The exponential llama.cpp's x86 CPU backend uses in softmax and SiLU: `ggml_v_expf`, ARM's
// optimized-routines expf (max error 1.45 ulp + 0.5) as ggml's AVX-512 build evaluates it. We
// evaluate the same polynomial with the same fused multiply-adds, so attention probabilities and
// SwiGLU outputs come out as llama.cpp's do, bit for bit; a correctly rounded expf would differ
// from it in the last bit often enough to move f16-rounded activations downstream.
//
// WASM has no fused multiply-add. `fma32` computes the correctly rounded f32 a·b + c (IEEE 754
// fusedMultiplyAdd, round to nearest even) from f64 arithmetic. The product p = a·b is exact in f64
// (two 24-bit significands, exponents far inside f64's range), so only the sum is rounded:
// - fast path: s = p + c rounded to f64, then to f32. Both roundings are monotone and every f32
//   rounding boundary (a tie: the midpoint of two neighbouring f32 values, in the normal range)
//   is an f64 value, so the exact sum and s lie on the same side of every boundary unless s *is*
//   one: f32(s) is correctly rounded whenever s is not an f32 tie (low 29 significand bits
//   0x10000000). Results below 2^-126 in magnitude (f32 subnormals, where ties look different)
//   take the exact path too; both cases are rare.
// - exact path (`fma32_exact`): s rounded to odd instead — the TwoSum error err = (p + c) − s, and
//   if err ≠ 0 and s is even, s moves one f64 ulp towards err. Rounding to odd with ≥ p + 2 bits and
//   then to nearest with p bits is the correctly rounded result (Boldo & Melquiond, "Emulation of
//   FMA and correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 2008).
// Without it the f64 rounding can land exactly on an f32 tie that the exact sum misses (double
// rounding), e.g. fma32(2^-24·(1 + 2^-23), 1 - 2^-23, 1 + 2^-23). Non-finite inputs give err = NaN
// and skip the nudge (s is already the IEEE result). s = 0 with err ≠ 0 is impossible (the exact
// sum is a multiple of 2^-298, representable), so the nudge never crosses zero.
import { demote_f64x2x2, fma_f32x4 } from './fma';

@inline export function fma32(a: f32, b: f32, c: f32): f32 {
  const s = <f64>a * <f64>b + <f64>c;
  if (f32_rounding_is_unsure(s)) return fma32_exact(a, b, c);
  return <f32>s;
}

/** true when f32(s) may differ from the correctly rounded f32 of the exact value s was rounded from */
@inline export function f32_rounding_is_unsure(s: f64): bool {
  const bits = reinterpret<u64>(s);
  const tie = (bits & 0x1fffffff) == 0x10000000;
  const tiny = ((bits >> 52) & 0x7ff) < 897 && (bits << 1) != 0; // 0 < |s| < 2^-126
  return tie | tiny;
}

/** fma32 through rounding to odd, every time (the exact path; out of line to keep callers small) */
export function fma32_exact(a: f32, b: f32, c: f32): f32 {
  const p = <f64>a * <f64>b;
  const cc = <f64>c;
  const s = p + cc;
  const bb = s - p;
  const err = (p - (s - bb)) + (cc - bb);
  let bits = reinterpret<u64>(s);
  if (err != 0 && err == err && (bits & 1) == 0) {
    // same sign: |exact| > |s|, one ulp up in magnitude; opposite: one ulp down
    bits += ((bits ^ reinterpret<u64>(err)) >> 63) != 0 ? <u64>-1 : 1;
  }
  return <f32>reinterpret<f64>(bits);
}

// hexadecimal float constants of ggml_v_expf, as bit patterns
const SHIFT: f32 = reinterpret<f32>(0x4b400000);      // 0x1.8p23
const LOG2E: f32 = reinterpret<f32>(0x3fb8aa3b);      // 0x1.715476p+0
const LN2_LO: f32 = reinterpret<f32>(0x35bfbe8e);     // 0x1.7f7d1cp-20
const LN2_HI: f32 = reinterpret<f32>(0x3f317200);     // 0x1.62e4p-1
const C5: f32 = reinterpret<f32>(0x3c072010);         // 0x1.0e4020p-7
const C4: f32 = reinterpret<f32>(0x3d2b9f17);         // 0x1.573e2ep-5
const C3: f32 = reinterpret<f32>(0x3e2aaf33);         // 0x1.555e66p-3
const C2: f32 = reinterpret<f32>(0x3efffedb);         // 0x1.fffdb6p-2
const C1: f32 = reinterpret<f32>(0x3f7ffff6);         // 0x1.ffffecp-1

/** e^x as ggml_v_expf (AVX-512 variant): 2^n · p(b) with n = round(x·log2 e), b = x - n·ln 2. */
export function ggml_expf(x: f32): f32 {
  const z = fma32(x, LOG2E, SHIFT);
  const n = z - SHIFT;
  const b = fma32(-n, LN2_LO, fma32(-n, LN2_HI, x));
  if (abs(n) > 192) return n > 0 ? Infinity : 0;
  const u = b * b;
  const j = fma32(fma32(fma32(C5, b, C4), u, fma32(C3, b, C2)), u, fma32(C1, b, 1));
  // _mm512_scalef_ps(j, n): j · 2^n rounded once; 2^n (|n| ≤ 192) built from its exponent bits,
  // so the f64 product is exact and the only rounding is to f32
  return <f32>(<f64>j * reinterpret<f64>(<u64>(1023 + <i32>n) << 52));
}

/**
 * ggml_expf of four lanes: the same fused multiply-adds lane by lane (fma_f32x4: one relaxed_madd in
 * the relaxed-SIMD module, chosen only where it is fused; else fma32's f64 emulation), the same
 * scaling by 2^n in f64 and the same Inf / 0 beyond |n| > 192 (chosen by a select) — the same bits.
 */
@inline export function ggml_expf_x4(x: v128): v128 {
  const shift = f32x4.splat(SHIFT);
  const z = fma_f32x4(x, f32x4.splat(LOG2E), shift);
  const n = f32x4.sub(z, shift);
  const nn = f32x4.neg(n);
  const b = fma_f32x4(nn, f32x4.splat(LN2_LO), fma_f32x4(nn, f32x4.splat(LN2_HI), x));
  const u = f32x4.mul(b, b);
  const j = fma_f32x4(
    fma_f32x4(fma_f32x4(f32x4.splat(C5), b, f32x4.splat(C4)), u, fma_f32x4(f32x4.splat(C3), b, f32x4.splat(C2))), u,
    fma_f32x4(f32x4.splat(C1), b, f32x4.splat(1)));
  // j · 2^n, 2^n from its f64 exponent bits (garbage where |n| > 192, which the select replaces)
  const e = i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(1023));
  const lo = f64x2.mul(f64x2.promote_low_f32x4(j), i64x2.shl(i64x2.extend_low_i32x4_s(e), 52));
  const hi = f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(j, j, 2, 3, 2, 3)), i64x2.shl(i64x2.extend_high_i32x4_s(e), 52));
  const limit = v128.bitselect(f32x4.splat(Infinity), f32x4.splat(0), f32x4.gt(n, f32x4.splat(0)));
  return v128.bitselect(limit, demote_f64x2x2(lo, hi), f32x4.gt(f32x4.abs(n), f32x4.splat(192)));
}

/** y[i] = ggml_expf(x[i]) for i < n, four at a time by ggml_expf_x4 (the tail one by one) */
export function ggml_expf_row(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), ggml_expf_x4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), ggml_expf(load<f32>(x + (<usize>i << 2))));
}

/** A correctly rounded expf (glibc's), for the element tails ggml leaves to libm. */
@inline export function libm_expf(x: f32): f32 {
  return <f32>Math.exp(<f64>x);
}

/** Σ of 16 f32 in _mm512_reduce_add_ps's order: lanes (i, i+8), then (i, i+4), (i, i+2), (0, 1). */
@inline export function reduce_add_16(p: usize): f32 {
  const a = f32x4.add(v128.load(p), v128.load(p, 32));       // lanes 0-3 + 8-11
  const b = f32x4.add(v128.load(p, 16), v128.load(p, 48));   // lanes 4-7 + 12-15
  const s = f32x4.add(a, b);
  const t = f32x4.add(s, i32x4.shuffle(s, s, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}
