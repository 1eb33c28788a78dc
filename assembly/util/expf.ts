// The exponential llama.cpp's x86 CPU backend uses in softmax and SiLU: `ggml_v_expf`, ARM's
// optimized-routines expf (max error 1.45 ulp + 0.5) as ggml's AVX-512 build evaluates it. We
// evaluate the same polynomial with the same fused multiply-adds, so attention probabilities and
// SwiGLU outputs come out as llama.cpp's do, bit for bit; a correctly rounded expf would differ
// from it in the last bit often enough to move f16-rounded activations downstream.
//
// WASM has no fused multiply-add. `fma32` computes the correctly rounded f32 a·b + c (IEEE 754
// fusedMultiplyAdd, round to nearest even) from f64 arithmetic:
//   1. p = a·b is exact in f64 (two 24-bit significands, exponents far inside f64's range);
//   2. s = p + c rounded to f64, and the rounding error err = (p + c) − s exactly (TwoSum, Knuth);
//   3. if err ≠ 0 and s is even (last significand bit 0), s moves one f64 ulp towards err — the
//      odd neighbour: s is then p + c rounded to odd in f64's 53 bits;
//   4. f32(s). Rounding to odd with ≥ p + 2 bits and then to nearest with p bits is the correctly
//      rounded result (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
//      algorithms using rounding to odd", IEEE TC 2008): an odd f64 is never an f32 tie, and it
//      lies on the same side of every f32 tie as the exact sum.
// Without step 3 the f64 rounding can land exactly on an f32 tie that the exact sum misses (double
// rounding), e.g. fma32(2^-24·(1 + 2^-23), 1 - 2^-23, 1 + 2^-23). Non-finite inputs give err = NaN
// and skip the nudge (s is already the IEEE result). s = 0 with err ≠ 0 is impossible (the exact
// sum is a multiple of 2^-298, representable), so the nudge never crosses zero.
@inline export function fma32(a: f32, b: f32, c: f32): f32 {
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
  // _mm512_scalef_ps(j, n): j · 2^n rounded once
  return <f32>(<f64>j * Math.pow(2, <f64>n));
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
