// Proves the WASM kernels (assembly/) against their scalar `_generic` twins and against independent
// JavaScript references, and the dequantizers against llama.cpp's reference values.
//
// Tolerances are never arbitrary: every bound is derived from the data with the usual
// floating-point error analysis (u = 2^-24 is the f32 unit roundoff; γ_n = n·u / (1 - n·u) bounds
// the error of an n-term dot product in any summation order, Higham (3.4)), and where the kernels
// document an exact order or an exact result the test asserts bit equality.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindFormat, createEngine, type BoundFormat, type KernelExports } from '../src/wasm/instance.js';
import { readGguf } from '../src/gguf/reader.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';
import { FORMATS, activationRowBytes, rowBytes, runnableFormat } from '../src/quant/formats.js';
import { readJsonFixture } from './helpers/fixtures.js';
import { decompose, roundExactToF32 } from './helpers/exact-float.js';
import { compileTestKernels } from './helpers/test-kernels.js';
import { mulberry32, randInt, type Rng, uniform } from './helpers/rng.js';
import { exponentOf, halfToNumber, numberToHalf, roundHalfEven, roundToHalf } from './helpers/half.js';
import { forMulMat, toRows4 } from './helpers/rows4.js';
import { withQ8_0xExtras } from './helpers/q8_0x.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const F32 = 0;
const F16 = 1;
const Q8_0 = 8;
const QK = 32;          // values per Q8_0 block
const QB = 34;          // bytes per Q8_0 block
const U = 2 ** -24;     // f32 unit roundoff
const U64 = 2 ** -53;   // f64 unit roundoff
const fr = Math.fround;

// ------------------------------------------------------------------------------------------------
// engine and memory helpers

const engine = createEngine({ generic: false });
/** the shared kernels, typed, plus every per-format export by name */
const K = engine.exports as KernelExports & Record<string, (...args: number[]) => number>;
/** a format's kernels as the model binds them: SIMD (`fmt`) and the scalar twins (`fmtG`) */
const genericFormats = new Map([...FORMATS].map(([id, spec]) => [id, bindFormat(engine.exports, spec, true)]));
const fmt = (type: number) => engine.formats.get(type)!;
const fmtG = (type: number) => genericFormats.get(type)!;
/** what the forward pass does to an f32 row before a weight of this format multiplies it */
function quantizeActivation(f: BoundFormat, x: number, y: number, n: number): void {
  if (f.quantize) f.quantize(x, y, n);
  else arena.bytes(y, n * 4).set(arena.bytes(x, n * 4));
}
const arena = engine.arena;
const live: number[] = [];

/** Arena allocation released after the current test (views must be re-created after any alloc). */
function alloc(bytes: number): number {
  const p = arena.alloc(bytes);
  live.push(p);
  return p;
}
afterEach(() => {
  for (const p of live.splice(0)) arena.release(p);
});

/** Copy f32 values into fresh WASM memory at byte offset `misalign` past a 64-byte boundary. */
function putF32(values: ArrayLike<number>, misalign = 0): number {
  const p = alloc(misalign + values.length * 4) + misalign;
  new Float32Array(arena.memory.buffer, p, values.length).set(values);
  return p;
}
/** Copy 16-bit values (f16 bit patterns) into fresh WASM memory, little-endian. */
function putU16(values: ArrayLike<number>, misalign = 0): number {
  const p = alloc(misalign + values.length * 2) + misalign;
  const view = new DataView(arena.memory.buffer, p, values.length * 2);
  for (let i = 0; i < values.length; i++) view.setUint16(2 * i, values[i], true);
  return p;
}
function putBytes(bytes: Uint8Array, misalign = 0): number {
  const p = alloc(misalign + bytes.length) + misalign;
  arena.bytes(p, bytes.length).set(bytes);
  return p;
}
/** A copy (not a view) of n f32 at p. */
const getF32 = (p: number, n: number): Float32Array => new Float32Array(arena.memory.buffer.slice(p, p + 4 * n));
const getBytes = (p: number, n: number): Uint8Array => arena.bytes(p, n).slice();

// ------------------------------------------------------------------------------------------------
// numeric helpers

/** n f32 values: uniform in ±scale, or with mixed magnitudes (±scale·2^[-4,4]) to stress ordering. */
function randomF32(rng: Rng, n: number, scale = 1, mixed = false): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng() - 1) * scale * (mixed ? 2 ** uniform(rng, -4, 4) : 1);
  return a;
}

const bitBuf = new DataView(new ArrayBuffer(4));
const f32Bits = (x: number): number => (bitBuf.setFloat32(0, x), bitBuf.getUint32(0));
const bitsF32 = (b: number): number => (bitBuf.setUint32(0, b >>> 0), bitBuf.getFloat32(0));
/** Neighbouring f32 values (x a positive finite f32). */
const nextUp32 = (x: number) => bitsF32(f32Bits(x) + 1);
const nextDown32 = (x: number) => bitsF32(f32Bits(x) - 1);

/** Spacing of f32 values at |y| (subnormal spacing 2^-149 below 2^-126). */
const ulp32 = (y: number): number => (y === 0 ? 2 ** -149 : 2 ** Math.max(exponentOf(y) - 23, -149));

/** γ_n = n·u/(1-n·u): bound on |fl(Σ x_i y_i) - Σ x_i y_i| / Σ|x_i y_i| in any order (plus an
 *  underflow allowance of 2^-150 per product, the absolute error of a gradual-underflow product). */
const gamma = (n: number, u = U) => (n * u) / (1 - n * u);
const dotBound = (n: number, sumAbs: number) => gamma(n) * sumAbs + n * 2 ** -150;
/** error of our float64 references: negligible, but included so the bounds stay rigorous */
const refBound = (n: number, sumAbs: number) => gamma(n + 1, U64) * sumAbs;

/** First few indices where |got - want| > bound (NaN in either counts as a violation). */
function violations(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, max = 5) {
  const out: string[] = [];
  for (let i = 0; i < want.length && out.length < max; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= bound(i))) out.push(`[${i}] got ${got[i]} want ${want[i]} |err| ${err.toExponential(3)} > ${bound(i).toExponential(3)}`);
  }
  return out;
}

/** First few indices where two f32 arrays differ in any bit. */
function bitDiffs(a: Float32Array, b: Float32Array, max = 5): string[] {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: string[] = [];
  for (let i = 0; i < a.length && out.length < max; i++) {
    if (ua[i] !== ub[i]) out.push(`[${i}] ${a[i]} (0x${ua[i].toString(16)}) vs ${b[i]} (0x${ub[i].toString(16)})`);
  }
  return out;
}

/** same value incl. the sign of zero, or both NaN */
const sameF = (a: number, b: number) => Object.is(a, b);

// sizes covering one step, whole steps and tails of the kernels' 4-, 16- and 64-wide loops
// (n % 16 == 0 takes the 16-lane path of the float dots, other n the 64-step path with a tail)
const SIZES = [1, 2, 3, 4, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129, 172, 256, 768, 1000];

// ------------------------------------------------------------------------------------------------
describe('fp16 conversions', () => {
  it('fp16_to_fp32 decodes all 65536 bit patterns like the independent decoder', () => {
    const bad: string[] = [];
    let nans = 0;
    for (let h = 0; h < 65536; h++) {
      const got = K.fp16_to_fp32(h);
      const want = halfToNumber(h);
      if (Number.isNaN(want)) nans++;
      if (!sameF(got, want)) bad.push(`0x${h.toString(16)}: ${got} vs ${want}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(nans).toBe(2 * 1023);
  });

  it('dequantize_row_f16 (scalar path, stored f32 bits) matches the decoder; NaN keeps sign and stays NaN', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const src = putU16(all);
    const dst = alloc(65536 * 4);
    K.dequantize_row_f16(src, dst, 65536);
    const out = getF32(dst, 65536);
    const bits = new Uint32Array(out.buffer);
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = halfToNumber(h);
      if (Number.isNaN(want)) {
        const b = bits[h];
        if ((b & 0x7f800000) !== 0x7f800000 || (b & 0x7fffff) === 0 || (b >>> 31) !== h >>> 15) bad.push(`NaN 0x${h.toString(16)} → 0x${b.toString(16)}`);
      } else if (!sameF(out[h], want)) bad.push(`0x${h.toString(16)}: ${out[h]} vs ${want}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('the SIMD half → f32 path (inside vec_dot_f16) decodes all 65536 patterns in every lane position', () => {
    // row h: sixteen halves, all +0 except h at lane p = h mod 16; the activation is one-hot at p,
    // so the dot is exactly h·1 (plus +0 terms, which turn -0 into +0)
    const n = 16;
    const w = new Uint16Array(65536 * n);
    for (let h = 0; h < 65536; h++) w[h * n + (h % n)] = h;
    const wp = putU16(w);
    const onehot = new Float32Array(n * n);
    for (let p = 0; p < n; p++) onehot[p * n + p] = 1;
    const xp = putF32(onehot);
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const got = K.vec_dot_f16(n, wp + h * n * 2, xp + (h % n) * n * 4);
      const want = halfToNumber(h);
      const ok = want === 0 ? got === 0 : sameF(got, want);
      if (!ok) bad.push(`0x${h.toString(16)}: ${got} vs ${want}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('fp32_to_fp16 edge cases', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [fr(0.1), 0x2e66],
      [65504, 0x7bff], [fr(65519.99), 0x7bff], [65520, 0x7c00], [65536, 0x7c00], [1e10, 0x7c00], [-1e10, 0xfc00],
      [Infinity, 0x7c00], [-Infinity, 0xfc00], [fr(3.4e38), 0x7c00],
      [1 + 2 ** -11, 0x3c00],            // tie between 0x3c00 and 0x3c01 → even
      [1 + 3 * 2 ** -11, 0x3c02],        // tie between 0x3c01 and 0x3c02 → even
      [1 + 2 ** -11 + 2 ** -23, 0x3c01], // just above the tie
      [2 ** -14, 0x0400],                // min normal
      [2 ** -14 - 2 ** -25, 0x0400],     // tie between max subnormal and min normal → even (0x400)
      [2 ** -14 - 2 ** -24, 0x03ff],     // max subnormal
      [2 ** -24, 0x0001],                // min subnormal
      [2 ** -25, 0x0000],                // tie between 0 and min subnormal → even (0)
      [fr(2 ** -25 + 2 ** -40), 0x0001], // just above
      [3 * 2 ** -25, 0x0002],            // tie 1.5 units → 2
      [-(2 ** -24), 0x8001], [fr(1e-8), 0x0000], [fr(-1e-8), 0x8000], [2 ** -149, 0x0000], [-(2 ** -149), 0x8000],
    ];
    for (const [x, want] of cases) {
      expect(fr(x), `test case ${x} must be an f32`).toBe(x);
      expect(numberToHalf(x), `reference encoder on ${x}`).toBe(want);
      expect(K.fp32_to_fp16(x), `fp32_to_fp16(${x})`).toBe(want);
    }
    const nan = K.fp32_to_fp16(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
  });

  it('fp32_to_fp16 rounds exactly at every half-way point between adjacent halves (both signs)', () => {
    const bad: string[] = [];
    const check = (x: number, want: number) => {
      const got = K.fp32_to_fp16(x);
      if (got !== want) bad.push(`${x}: 0x${got.toString(16)} want 0x${want.toString(16)}`);
    };
    for (let h = 0; h <= 0x7bff; h++) {
      const lo = halfToNumber(h);
      const hi = h === 0x7bff ? 65536 : halfToNumber(h + 1); // rounding treats 2^16 as the next value
      const mid = (lo + hi) / 2;
      expect(fr(mid)).toBe(mid); // midpoints need 12 significant bits: exact in f32
      for (const s of [0, 0x8000]) {
        const sg = s ? -1 : 1;
        check(sg * lo, s | h);
        check(sg * nextDown32(mid), s | h);
        check(sg * mid, s | (h & 1 ? h + 1 : h)); // ties to even
        check(sg * nextUp32(mid), s | (h + 1));
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('fp32_to_fp16 matches the reference encoder on random floats', () => {
    const rng = mulberry32(1);
    const bad: string[] = [];
    const check = (x: number) => {
      const got = K.fp32_to_fp16(x);
      const want = numberToHalf(x);
      const bothNan = (got & 0x7c00) === 0x7c00 && (got & 0x3ff) !== 0 && Number.isNaN(x);
      if (got !== want && !bothNan) bad.push(`${x}: 0x${got.toString(16)} want 0x${want.toString(16)}`);
    };
    for (let i = 0; i < 100000; i++) check(bitsF32(Math.floor(rng() * 2 ** 32)));   // every exponent
    for (let i = 0; i < 100000; i++) check(fr(uniform(rng, -70000, 70000)));         // the half range
    for (let i = 0; i < 100000; i++) check(fr((2 * rng() - 1) * 2 ** uniform(rng, -26, -13))); // subnormal halves
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
/** _mm512_reduce_add_ps over lanes L[0..15], each add rounded to f32: (j, j+8), (j, j+4), (j, j+2), (0, 1). */
function reduceAdd16(L: Float64Array): number {
  for (const half of [8, 4, 2, 1]) for (let j = 0; j < half; j++) L[j] = fr(L[j] + L[j + half]);
  return L[0];
}
/**
 * Bit-exact emulation of the summation orders assembly/quant/float_dot.ts documents (llama.cpp's
 * x86 AVX-512 orders; every multiply-add fused, as x86's vfmadd):
 * - tinyBLAS (a batch of tokens, n % 16 == 0): 16 lanes, lane j accumulates elements ≡ j (mod 16)
 *   by exact FMAs, then reduceAdd16;
 * - ggml_vec_dot_f32/f16 (one token, or another n): steps of 64 into 4 accumulators × 16 lanes,
 *   folded (acc0+acc2) + (acc1+acc3), reduceAdd16, then the last n % 64 elements one by one: fused
 *   in f32 for F32 weights, the f32 product added in double for F16 weights.
 */
function dotGgmlOrder(w: ArrayLike<number>, x: ArrayLike<number>, f64Tail: boolean, tinyblas: boolean): number {
  const n = w.length;
  if (tinyblas && n % 16 === 0) {
    const L = new Float64Array(16);
    for (let i = 0; i < n; i++) L[i % 16] = fmaExact(w[i], x[i], L[i % 16]);
    return reduceAdd16(L);
  }
  const np = n & ~63;
  const A = new Float64Array(64);
  for (let i = 0; i < np; i++) A[i % 64] = fmaExact(w[i], x[i], A[i % 64]);
  for (let j = 0; j < 32; j++) A[j] = fr(A[j] + A[j + 32]); // acc0 += acc2, acc1 += acc3
  for (let j = 0; j < 16; j++) A[j] = fr(A[j] + A[j + 16]); // acc0 += acc1
  const sum = reduceAdd16(A);
  if (f64Tail) {
    let s = sum;
    for (let i = np; i < n; i++) s += fr(w[i] * x[i]);
    return fr(s);
  }
  let s = sum;
  for (let i = np; i < n; i++) s = fmaExact(w[i], x[i], s);
  return s;
}
function dot64(x: ArrayLike<number>, y: ArrayLike<number>): { dot: number; sumAbs: number } {
  let dot = 0, sumAbs = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    sumAbs += Math.abs(x[i] * y[i]);
  }
  return { dot, sumAbs };
}

describe('vec_dot_f32 / vec_dot_f16', () => {
  const datasets = (rng: Rng, n: number) => [
    { name: 'uniform', x: randomF32(rng, n), y: randomF32(rng, n) },
    { name: 'mixed magnitudes', x: randomF32(rng, n, 1, true), y: randomF32(rng, n, 1, true) },
    { name: 'positive', x: randomF32(rng, n).map(Math.abs), y: randomF32(rng, n, 100).map(Math.abs) },
    { name: 'cancelling', x: randomF32(rng, n, 1000).map((v, i) => (i % 2 ? -Math.abs(v) : Math.abs(v))), y: randomF32(rng, n).map(Math.abs) },
  ];

  /** the checks shared by both weight types and both orders: w as stored (f32 or f16 bits), wv its values */
  function checkDot(label: string, simd: number, gen: number, wv: ArrayLike<number>, xv: ArrayLike<number>, f64Tail: boolean, tinyblas: boolean) {
    const n = wv.length;
    const { dot, sumAbs } = dot64(wv, xv);
    const b = dotBound(n, sumAbs);
    // the claimed order, exactly
    const order = dotGgmlOrder(wv, xv, f64Tail, tinyblas);
    expect(sameF(simd, order), `${label}: simd ${simd} vs documented order ${order}`).toBe(true);
    expect(sameF(gen, simd), `${label}: generic ${gen} vs simd ${simd} (documented bit-identical)`).toBe(true);
    // and independently of any order: within the summation bound of each other and of float64
    expect(Math.abs(simd - gen), `${label}: simd ${simd} generic ${gen}`).toBeLessThanOrEqual(2 * b);
    expect(Math.abs(simd - dot), `${label}: simd vs f64 ${dot}`).toBeLessThanOrEqual(b + refBound(n, sumAbs));
    expect(Math.abs(gen - dot), `${label}: generic vs f64 ${dot}`).toBeLessThanOrEqual(b + refBound(n, sumAbs));
  }

  it.each(SIZES)('vec_dot_f32, n = %i: documented order exactly, SIMD == generic, f64 within γ_n·Σ|x·y|', (n) => {
    const rng = mulberry32(100 + n);
    for (const { name, x, y } of datasets(rng, n)) {
      for (const misalign of [0, 4]) {
        const xp = putF32(x, misalign), yp = putF32(y, misalign);
        checkDot(`${name}, n=${n}, misalign ${misalign}`, K.vec_dot_f32(n, xp, yp), K.vec_dot_f32_generic(n, xp, yp), x, y, false, false);
        checkDot(`${name}, n=${n}, misalign ${misalign}, tinyBLAS`, K.vec_dot_f32_tinyblas(n, xp, yp), K.vec_dot_f32_tinyblas_generic(n, xp, yp), x, y, false, true);
      }
    }
  });

  it.each(SIZES)('vec_dot_f16, n = %i: documented order exactly, SIMD == generic, f64 within γ_n·Σ|w·x|', (n) => {
    const rng = mulberry32(200 + n);
    for (const { name, x, y } of datasets(rng, n)) {
      // weights: halves of random floats; activation: f32 rounded to f16 precision (as the model feeds it)
      const wh = Array.from(x, numberToHalf);
      const w = wh.map(halfToNumber);
      const a = Array.from(y, roundToHalf);
      for (const misalign of [0, 2]) {
        const wp = putU16(wh, misalign), ap = putF32(a, misalign * 2);
        checkDot(`${name}, n=${n}, misalign ${misalign}`, K.vec_dot_f16(n, wp, ap), K.vec_dot_f16_generic(n, wp, ap), w, a, true, false);
        checkDot(`${name}, n=${n}, misalign ${misalign}, tinyBLAS`, K.vec_dot_f16_tinyblas(n, wp, ap), K.vec_dot_f16_tinyblas_generic(n, wp, ap), w, a, true, true);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------
/** llama.cpp's x86 quantize_row_q8_0, independently: d = amax/127 (f32) stored as f16 (RNE),
 *  id = amax ? 127/amax : 0 (f32), q = round-half-even(f32(x·id)). */
function quantizeQ8Ref(x: ArrayLike<number>): Uint8Array {
  const nb = x.length / QK;
  const out = new Uint8Array(nb * QB);
  const dv = new DataView(out.buffer);
  for (let ib = 0; ib < nb; ib++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[ib * QK + j]));
    dv.setUint16(ib * QB, numberToHalf(fr(amax / 127)), true);
    const id = amax !== 0 ? fr(127 / amax) : 0;
    for (let j = 0; j < QK; j++) {
      const q = roundHalfEven(fr(x[ib * QK + j] * id));
      if (!(Math.abs(q) <= 127)) throw new Error(`reference quantizer out of range: ${q}`);
      dv.setInt8(ib * QB + 2 + j, q);
    }
  }
  return out;
}
const q8Scale = (blocks: Uint8Array, ib: number) => halfToNumber(blocks[ib * QB] | (blocks[ib * QB + 1] << 8));
const q8Quant = (blocks: Uint8Array, ib: number, j: number) => ((blocks[ib * QB + 2 + j] << 24) >> 24);

/**
 * IEEE fusedMultiplyAdd in binary32 (round to nearest even) from the exact rational value, in
 * BigInt, for f32 inputs — always (no float shortcut). A zero exact sum is −0 only when both a·b
 * and c are −0 (IEEE 754 §6.3).
 */
function fmaBig(a: number, b: number, c: number): number {
  const p = a * b; // exact in float64 for f32 inputs, sign of zero included
  if (!Number.isFinite(p) || !Number.isFinite(c)) return fr(p + c);
  const [mp, ep] = decompose(p), [mc, ec] = decompose(c);
  const e0 = Math.min(ep, ec);
  const N = mp * (1n << BigInt(ep - e0)) + mc * (1n << BigInt(ec - e0));
  if (N === 0n) return Object.is(p, -0) && Object.is(c, -0) ? -0 : 0;
  return roundExactToF32(N, e0);
}
/** fmaBig, with the float64 sum taken directly when it is exact (TwoSum error 0): faster, same values */
function fmaExact(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  if (Number.isFinite(s) && (p - (s - bb)) + (c - bb) === 0) return fr(s);
  return fmaBig(a, b, c);
}

/**
 * llama.cpp's x86 Q8_0·Q8_0 order (q8_0.ts: tinyBLAS_Q0_AVX for batches, ggml_vec_dot_q8_0_q8_0's
 * AVX2 branch for one token — the same): per block, 8 lanes L[k] = Σ of the products of elements
 * 4k..4k+3 (exact), acc[k] = fma(f32(d_w·d_x), L[k], acc[k]) with an exact FMA; then
 * hsum_float_8 = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), each add in f32.
 */
function dotQ8Ref(w: Uint8Array, x: Uint8Array, n: number): number {
  const acc = new Array(8).fill(0);
  for (let ib = 0; ib < n / QK; ib++) {
    const d = fr(q8Scale(w, ib) * q8Scale(x, ib)); // exact: two f16 values
    for (let k = 0; k < 8; k++) {
      let L = 0;
      for (let j = 4 * k; j < 4 * k + 4; j++) L += q8Quant(w, ib, j) * q8Quant(x, ib, j);
      acc[k] = fmaExact(d, L, acc[k]);
    }
  }
  return fr(fr(fr(acc[0] + acc[4]) + fr(acc[2] + acc[6])) + fr(fr(acc[1] + acc[5]) + fr(acc[3] + acc[7])));
}
function dequantQ8Ref(blocks: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = fr(q8Scale(blocks, Math.floor(i / QK)) * q8Quant(blocks, Math.floor(i / QK), i % QK));
  return out;
}

/** Blocks of 32 floats: random scales over 2^±20 plus the special cases the quantizer must get right. */
function q8TestInput(rng: Rng, nRandomBlocks: number): Float32Array {
  const blocks: number[][] = [];
  blocks.push(new Array(QK).fill(0));                                            // all zeros → d = 0, q = 0
  blocks.push(new Array(QK).fill(-0));
  blocks.push(Array.from({ length: QK }, (_, j) => (j === 7 ? 3e4 : uniform(rng, -1, 1))));  // one huge value
  blocks.push(Array.from({ length: QK }, (_, j) => (j === 0 ? -1e7 : uniform(rng, -1, 1)))); // d overflows f16 → Inf
  // amax = 127 → id = 1: every x = k + 0.5 is an exact tie after scaling
  blocks.push(Array.from({ length: QK }, (_, j) => (j === 0 ? 127 : (j % 2 ? -1 : 1) * ((j % 16) * 8 + 0.5))));
  blocks.push([-127, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 126.5, -126.5, 125.5, -125.5, 63.5, -63.5, 64.5,
    -64.5, 0, -0, 1, -1, 100.5, -100.5, 99.5, -99.5, 10.5, -10.5, 11.5, -11.5, 42.5, -42.5, 17.5]);
  // amax = 63.5 → id = 2: x = k/2 + 0.25 lands on .5 after scaling
  blocks.push(Array.from({ length: QK }, (_, j) => (j === 0 ? 63.5 : (j % 2 ? -1 : 1) * (j + 0.25))));
  blocks.push(new Array(QK).fill(0.75));                                         // all equal → q = 127
  // tiny block just above the smallest amax whose 127/amax is finite in f32 (127/FLT_MAX ≈ 3.73e-37),
  // with subnormal inputs
  blocks.push(Array.from({ length: QK }, (_, j) => (j === 5 ? -4e-37 : uniform(rng, -1, 1) * 1e-40)));
  blocks.push(Array.from({ length: QK }, (_, j) => (j === 3 ? 1 : uniform(rng, -1, 1) * 1e-40)));
  for (let b = 0; b < nRandomBlocks; b++) {
    const scale = 2 ** uniform(rng, -20, 20);
    const skew = rng() < 0.2;
    blocks.push(Array.from({ length: QK }, () => (2 * rng() - 1) * scale * (skew ? rng() ** 8 : 1)));
  }
  return Float32Array.from(blocks.flat());
}

describe('Q8_0', () => {
  it('quantize_row_q8_0 == quantize_row_q8_0_generic == llama.cpp x86 reference, byte for byte (≥ 1000 blocks)', () => {
    const rng = mulberry32(7);
    const x = q8TestInput(rng, 1190);
    const nb = x.length / QK;
    expect(nb).toBeGreaterThanOrEqual(1000);
    const want = quantizeQ8Ref(x);
    const xp = putF32(x);
    // whole input as one row, and as rows of 1, 2, 3 and 8 blocks (row starts at odd block offsets)
    for (const rowBlocks of [nb, 1, 2, 3, 8]) {
      const ys = alloc(nb * QB), yg = alloc(nb * QB);
      arena.bytes(ys, nb * QB).fill(0xaa);
      arena.bytes(yg, nb * QB).fill(0x55);
      for (let b0 = 0; b0 < nb; b0 += rowBlocks) {
        const k = Math.min(rowBlocks, nb - b0) * QK;
        K.quantize_row_q8_0(xp + b0 * QK * 4, ys + b0 * QB, k);
        K.quantize_row_q8_0_generic(xp + b0 * QK * 4, yg + b0 * QB, k);
      }
      const simd = getBytes(ys, nb * QB), gen = getBytes(yg, nb * QB);
      const firstDiff = (a: Uint8Array, b: Uint8Array) => a.findIndex((v, i) => v !== b[i]);
      expect(firstDiff(simd, gen), `rows of ${rowBlocks} blocks: SIMD vs generic`).toBe(-1);
      expect(firstDiff(simd, want), `rows of ${rowBlocks} blocks: SIMD vs reference`).toBe(-1);
    }
    // the special blocks came out as intended
    expect(want.subarray(0, QB).every((v) => v === 0)).toBe(true);
    expect(q8Scale(want, 3)).toBe(Infinity);
    expect(Array.from({ length: QK }, (_, j) => q8Quant(want, 5, j)).slice(0, 9)).toEqual([-127, 0, 0, 2, -2, 2, -2, 4, -4]);
  });

  it('quantize_activation(Q8_0) is quantize_row_q8_0x (SIMD) / _generic: quantize_row_q8_0\'s blocks, then f32(d) and 8·Σq per block', () => {
    const rng = mulberry32(8);
    const x = q8TestInput(rng, 30);
    const xp = putF32(x);
    expect(runnableFormat(Q8_0)!.activation).toBe('q8_0x');
    const rowBytes = activationRowBytes('q8_0x', x.length);
    expect(rowBytes).toBe(x.length / QK * (QB + 8));
    const a = alloc(rowBytes + 4), b = alloc(rowBytes + 4), c = alloc(x.length / QK * QB);
    arena.bytes(a, rowBytes + 4).fill(0xa5);
    arena.bytes(b, rowBytes + 4).fill(0xa5);
    quantizeActivation(fmt(Q8_0), xp, a, x.length);
    quantizeActivation(fmtG(Q8_0), xp, b, x.length);
    K.quantize_row_q8_0(xp, c, x.length);
    const want = withQ8_0xExtras(getBytes(c, x.length / QK * QB));
    expect(getBytes(a, rowBytes)).toEqual(want);
    expect(getBytes(b, rowBytes)).toEqual(want);
    expect([...getBytes(a + rowBytes, 4), ...getBytes(b + rowBytes, 4)], 'nothing written past the row').toEqual(Array(8).fill(0xa5));
  });

  /**
   * When 0 < amax < 127/FLT_MAX ≈ 3.73e-37, id = 127/amax overflows to +Inf and x·id is ±Inf (NaN
   * for x = 0). Both twins saturate (+Inf → 127, -Inf → -128, NaN → 0); llama.cpp's AVX2 quantizer
   * would store -128 for all. d = f16(amax/127) = 0 for such blocks, so dequantized values and dot
   * products are ±0 whatever the quants.
   */
  describe('when 127/amax overflows (amax < 3.73e-37)', () => {
    const tinyBlock = () => Float32Array.from({ length: QK }, (_, j) => (j % 3 === 0 ? 1e-38 : j % 3 === 1 ? -1e-38 : 0));
    const quantizeBoth = () => {
      const xp = putF32(tinyBlock()), a = alloc(QB), b = alloc(QB);
      K.quantize_row_q8_0(xp, a, QK);
      K.quantize_row_q8_0_generic(xp, b, QK);
      return { simd: getBytes(a, QB), gen: getBytes(b, QB) };
    };

    it('both store d = 0, so dequantized values and dot products are zero either way', () => {
      const { simd, gen } = quantizeBoth();
      expect(q8Scale(simd, 0)).toBe(0);
      expect(q8Scale(gen, 0)).toBe(0);
      const other = quantizeQ8Ref(randomF32(mulberry32(11), QK, 5));
      for (const blk of [simd, gen]) {
        const bp = putBytes(blk), op = putBytes(other), y = alloc(QK * 4);
        K.dequantize_row_q8_0(bp, y, QK);
        expect(Array.from(getF32(y, QK)).every((v) => v === 0)).toBe(true);
        expect(K.vec_dot_q8_0_q8_0(QK, op, bp)).toBe(0);
        expect(K.vec_dot_q8_0_q8_0_generic(QK, op, bp)).toBe(0);
      }
    });

    it('SIMD and generic quant bytes are identical', () => {
      const { simd, gen } = quantizeBoth();
      expect(Array.from(simd)).toEqual(Array.from(gen));
    });
  });

  it.each([1, 2, 3, 8, 24, 32])('vec_dot_q8_0_q8_0 over %i blocks: SIMD == generic == x86 order (exact FMAs), f64 within γ_{nb+3}', (nb) => {
    const rng = mulberry32(300 + nb);
    const n = nb * QK;
    // (a) blocks from the quantizer, (b) raw random blocks incl. -128 and random finite scales
    const raw = () => {
      const b = new Uint8Array(nb * QB);
      for (let ib = 0; ib < nb; ib++) {
        const d = numberToHalf(fr((2 * rng() - 1) * 2 ** uniform(rng, -12, 4)));
        b[ib * QB] = d & 0xff;
        b[ib * QB + 1] = d >> 8;
        for (let j = 0; j < QK; j++) b[ib * QB + 2 + j] = rng() < 0.1 ? 0x80 : randInt(rng, 0, 255);
      }
      return b;
    };
    const cases: Array<[string, Uint8Array, Uint8Array]> = [];
    for (let t = 0; t < 4; t++) cases.push(['quantized', quantizeQ8Ref(randomF32(rng, n, 3, true)), quantizeQ8Ref(randomF32(rng, n, 0.1, true))]);
    for (let t = 0; t < 4; t++) cases.push(['raw', raw(), raw()]);
    for (const [name, w, x] of cases) {
      for (const misalign of [0, 1]) {
        const wp = putBytes(w, misalign), xp = putBytes(x, misalign);
        const simd = K.vec_dot_q8_0_q8_0(n, wp, xp);
        const gen = K.vec_dot_q8_0_q8_0_generic(n, wp, xp);
        const ref = dotQ8Ref(w, x, n);
        expect(sameF(simd, gen), `${name}: simd ${simd} vs generic ${gen}`).toBe(true);
        expect(sameF(simd, ref), `${name}: simd ${simd} vs reference ${ref}`).toBe(true);
        // the batch binding: llama.cpp's tinyBLAS order is the same as the one-token order here
        const batch = fmt(Q8_0).vecDotBatchFn as ((n: number, w: number, x: number) => number) | undefined;
        if (batch) expect(sameF(batch(n, wp, xp), simd), `${name}: batch binding`).toBe(true);
        // every term d·L[k] is exact and then rounded by ≤ nb FMAs and 3 hsum additions
        let dot = 0, sumAbs = 0;
        for (let ib = 0; ib < nb; ib++) {
          const d = q8Scale(w, ib) * q8Scale(x, ib);
          for (let k = 0; k < 8; k++) {
            let L = 0;
            for (let j = 4 * k; j < 4 * k + 4; j++) L += q8Quant(w, ib, j) * q8Quant(x, ib, j);
            dot += d * L;
            sumAbs += Math.abs(d * L);
          }
        }
        expect(Math.abs(simd - dot), `${name}: vs f64 ${dot}`).toBeLessThanOrEqual(gamma(nb + 3) * sumAbs + refBound(8 * nb, sumAbs));
      }
    }
  });

  it('vec_dot_q8_0_q8_0: the order is told apart from the unfused and the block-sum orders', () => {
    const rng = mulberry32(350);
    const nb = 8, n = nb * QK, rows = 200;
    let unfused = 0, blockwise = 0;
    for (let t = 0; t < rows; t++) {
      const w = quantizeQ8Ref(randomF32(rng, n, 0.05, true)), x = quantizeQ8Ref(randomF32(rng, n, 2, true));
      const got = K.vec_dot_q8_0_q8_0(n, putBytes(w), putBytes(x));
      expect(sameF(got, dotQ8Ref(w, x, n)), `row ${t}`).toBe(true);
      const acc = new Array(8).fill(0);
      let seq = 0;
      for (let ib = 0; ib < nb; ib++) {
        const d = fr(q8Scale(w, ib) * q8Scale(x, ib));
        let sumi = 0;
        for (let k = 0; k < 8; k++) {
          let L = 0;
          for (let j = 4 * k; j < 4 * k + 4; j++) L += q8Quant(w, ib, j) * q8Quant(x, ib, j);
          acc[k] = fr(acc[k] + fr(d * L));
          sumi += L;
        }
        seq = fr(seq + fr(sumi * d)); // the previous (ggml scalar reference) order
      }
      const hs = fr(fr(fr(acc[0] + acc[4]) + fr(acc[2] + acc[6])) + fr(fr(acc[1] + acc[5]) + fr(acc[3] + acc[7])));
      if (!sameF(hs, got)) unfused++;
      if (!sameF(seq, got)) blockwise++;
    }
    expect(unfused).toBeGreaterThan(rows / 50);
    expect(blockwise).toBeGreaterThan(rows / 50);
  });

  it('vec_dot_q8_0_q8_0: correctly rounded FMAs where float64 lands on an f32 tie', () => {
    // block 0, lane 0: acc = 64 (d = 1, L = 8·8); block 1, lane 0: d·L = (325·2^-24)(61·2^-24)·54161
    // = (2^30 + 1)·2^-48 = 2^-18 + 2^-48, half an ulp of 64 plus a sliver. float64 rounds 64 + 2^-18 +
    // 2^-48 to the tie 64 + 2^-18, which rounds to even (64); the fused result is 64 + 2^-17. The other
    // seven lanes are 0, so hsum_float_8 returns lane 0 exactly. The four products of lane 0 that sum
    // to 54161 (127·127 + 127·a + 127·b + c·e) are searched for below.
    const w = new Uint8Array(2 * QB), x = new Uint8Array(2 * QB);
    const setD = (b: Uint8Array, ib: number, v: number) => { const h = numberToHalf(v); b[ib * QB] = h & 0xff; b[ib * QB + 1] = h >> 8; };
    setD(w, 0, 1); setD(x, 0, 1);
    w[2] = 8; x[2] = 8;
    setD(w, 1, 325 * 2 ** -24); setD(x, 1, 61 * 2 ** -24);
    // four products summing to 54161, each factor in −127..127
    let found: number[] | undefined;
    for (let a = 127; a > 100 && !found; a--) for (let b = 127; b > 100 && !found; b--) {
      const r = 54161 - 127 * 127 - 127 * a - 127 * b;
      for (let c = 127; c > 0 && !found; c--) if (r % c === 0 && Math.abs(r / c) <= 127) found = [a, b, c, r / c];
    }
    expect(found).toBeDefined();
    const [a, b, c, e] = found!;
    [127, a, b, c].forEach((v, j) => { w[QB + 2 + j] = v & 0xff; });
    [127, 127, 127, e].forEach((v, j) => { x[QB + 2 + j] = v & 0xff; });
    expect(127 * 127 + a * 127 + b * 127 + c * e).toBe(54161);
    const wp = putBytes(w), xp = putBytes(x);
    const want = 64 + 2 ** -17;
    expect(fmaBig(fr(325 * 61 * 2 ** -48), 54161, 64)).toBe(want);
    expect(fr(fr(325 * 61 * 2 ** -48) * 54161 + 64)).toBe(64); // what f32(f64 a·b + c) gives
    expect(K.vec_dot_q8_0_q8_0(2 * QK, wp, xp)).toBe(want);
    expect(K.vec_dot_q8_0_q8_0_generic(2 * QK, wp, xp)).toBe(want);
    expect(dotQ8Ref(w, x, 2 * QK)).toBe(want);
    // the four-row kernel, this row in each slot (every lane takes its exact path), and beside zero
    // rows; it takes the activation as q8_0x (the blocks, then f32 scales and sums)
    const xk = putBytes(withQ8_0xExtras(x));
    const four = new Uint8Array(8 * QB);
    for (let r = 0; r < 4; r++) four.set(w, r * 2 * QB);
    const out = alloc(16);
    const relaxed = typeof (K as unknown as Record<string, unknown>).vec_dot4_q8_0_q8_0_relaxed === 'function' ? ['vec_dot4_q8_0_q8_0_relaxed'] : [];
    for (const kernel of ['vec_dot4_q8_0_q8_0', 'vec_dot4_q8_0_q8_0_generic', ...relaxed]) {
      (K as unknown as Record<string, (...a: number[]) => void>)[kernel](2 * QK, putBytes(toRows4(four, 4, 2 * QB, QB)), xk, out);
      expect([...getF32(out, 4)], kernel).toEqual([want, want, want, want]);
      const one = new Uint8Array(8 * QB);
      one.set(w, 2 * 2 * QB);
      (K as unknown as Record<string, (...a: number[]) => void>)[kernel](2 * QK, putBytes(toRows4(one, 4, 2 * QB, QB)), xk, out);
      expect([...getF32(out, 4)], `${kernel}, the tie row in slot 2`).toEqual([0, 0, want, 0]);
    }
    // the tile kernel: the tie group against four copies of the q8_0x activation row (8 bytes between rows)
    const xRow = withQ8_0xExtras(x), xRowBytes = xRow.length + 8, x4 = new Uint8Array(4 * xRowBytes);
    for (let t = 0; t < 4; t++) x4.set(xRow, t * xRowBytes);
    const x4p = putBytes(x4), out4 = alloc(4 * 20);
    const relaxedTile = typeof (K as unknown as Record<string, unknown>).vec_dot4x4_q8_0_q8_0_relaxed === 'function' ? ['vec_dot4x4_q8_0_q8_0_relaxed'] : [];
    for (const kernel of ['vec_dot4x4_q8_0_q8_0', 'vec_dot4x4_q8_0_q8_0_generic', ...relaxedTile]) {
      (K as unknown as Record<string, (...a: number[]) => void>)[kernel](2 * QK, putBytes(toRows4(four, 4, 2 * QB, QB)), x4p, xRowBytes, out4, 20);
      for (let t = 0; t < 4; t++) expect([...getF32(out4 + 20 * t, 4)], `${kernel}, token ${t}`).toEqual([want, want, want, want]);
    }
  });

  it('dequantize_row_q8_0 and dequantize_row(Q8_0) give f32(d·q) exactly', () => {
    const rng = mulberry32(9);
    const x = q8TestInput(rng, 50);
    const blocks = quantizeQ8Ref(x);
    const n = x.length;
    const bp = putBytes(blocks);
    const y1 = alloc(n * 4), y2 = alloc(n * 4);
    K.dequantize_row_q8_0(bp, y1, n);
    fmt(Q8_0).dequantize(bp, y2, n);
    const want = dequantQ8Ref(blocks, n);
    expect(bitDiffs(getF32(y1, n), want)).toEqual([]);
    expect(bitDiffs(getF32(y2, n), want)).toEqual([]);
    // and it reconstructs the input to within half a quantization step, for blocks whose d is a
    // finite normal half: q is within ½ + u·|x·id| of x·id, d·id = 1 within (1 + 2^-11)(1 + u)² - 1
    // (f32 amax/127 rounded to f16, f32 127/amax) and d·q rounds once more (≤ u·127·d)
    const got = getF32(y1, n);
    const idx: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = q8Scale(blocks, Math.floor(i / QK));
      if (Number.isFinite(d) && d >= 2 ** -14) idx.push(i);
    }
    expect(idx.length).toBeGreaterThan(n / 2);
    const dOf = (i: number) => q8Scale(blocks, Math.floor(i / QK));
    const bad = violations(idx.map((i) => got[i]), idx.map((i) => x[i]), (k) =>
      dOf(idx[k]) * (0.5 + 255 * U) + Math.abs(x[idx[k]]) * ((1 + 2 ** -11) * (1 + U) ** 2 - 1));
    expect(bad).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
/** rope_cache as documented: theta_scale = f32(pow(base, f32(-2/nDims))), theta *= theta_scale in f32. */
function ropeCacheEmulated(pos: number, nDims: number, base: number, freqScale: number): Float32Array {
  const out = new Float32Array(nDims);
  const thetaScale = fr(Math.pow(fr(base), fr(-2 / nDims)));
  let theta = fr(pos);
  for (let i = 0; i < nDims; i += 2) {
    const t = fr(fr(freqScale) * theta);
    out[i] = Math.cos(t);
    out[i + 1] = Math.sin(t);
    theta = fr(theta * thetaScale);
  }
  return out;
}
/** Exact-math angle of pair i and a bound on how far the kernel's f32 angle can be from it. */
function ropeAngle(pos: number, i: number, nDims: number, base: number, freqScale: number) {
  const theta = freqScale * pos * Math.pow(base, (-2 * i) / nDims);
  // the f32 exponent is off by |ê - e|, which scales base^(i·ê) by e^(i·|ê-e|·ln base); theta_scale
  // itself is rounded once (u), plus i chained f32 multiplies and the freqScale multiply (u each)
  const e = -2 / nDims;
  const expErr = Math.abs(fr(e) - e) * Math.log(base);
  const rel = Math.expm1(i * (expErr + 2 * U + 4 * U64) + 2 * U);
  return { theta, err: Math.abs(theta) * rel };
}

describe('RoPE', () => {
  const cacheCases: Array<[pos: number, nDims: number, base: number, freqScale: number]> = [
    [0, 64, 10000, 1], [1, 64, 10000, 1], [7, 16, 10000, 1], [123, 32, 500000, 1], [4095, 128, 10000, 0.25],
    [1000, 6, 10000, 1], [31, 2, 10000, 1], [250, 48, 1e6, 1],
  ];

  it.each(cacheCases)('rope_cache pos %i nDims %i base %d scale %d: documented f32 angle chain exactly, f64 formula within bound', (pos, nDims, base, freqScale) => {
    const cp = putF32(new Float32Array(nDims));
    K.rope_cache(cp, pos, nDims, base, freqScale);
    const got = getF32(cp, nDims);
    expect(bitDiffs(got, ropeCacheEmulated(pos, nDims, base, freqScale))).toEqual([]);
    const want = new Float64Array(nDims);
    const bound = new Float64Array(nDims);
    for (let i = 0; i < nDims / 2; i++) {
      const { theta, err } = ropeAngle(pos, i, nDims, base, freqScale);
      want[2 * i] = Math.cos(theta);
      want[2 * i + 1] = Math.sin(theta);
      // |cos'| ≤ 1 turns the angle error into the value error; f32 rounding of cos (≤ u); our f64
      // theta (two products and pow, ≤ 4 u64 relative) and Math.cos/sin (≤ 2 u64)
      bound[2 * i] = bound[2 * i + 1] = err + U + 6 * U64 * (1 + Math.abs(theta));
    }
    expect(violations(got, want, (i) => bound[i])).toEqual([]);
  });

  const normCases: Array<[nHeads: number, headDim: number, nDims: number]> = [
    [1, 2, 2], [1, 4, 4], [2, 8, 8], [4, 16, 16], [3, 16, 6], [2, 32, 16], [3, 10, 10], [2, 12, 2],
    [8, 64, 64], [4, 64, 32], [2, 128, 128], [5, 48, 20],
  ];

  it.each(normCases)('rope_norm nHeads %i headDim %i nDims %i: SIMD == generic bit for bit, f64 formula within bound', (nHeads, headDim, nDims) => {
    const rng = mulberry32(nHeads * 1000 + headDim * 10 + nDims);
    const base = 10000;
    for (const pos of [0, 1, 17, 1000]) {
      const x = randomF32(rng, nHeads * headDim, 4, true);
      const cp = putF32(new Float32Array(nDims));
      K.rope_cache(cp, pos, nDims, base, 1);
      const cache = getF32(cp, nDims);
      const a = putF32(x), b = putF32(x);
      K.rope_norm(a, nHeads, headDim, nDims, cp);
      K.rope_norm_generic(b, nHeads, headDim, nDims, cp);
      const simd = getF32(a, x.length), gen = getF32(b, x.length);
      expect(bitDiffs(simd, gen), `pos ${pos}`).toEqual([]);
      // f64 reference: rotate adjacent pairs of the first nDims values by theta_i = pos·base^(-2i/nDims)
      const want = Float64Array.from(x);
      const bound = new Float64Array(x.length);
      for (let h = 0; h < nHeads; h++) {
        for (let i = 0; i < nDims / 2; i++) {
          const o = h * headDim + 2 * i;
          const { theta, err } = ropeAngle(pos, i, nDims, base, 1);
          const c = Math.cos(theta), s = Math.sin(theta);
          want[o] = x[o] * c - x[o + 1] * s;
          want[o + 1] = x[o] * s + x[o + 1] * c;
          // table entries within the rope_cache bound of cos/sin; two products and a sum
          // rounded (≤ 2u·(|x0|+|x1|)(1+u) since |cos|,|sin| ≤ 1)
          const ax = Math.abs(x[o]) + Math.abs(x[o + 1]);
          bound[o] = bound[o + 1] = ax * (err + U + 6 * U64 * (1 + Math.abs(theta))) * (1 + 3 * U) + ax * 2 * U * (1 + U);
        }
        // values past nDims are left alone: bound 0 means bit-identical (values are finite)
      }
      expect(violations(simd, want, (i) => bound[i]), `pos ${pos}`).toEqual([]);
      if (pos === 0) expect(bitDiffs(simd, x), 'pos 0 is the identity').toEqual([]);
      expect(cache.length).toBe(nDims);
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('rms_norm and add', () => {
  it.each(SIZES)('rms_norm n = %i: generic is ggml\'s formula exactly; SIMD, generic vs f64 within 5.5u relative', (n) => {
    const rng = mulberry32(400 + n);
    for (const [scale, eps] of [[1, 1e-5], [1e-3, 1e-6], [300, 1e-5]] as const) {
      const x = randomF32(rng, n, scale, true), w = randomF32(rng, n, 2);
      const xp = putF32(x), wp = putF32(w), a = alloc(n * 4), b = alloc(n * 4);
      K.rms_norm(xp, wp, a, n, eps);
      K.rms_norm_generic(xp, wp, b, n, eps);
      const simd = getF32(a, n), gen = getF32(b, n);
      let sumsq = 0;
      for (const v of x) sumsq += v * v;
      const inv = 1 / Math.sqrt(sumsq / n + fr(eps));
      const want = Array.from(x, (v, i) => v * inv * w[i]);
      // squares (u), f64 sum (γ_n in f64), mean → f32 (u), + eps (u): ≤ 3u + γ_n^64 on the sqrt's input,
      // which sqrt halves; sqrt (u), 1/· (u), two multiplies (u each): 5.5u + γ_n^64/2, to first order
      const rel = Math.expm1(5.5 * U + gamma(n, U64));
      const bound = (i: number) => Math.abs(want[i]) * rel * (1 + 4 * U);
      const label = `scale ${scale} eps ${eps}`;
      // the generic twin is ggml's rms_norm: Σ f32(x²) in double, in order; mean and 1/sqrtf(mean + eps)
      // in f32; then (x·scale)·w, each product rounded. (The SIMD twin sums the squares in another
      // f64 order, which can move the f32 mean by an ulp — hence only a bound for it.)
      let sumOrdered = 0;
      for (const v of x) sumOrdered += fr(v * v);
      const sc = fr(1 / fr(Math.sqrt(fr(fr(sumOrdered / n) + fr(eps)))));
      expect(bitDiffs(gen, Float32Array.from(x, (v, i) => fr(v * sc) * w[i])), label).toEqual([]);
      expect(violations(simd, want, bound), label).toEqual([]);
      expect(violations(gen, want, bound), label).toEqual([]);
      expect(violations(simd, gen, (i) => 2 * bound(i)), label).toEqual([]);
    }
  });

  it.each(SIZES)('add n = %i: SIMD == generic == f32(a+b), also in place', (n) => {
    const rng = mulberry32(500 + n);
    const x = randomF32(rng, n, 10, true), y = randomF32(rng, n, 10, true);
    const want = Float32Array.from(x, (v, i) => v + y[i]);
    const xp = putF32(x, 4), yp = putF32(y), a = alloc(n * 4), b = alloc(n * 4);
    K.add(xp, yp, a, n);
    K.add_generic(xp, yp, b, n);
    expect(bitDiffs(getF32(a, n), want)).toEqual([]);
    expect(bitDiffs(getF32(b, n), want)).toEqual([]);
    K.add(xp, yp, xp, n); // x += y, as the residual update does
    expect(bitDiffs(getF32(xp, n), want)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
/** f32 fused multiply-add, correctly rounded (a, b, c f32): a·b is exact in f64; the f64 sum is
 *  rounded once more only when it lands exactly on an f32 tie, where the TwoSum error breaks it. */
function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  const r = fr(s);
  if (err === 0 || r === s || !Number.isFinite(s)) return r;
  const toward = (v: number, up: boolean) => bitsF32(f32Bits(v) + ((v >= 0) === up ? 1 : -1));
  const other = toward(r, s > r);
  if (Math.abs(other - s) !== Math.abs(r - s)) return r; // not a tie
  return (err > 0) === (other > r) ? other : r;
}
/** llama.cpp's ggml_v_expf (AVX-512 build), transcribed with exact FMAs and scalef. */
function ggmlVExpf(x: number): number {
  const c = (b: number) => bitsF32(b);
  const shift = c(0x4b400000);
  const z = fmaF32(x, c(0x3fb8aa3b), shift);
  const n = fr(z - shift);
  const b = fmaF32(-n, c(0x35bfbe8e), fmaF32(-n, c(0x3f317200), x));
  if (Math.abs(n) > 192) return n > 0 ? Infinity : 0;
  const u = fr(b * b);
  const j = fmaF32(fmaF32(fmaF32(c(0x3c072010), b, c(0x3d2b9f17)), u, fmaF32(c(0x3e2aaf33), b, c(0x3efffedb))), u,
    fmaF32(c(0x3f7ffff6), b, 1));
  return fr(j * 2 ** n); // _mm512_scalef_ps: j·2^n, one rounding
}
/**
 * Accuracy of ggml_v_expf itself. ARM's optimized-routines expf, which it adapts, documents
 * 1.45 ulp + 0.5 ulp; ggml keeps the constant 1 inside the polynomial's last FMA (ARM adds the scale
 * in a final FMA instead), which costs accuracy: a scan of every 37th f32 in [-104, 89] (60.5 M
 * inputs) while writing this test found ggmlVExpf's worst case at 2.207 ulp (x = 39.11296463012695),
 * and the kernel equal to the transcription above on every one of them. So 2 ulp is not attainable
 * by a kernel faithful to llama.cpp; the bound used here is that measured maximum rounded up to the
 * next quarter ulp (it is not derived analytically — see the report in the test below).
 */
const EXPF_ULPS = 2.25;

/**
 * Kernels the module does not export (fma32) compiled here from the same sources into a small test
 * module with its own memory.
 */

describe('fma32 (util/expf.ts): correctly rounded f32 fused multiply-add', () => {
  /** f32 values from bit patterns over the whole range (finite), both signs */
  const randomBitsF32 = (rng: Rng) => {
    let b: number;
    do b = Math.floor(rng() * 2 ** 32) >>> 0; while ((b & 0x7f800000) === 0x7f800000);
    return bitsF32(b);
  };
  /** f32 values spread over 2^[lo, hi] in exponent, random significands and signs */
  const randomScaled = (rng: Rng, lo: number, hi: number) => fr((rng() < 0.5 ? -1 : 1) * (1 + rng()) * 2 ** randInt(rng, lo, hi));
  const check = (fma: (a: number, b: number, c: number) => number, cases: Array<[number, number, number]>) => {
    const bad: string[] = [];
    for (const [a, b, c] of cases) {
      const got = fma(a, b, c), want = fmaBig(a, b, c);
      if (!sameF(got, want) && !(Number.isNaN(got) && Number.isNaN(want))) bad.push(`fma(${a}, ${b}, ${c}) = ${got}, want ${want}`);
    }
    return bad;
  };
  /** a·b = half an ulp of c times (1 ± 2^-46) or exactly: the cases a float64 sum rounds onto an f32 tie */
  const tieCases = (rng: Rng, n: number): Array<[number, number, number]> => {
    const out: Array<[number, number, number]> = [];
    for (let i = 0; i < n; i++) {
      const c = i % 7 === 0 ? fr((rng() < 0.5 ? -1 : 1) * randInt(rng, 1, 2 ** 23) * 2 ** -149) : randomScaled(rng, -100, 100);
      const h = ulp32(c) / 2;
      const k = randInt(rng, 1, 4000);
      const sa = rng() < 0.5 ? -1 : 1, sb = rng() < 0.5 ? -1 : 1;
      switch (i % 4) {
        case 0: out.push([fr(sa * h * (1 + k * 2 ** -23)), fr(sb * (1 - k * 2 ** -23)), c]); break; // h·(1 − k²·2^-46)
        case 1: out.push([fr(sa * h * (1 + k * 2 ** -23)), fr(sb * (1 + k * 2 ** -23)), c]); break;
        case 2: out.push([fr(sa * h), sb, c]); break;                                              // an exact tie
        default: out.push([fr(sa * h * 2 ** 20 * (1 + 2 ** -23)), fr(sb * 2 ** -20 * (1 - 2 ** -23)), c]);
      }
    }
    return out;
  };

  it('fmaBig (the BigInt reference) itself: exact ties go to even, a sliver decides, subnormals and overflow', () => {
    const one = 1, u = 2 ** -23;
    expect(fmaBig(2 ** -24, 1, 1)).toBe(1);                              // tie, even below
    expect(fmaBig(2 ** -24, 1, fr(1 + u))).toBe(fr(1 + 2 * u));          // tie, even above
    expect(fmaBig(fr(2 ** -24 * (1 + u)), fr(1 - u), fr(1 + u))).toBe(fr(1 + u)); // just below the tie
    expect(fmaBig(fr(2 ** -24 * (1 + u)), fr(1 + u), one)).toBe(fr(1 + u));       // just above
    expect(fmaBig(2 ** -75, 2 ** -75, 0)).toBe(0);                       // 2^-150: tie with 0, even
    expect(fmaBig(fr(2 ** -75 * (1 + u)), 2 ** -75, 0)).toBe(2 ** -149); // just above 2^-150
    expect(fmaBig(3.4028234663852886e38, 1, fr(2 ** 103))).toBe(Infinity); // FLT_MAX + half ulp: tie → 2^128
    expect(Object.is(fmaBig(-0, 1, -0), -0)).toBe(true);
    expect(Object.is(fmaBig(1, 1, -1), 0)).toBe(true);
  });

  it('equals the exact rational result on random, wide-range, subnormal and double-rounding-tie inputs; f32(f64) does not', async () => {
    const T = (await compileTestKernels(`export { fma32 } from './assembly/util/expf';\n`)).fns;
    const rng = mulberry32(1200);
    const random: Array<[number, number, number]> = [];
    for (let i = 0; i < 20000; i++) random.push([randomBitsF32(rng), randomBitsF32(rng), randomBitsF32(rng)]);
    for (let i = 0; i < 20000; i++) random.push([randomScaled(rng, -30, 30), randomScaled(rng, -30, 30), randomScaled(rng, -60, 60)]);
    for (let i = 0; i < 5000; i++) random.push([randomScaled(rng, -80, -60), randomScaled(rng, -80, -60), fr(randomScaled(rng, -10, 10) * 2 ** -140)]);
    for (let i = 0; i < 2000; i++) random.push([randomScaled(rng, 60, 64), randomScaled(rng, 60, 64), randomScaled(rng, 120, 127)]);
    const ties = tieCases(rng, 20000);
    const specials: Array<[number, number, number]> = [
      [0, 0, 0], [-0, 0, 0], [-0, 1, -0], [1, -1, 1], [Infinity, 1, 1], [Infinity, 0, 1], [Infinity, 1, -Infinity],
      [NaN, 1, 1], [1, 1, NaN], [3.4028234663852886e38, 2, -3.4028234663852886e38], [2 ** -149, 2 ** -149, -0],
    ];
    expect(check(T.fma32, random).slice(0, 5)).toEqual([]);
    expect(check(T.fma32, ties).slice(0, 5)).toEqual([]);
    expect(check(T.fma32, specials).slice(0, 5)).toEqual([]);
    // the JS transcription helper used by the expf tests agrees too
    expect(check(fmaF32, ties).slice(0, 5)).toEqual([]);
    // the cases are hard: rounding the float64 sum to f32 (the old fma32) misses some of them
    const naive = ties.filter(([a, b, c]) => !sameF(fr(a * b + c), fmaBig(a, b, c))).length;
    expect(naive, 'tie cases where f32(f64(a·b) + c) is wrong').toBeGreaterThan(1000);
  }, 60000);

  it('ggml_expf (which runs on fma32) still equals the exact-FMA transcription of ggml_v_expf on random inputs', () => {
    const rng = mulberry32(1300);
    const bad: string[] = [];
    for (let i = 0; i < 50000; i++) {
      const x = fr(uniform(rng, -100, 88));
      if (!sameF(K.ggml_expf(x), ggmlVExpf(x))) bad.push(`${x}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

describe('ggml_expf and silu_mul', () => {
  const sweep = (): number[] => {
    const rng = mulberry32(700);
    const xs: number[] = [];
    for (let x = -103; x <= 88.72; x += 0.0009765625) xs.push(x);
    for (let i = 0; i < 100000; i++) xs.push(fr(uniform(rng, -103, 88.72)));
    for (let i = 0; i < 20000; i++) xs.push(fr(uniform(rng, -1, 1) * 2 ** uniform(rng, -30, 0)));
    xs.push(0, -0, 2 ** -149, -(2 ** -149), fr(Math.LN2), fr(-Math.LN2), fr(-87.33654), fr(88.72283), 39.11296463012695);
    return xs.map(fr);
  };

  it('ggml_expf equals llama.cpp\'s ggml_v_expf (exact-FMA transcription) bit for bit', () => {
    const bad: string[] = [];
    for (const x of sweep()) {
      const got = K.ggml_expf(x), want = ggmlVExpf(x);
      if (!sameF(got, want)) bad.push(`x = ${x}: ${got} vs ${want}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it(`ggml_expf is within ${EXPF_ULPS} ulp of e^x over [-103, 88.72] (and exceeds 2 ulp somewhere, like ggml_v_expf)`, () => {
    let worst = 0, worstX = 0;
    for (const x of sweep()) {
      const want = Math.exp(x);
      const err = Math.abs(K.ggml_expf(x) - want) / ulp32(want);
      if (!(err <= worst)) { worst = err; worstX = x; }
    }
    expect(worst, `worst at x = ${worstX}`).toBeLessThanOrEqual(EXPF_ULPS);
    const x = 39.11296463012695;
    expect(Math.abs(K.ggml_expf(x) - Math.exp(x)) / ulp32(Math.exp(x)), `ggml_v_expf's own error at ${x}`).toBeGreaterThan(2);
  });

  it('ggml_expf_row (four lanes at a time by ggml_expf_x4, as softmax and silu_mul run it) == ggml_expf value by value, edges included', () => {
    const edges = [NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -149), 88.72, 88.73, 89, -103, -104, -192, -193, 192, 193, 1e30, -1e30, 3.4e38, -3.4e38];
    const xs = Float32Array.from([...sweep(), ...edges]);
    const xp = putF32(xs), yp = alloc(xs.length * 4);
    for (const off of [0, 1, 2, 3]) { // every value in every lane position, and the tails
      (K as unknown as { ggml_expf_row(x: number, y: number, n: number): void }).ggml_expf_row(xp + 4 * off, yp, xs.length - off);
      const y = getF32(yp, xs.length - off);
      const bad: string[] = [];
      for (let i = 0; i < y.length; i++) {
        const want = K.ggml_expf(xs[i + off]);
        if (!sameF(y[i], want) && !(Number.isNaN(y[i]) && Number.isNaN(want))) bad.push(`x = ${xs[i + off]}: ${y[i]} vs ${want}`);
      }
      expect(bad.slice(0, 5), `offset ${off}`).toEqual([]);
    }
  });

  it('ggml_expf: 0 for very negative inputs, Infinity above 89, NaN stays NaN', () => {
    for (const x of [-104, -110, -150, -192, -200, -1000, -1e30, -Infinity]) expect(Object.is(K.ggml_expf(x), 0), `exp(${x})`).toBe(true);
    for (const x of [89, 89.5, 100, 192, 1000, 1e30, Infinity]) expect(K.ggml_expf(x), `exp(${x})`).toBe(Infinity);
    expect(K.ggml_expf(NaN)).toBeNaN();
    expect(K.ggml_expf(0)).toBe(1);
  });

  it.each([1, 15, 16, 17, 31, 32, 33, 100, 172])('silu_mul rowLen %i × 3 rows: documented expf split exactly, f64 within bound, in place', (rowLen) => {
    const rng = mulberry32(800 + rowLen);
    const nRows = 3, n = rowLen * nRows;
    const gate = randomF32(rng, n, 12), up = randomF32(rng, n, 3, true);
    const gp = putF32(gate), upp = putF32(up), op = alloc(n * 4);
    K.silu_mul(gp, upp, op, rowLen, nRows);
    const got = getF32(op, n);
    // documented: ggml_v_expf for the row's whole 16-value steps, libm expf for its tail
    const whole = rowLen & ~15;
    const emulated = Float32Array.from(gate, (g, i) => {
      const e = i % rowLen < whole ? ggmlVExpf(-g) : fr(Math.exp(-g));
      return fr(fr(g / fr(1 + e)) * up[i]);
    });
    expect(bitDiffs(got, emulated)).toEqual([]);
    // f64 reference: exp within EXPF_ULPS ulp ≤ 2·EXPF_ULPS·u relative (the factor e/(1+e) ≤ 1 carries it
    // through 1 + e); 1 + e, the division and the multiply round once each (u)
    const want = Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]);
    const rel = Math.expm1(2 * EXPF_ULPS * U + 3 * U) * (1 + 8 * U);
    expect(violations(got, want, (i) => Math.abs(want[i]) * rel)).toEqual([]);
    // the scalar twin: the same bits
    const og = alloc(n * 4);
    (K as unknown as { silu_mul_generic(g: number, u: number, o: number, l: number, r: number): void }).silu_mul_generic(gp, upp, og, rowLen, nRows);
    expect(bitDiffs(getF32(og, n), got)).toEqual([]);
    // in place (out = gate), as the forward pass calls it
    K.silu_mul(gp, upp, gp, rowLen, nRows);
    expect(bitDiffs(getF32(gp, n), got)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
describe('attention', () => {
  it('store_transposed writes dst[c][pos0 + r] = src[r][c] and nothing else', () => {
    const rng = mulberry32(600);
    const nRows = 5, nCols = 12, stride = 32, pos0 = 9;
    const src = randomF32(rng, nRows * nCols);
    const sp = putF32(src), dp = putF32(new Float32Array(nCols * stride).fill(-7));
    K.store_transposed(sp, nRows, nCols, dp, stride, pos0);
    const got = getF32(dp, nCols * stride);
    const want = new Float32Array(nCols * stride).fill(-7);
    for (let r = 0; r < nRows; r++) for (let c = 0; c < nCols; c++) want[c * stride + pos0 + r] = src[r * nCols + c];
    expect(bitDiffs(got, want)).toEqual([]);
  });

  /** float64 attention for one query position with GQA, and the data-derived error bound per output. */
  function attentionRef(q: Float32Array, kRows: Float32Array, vRows: Float32Array, nHead: number, nHeadKv: number, hd: number, nKv: number, scale: number) {
    const kvDim = nHeadKv * hd;
    const nPad = Math.ceil(nKv / 16) * 16;
    const out = new Float64Array(nHead * hd);
    const bound = new Float64Array(nHead * hd);
    const group = nHead / nHeadKv;
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / group);
      const s: number[] = [], eta: number[] = [];
      for (let t = 0; t < nKv; t++) {
        let dot = 0, sumAbs = 0;
        for (let i = 0; i < hd; i++) {
          const p = kRows[t * kvDim + kvh * hd + i] * q[h * hd + i];
          dot += p;
          sumAbs += Math.abs(p);
        }
        s.push(scale * dot);
        // |ŝ - s| ≤ scale·γ_hd·Σ|k·q| + u·|s| (times scale, rounded); the f64 reference error is negligible
        eta.push(scale * (dotBound(hd, sumAbs) + refBound(hd, sumAbs)) * (1 + U) + U * Math.abs(scale * dot) * (1 + U));
      }
      const m = Math.max(...s);
      const e = s.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / z);
      // softmax: subtracting the max rounds (u·|s - m|); shifting all scores by η changes each
      // probability by a factor within e^(±2·max η); ggml_expf errs ≤ EXPF_ULPS ulp (tested below),
      // in each term and in the sum; the f32 reduce_add_16 tree (depth 4, positive terms, +1 u for the
      // f64 chunk sum and 1/sum), f32(1/sum) and the final multiply add (1+u) factors each
      const H = Math.max(...eta.map((v, t) => v + U * Math.abs(s[t] - m) * (1 + eta[t])));
      const expRel = 2 * EXPF_ULPS * U;
      const epsP = Math.expm1(2 * H + 2 * expRel * (1 + expRel) + 7 * U * (1 + 7 * U));
      for (let d = 0; d < hd; d++) {
        let o = 0, S = 0;
        for (let t = 0; t < nKv; t++) {
          const v = vRows[t * kvDim + kvh * hd + d];
          o += v * p[t];
          S += Math.abs(v) * p[t];
        }
        out[h * hd + d] = o;
        // Σ v·(p̂ - p) ≤ ε_p·S, plus the f32 dot over nPad positions: γ_nPad·Σ|v|·p̂
        bound[h * hd + d] = epsP * S + gamma(nPad) * (1 + epsP) * S + refBound(nKv, S) + nPad * 2 ** -150;
      }
    }
    return { out, bound };
  }

  /**
   * The documented algorithm, transcribed: kq = vec_dot_f32 (ggml_vec_dot order) · scale, then
   * ggml_vec_soft_max_f32 (e = ggml_v_expf(s - max), per-16 reduce_add in f32, chunks summed in
   * double, p = e · f32(1/sum), zero past nKv), then out = vec_dot_f32 over nPad (nKv rounded up to
   * 32) positions of the V column (including the stale padding values, multiplied by p = 0), in
   * tinyBLAS's order for a batch and ggml_vec_dot's for one token.
   */
  function attentionEmulated(q: Float32Array, kRows: Float32Array, vt: Float32Array, vtStride: number, nHead: number, nHeadKv: number, hd: number, nKv: number, scale: number, batched: boolean) {
    const kvDim = nHeadKv * hd;
    const nPad = Math.ceil(nKv / 32) * 32;
    const out = new Float32Array(nHead * hd);
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKv));
      const qh = q.subarray(h * hd, (h + 1) * hd);
      const s = Array.from({ length: nKv }, (_, t) => fr(dotGgmlOrder(kRows.subarray(t * kvDim + kvh * hd, t * kvDim + kvh * hd + hd), qh, false, false) * scale));
      const mx = Math.max(...s);
      const p = new Float64Array(nPad);
      for (let t = 0; t < nKv; t++) p[t] = ggmlVExpf(fr(s[t] - mx));
      let sum = 0;
      for (let t = 0; t < nPad; t += 16) sum += reduceAdd16(p.slice(t, t + 16));
      const inv = fr(1 / sum);
      for (let t = 0; t < nKv; t++) p[t] = fr(p[t] * inv);
      for (let d = 0; d < hd; d++) {
        const c = kvh * hd + d;
        out[h * hd + d] = dotGgmlOrder(vt.subarray(c * vtStride, c * vtStride + nPad), p, false, batched);
      }
    }
    return out;
  }

  const shapes: Array<[nHead: number, nHeadKv: number, hd: number]> = [[8, 4, 16], [8, 4, 32], [4, 4, 16], [8, 1, 32]];
  const nKvs = [1, 5, 16, 17, 40];
  const cases = shapes.flatMap((s) => nKvs.map((n) => [...s, n] as [number, number, number, number]));

  it.each(cases)('nHead %i nHeadKv %i headDim %i nKv %i: SIMD == generic == documented algorithm, f64 GQA attention within bound', (nHead, nHeadKv, hd, nKv) => {
    const rng = mulberry32(nHead * 10000 + nHeadKv * 1000 + hd * 100 + nKv);
    const kvDim = nHeadKv * hd;
    const nPad = Math.ceil(nKv / 32) * 32;
    const scale = fr(1 / Math.sqrt(hd));
    const q = randomF32(rng, nHead * hd, 1.5);
    const kRows = randomF32(rng, nKv * kvDim, 1.5);
    const vRows = randomF32(rng, nKv * kvDim, 1, true);
    for (const vtStride of [nPad, nPad + 32]) {
      // K cache: nKv rows, then rows the kernel must not read (NaN)
      const kc = putF32([...kRows, ...new Float32Array(3 * kvDim).fill(NaN)]);
      // V cache transposed [kvDim][vtStride]: positions nKv..nPad-1 hold finite stale values (the kernel
      // reads them with probability 0), positions ≥ nPad must not be read at all (NaN)
      const vtInit = new Float32Array(kvDim * vtStride);
      for (let c = 0; c < kvDim; c++) for (let t = nKv; t < vtStride; t++) vtInit[c * vtStride + t] = t < nPad ? uniform(rng, -9, 9) : NaN;
      const vt = putF32(vtInit);
      const vp = putF32(vRows);
      K.store_transposed(vp, nKv, kvDim, vt, vtStride, 0);
      const qp = putF32(q);
      const guard = 16;
      for (const batched of [false, true]) {
      const sc = putF32(new Float32Array(nPad + guard).fill(-5));
      const oa = alloc(nHead * hd * 4), ob = alloc(nHead * hd * 4);
      K.attention(qp, kc, vt, oa, sc, nHead, nHeadKv, hd, nKv, kvDim, vtStride, scale, batched);
      const scoresAfter = getF32(sc, nPad + guard);
      K.attention_generic(qp, kc, vt, ob, sc, nHead, nHeadKv, hd, nKv, kvDim, vtStride, scale, batched);
      const simd = getF32(oa, nHead * hd), gen = getF32(ob, nHead * hd);
      expect(Array.from(scoresAfter.subarray(nPad)), 'scratch past nPad untouched').toEqual(new Array(guard).fill(-5));
      const label = `vtStride ${vtStride}${batched ? ', batch' : ''}`;
      expect(bitDiffs(simd, attentionEmulated(q, kRows, getF32(vt, kvDim * vtStride), vtStride, nHead, nHeadKv, hd, nKv, scale, batched)),
        `${label}: documented algorithm, exactly`).toEqual([]);
      const { out, bound } = attentionRef(q, kRows, vRows, nHead, nHeadKv, hd, nKv, scale);
      expect(violations(simd, out, (i) => bound[i]), label).toEqual([]);
      expect(violations(gen, out, (i) => bound[i]), label).toEqual([]);
      expect(violations(simd, gen, (i) => 2 * bound[i]), label).toEqual([]);
      // attention_impl differs between the twins only in vec_dot_f32 vs vec_dot_f32_generic, which
      // float_dot.ts documents (and the vec_dot tests prove) to be bit-identical; the rest is shared
      expect(bitDiffs(simd, gen), label).toEqual([]);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('mul_mat', () => {
  it('runs on the kernel module asked for (QUANTSCOPE_EXPECT_KERNELS, set by test/relaxed.test.ts)', () => {
    expect(engine.kind).toBe(process.env.QUANTSCOPE_EXPECT_KERNELS || engine.kind);
  });

  interface MatCase { type: number; cols: number }
  const matCases: MatCase[] = [
    ...[15, 17, 100, 256].map((cols) => ({ type: F32, cols })),
    ...[16, 17, 100, 256].map((cols) => ({ type: F16, cols })),
    ...[32, 64, 256, 768].map((cols) => ({ type: Q8_0, cols })),
  ];
  const typeName = (t: number) => GGML_TYPES.get(t)!.name;
  const SENTINEL = 0x7fc0dead; // a NaN pattern no kernel produces

  it.each(matCases.map((c) => [typeName(c.type), c.cols, c] as const))('%s cols %i: SIMD vs generic, == vec_dot_row, vs references', (_name, cols, { type }) => {
    const rng = mulberry32(900 + type * 1000 + cols);
    const rows = 7, nTok = 3, outRowFloats = rows + 3;
    const wFloats = randomF32(rng, rows * cols, 0.5, true);
    // weights in the type's storage format
    let w: Uint8Array;
    if (type === F32) w = new Uint8Array(wFloats.buffer.slice(0));
    else if (type === F16) w = new Uint8Array(Uint16Array.from(wFloats, (v) => K.fp32_to_fp16(v)).buffer);
    else {
      const xp = putF32(wFloats), yp = alloc(rows * cols / QK * QB);
      for (let r = 0; r < rows; r++) K.quantize_row_q8_0(xp + r * cols * 4, yp + r * (cols / QK) * QB, cols);
      w = getBytes(yp, rows * cols / QK * QB);
    }
    const wRowBytes = rowBytes(type, cols);
    expect(w.length).toBe(rows * wRowBytes);
    // the SIMD engine reads Q8_0 in the four-row layout (rows 0 … 3 interleaved, 4 … 6 as they are)
    const wp = putBytes(w), wpS = putBytes(forMulMat(fmt(type), w, rows, wRowBytes));
    // activations: f32 rows converted with quantize_activation(type, …) row by row, as the model does
    const acts = randomF32(rng, nTok * cols, 2, true);
    const ap = putF32(acts);
    const xRowBytes = activationRowBytes(runnableFormat(type)!.activation, cols);
    const xp = alloc(nTok * xRowBytes), xg = alloc(nTok * xRowBytes);
    for (let t = 0; t < nTok; t++) {
      quantizeActivation(fmt(type), ap + t * cols * 4, xp + t * xRowBytes, cols);
      quantizeActivation(fmtG(type), ap + t * cols * 4, xg + t * xRowBytes, cols);
    }
    const xBytes = getBytes(xp, nTok * xRowBytes);
    expect(getBytes(xg, nTok * xRowBytes)).toEqual(xBytes);
    if (type === F32) expect(new Float32Array(xBytes.buffer)).toEqual(acts);
    if (type === F16) expect(bitDiffs(new Float32Array(xBytes.buffer), Float32Array.from(acts, roundToHalf))).toEqual([]);
    if (type === Q8_0) { // q8_0x: each row's blocks, then their f32 scales and sums
      const want = new Uint8Array(nTok * xRowBytes);
      for (let t = 0; t < nTok; t++) want.set(withQ8_0xExtras(quantizeQ8Ref(acts.subarray(t * cols, (t + 1) * cols))), t * xRowBytes);
      expect(xBytes).toEqual(want);
    }
    // JS values of weights and activations
    const wVal = (r: number, c: number) =>
      type === F32 ? wFloats[r * cols + c] : type === F16 ? halfToNumber(w[2 * (r * cols + c)] | (w[2 * (r * cols + c) + 1] << 8)) : NaN;
    const xVal = (t: number, c: number) => new Float32Array(xBytes.buffer)[t * cols + c];

    // row ranges as mul_mat_chunks gives them: r0 a multiple of four for a format in the four-row layout
    const ranges = fmt(type).rows4 ? [[0, rows], [0, 4], [4, 6], [4, 7], [4, 4]] : [[0, rows], [2, 5], [3, 4], [6, 7], [4, 4]];
    for (const [r0, r1] of ranges) {
      const oS = putF32(new Float32Array(nTok * outRowFloats).fill(bitsF32(SENTINEL)));
      const oG = putF32(new Float32Array(nTok * outRowFloats).fill(bitsF32(SENTINEL)));
      K.mul_mat(fmt(type).vecDot, fmt(type).vecDotBatch, wpS, wRowBytes, xp, xRowBytes, oS, outRowFloats, r0, r1, cols, nTok);
      K.mul_mat(fmtG(type).vecDot, fmtG(type).vecDotBatch, wp, wRowBytes, xp, xRowBytes, oG, outRowFloats, r0, r1, cols, nTok);
      const simd = getF32(oS, nTok * outRowFloats), gen = getF32(oG, nTok * outRowFloats);
      const sBits = new Uint32Array(simd.buffer), gBits = new Uint32Array(gen.buffer);
      const label = `rows ${r0}..${r1}`;
      for (let t = 0; t < nTok; t++) {
        for (let r = 0; r < outRowFloats; r++) {
          const i = t * outRowFloats + r;
          if (r < r0 || r >= r1) {
            expect(sBits[i], `${label}: out[${t}][${r}] must be untouched`).toBe(SENTINEL);
            expect(gBits[i], `${label}: generic out[${t}][${r}] must be untouched`).toBe(SENTINEL);
            continue;
          }
          const wr = wp + r * wRowBytes, xt = xp + t * xRowBytes;
          // a batch of ≥ 2 tokens runs the batch dot product (llama.cpp's tinyBLAS order where it has one)
          const batch = nTok >= 2;
          const dotS = batch ? fmt(type).vecDotBatchFn : fmt(type).vecDotFn, dotG = batch ? fmtG(type).vecDotBatchFn : fmtG(type).vecDotFn;
          expect(sameF(simd[i], dotS(cols, wr, xt)), `${label} [${t}][${r}] == the format's dot product`).toBe(true);
          expect(sameF(gen[i], dotG(cols, wr, xt)), `${label} [${t}][${r}] == its generic twin`).toBe(true);
          if (type === Q8_0) {
            const ref = dotQ8Ref(w.subarray(r * wRowBytes, (r + 1) * wRowBytes), xBytes.subarray(t * xRowBytes, (t + 1) * xRowBytes), cols);
            expect(sameF(simd[i], gen[i]), `${label} [${t}][${r}]: Q8_0 SIMD ${simd[i]} vs generic ${gen[i]}`).toBe(true);
            expect(sameF(simd[i], ref), `${label} [${t}][${r}]: Q8_0 SIMD ${simd[i]} vs reference ${ref}`).toBe(true);
          } else {
            let dot = 0, sumAbs = 0;
            for (let c = 0; c < cols; c++) {
              const p = wVal(r, c) * xVal(t, c);
              dot += p;
              sumAbs += Math.abs(p);
            }
            const b = dotBound(cols, sumAbs) + refBound(cols, sumAbs);
            const wRow = Array.from({ length: cols }, (_, c) => wVal(r, c)), xRow = Array.from({ length: cols }, (_, c) => xVal(t, c));
            const order = dotGgmlOrder(wRow, xRow, type === F16, batch);
            expect(sameF(simd[i], order), `${label} [${t}][${r}]: SIMD ${simd[i]} vs documented order ${order}`).toBe(true);
            expect(sameF(simd[i], gen[i]), `${label} [${t}][${r}]: SIMD ${simd[i]} vs generic ${gen[i]}`).toBe(true);
            expect(Math.abs(simd[i] - gen[i]), `${label} [${t}][${r}]: SIMD ${simd[i]} vs generic ${gen[i]}`).toBeLessThanOrEqual(2 * b);
            expect(Math.abs(simd[i] - dot), `${label} [${t}][${r}]: SIMD vs f64 ${dot}`).toBeLessThanOrEqual(b);
            expect(Math.abs(gen[i] - dot), `${label} [${t}][${r}]: generic vs f64 ${dot}`).toBeLessThanOrEqual(b);
          }
        }
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('dequantization against llama.cpp (gguf-py reference values)', () => {
  interface DequantFixture {
    model: string;
    tensors: Array<{ name: string; type: string; ne: number[]; rows: Record<string, number[]> }>;
  }
  const FIXTURES = ['kjv-austen-4l-256d.F16.json.gz', 'kjv-austen-4l-256d.Q8_0.json.gz', 'tinystories-656k-q8_0.json.gz'];

  it.each(FIXTURES)('%s: dequantize_row equals llama.cpp row values exactly', async (file) => {
    const fx = readJsonFixture<DequantFixture>(join(ROOT, 'test/fixtures/dequant', file));
    const path = join(ROOT, 'test/fixtures/models', fx.model);
    const gguf = await readGguf(path);
    const fd = openSync(path, 'r');
    let testedHere = 0;
    try {
      for (const t of fx.tensors) {
        const type = [...GGML_TYPES.values()].find((g) => g.name === t.type);
        expect(type, `${file}: unknown type ${t.type}`).toBeDefined();
        if (runnableFormat(type!.id) === undefined) continue; // a type we do not claim to run (none in these files)
        // a claimed type must be present and testable: fail if the model lacks the tensor
        const info = gguf.tensors.find((g) => g.name === t.name);
        expect(info, `${file}: tensor ${t.name} missing from ${fx.model}`).toBeDefined();
        expect(info!.type, t.name).toBe(type!.id);
        expect([...info!.dims], t.name).toEqual(t.ne);
        const n = t.ne[0];
        const rb = rowBytes(type!.id, n);
        expect(Object.keys(t.rows).length, t.name).toBeGreaterThan(0);
        for (const [rowKey, values] of Object.entries(t.rows)) {
          const row = Number(rowKey);
          expect(values.length).toBe(n);
          // the JSON holds f32 values printed losslessly (Python float repr), so equality is exact
          expect(values.every((v) => fr(v) === v), `${t.name} row ${row}: JSON values are f32`).toBe(true);
          const raw = new Uint8Array(rb);
          expect(readSync(fd, raw, 0, rb, info!.fileOffset + row * rb)).toBe(rb);
          const src = putBytes(raw), dst = alloc(n * 4);
          fmt(type!.id).dequantize(src, dst, n);
          const got = getF32(dst, n);
          const bad = values.map((v, i) => (sameF(got[i], v) ? '' : `[${i}] ${got[i]} vs ${v}`)).filter(Boolean);
          expect(bad.slice(0, 5), `${file} ${t.name} row ${row}`).toEqual([]);
        }
        testedHere++;
      }
    } finally {
      closeSync(fd);
    }
    // every tensor of a claimed type was tested (and there was at least one)
    const claimed = fx.tensors.filter((t) => {
      const id = [...GGML_TYPES.values()].find((g) => g.name === t.type)?.id;
      return id !== undefined && runnableFormat(id) !== undefined;
    });
    expect(claimed.length, `${file}: no tensor of a supported type`).toBeGreaterThan(0);
    expect(testedHere, file).toBe(claimed.length);
  });

  it('the fixtures cover every weight format they could: F16 and Q8_0', () => {
    const types = new Set<string>();
    for (const file of FIXTURES) {
      const fx = readJsonFixture<DequantFixture>(join(ROOT, 'test/fixtures/dequant', file));
      for (const t of fx.tensors) types.add(t.type);
    }
    expect([...types].sort()).toEqual(['F16', 'Q8_0']);
  });

  it('dequantize_row(F32) copies; dequantize_row(F16) decodes', () => {
    const rng = mulberry32(1000);
    const x = randomF32(rng, 100, 5, true);
    const xp = putF32(x), y = alloc(400);
    fmt(F32).dequantize(xp, y, 100);
    expect(bitDiffs(getF32(y, 100), x)).toEqual([]);
    const h = Array.from(x, numberToHalf);
    const hp = putU16(h), z = alloc(400);
    fmt(F16).dequantize(hp, z, 100);
    expect(bitDiffs(getF32(z, 100), Float32Array.from(h, halfToNumber))).toEqual([]);
  });
});
