// Q2_K and Q3_K (assembly/quant/q2_k.ts, q3_k.ts): the dequantizers against llama.cpp's reference
// values and an independent JavaScript decoder; the dot products with Q8_K activations SIMD vs
// generic vs a JavaScript transcription of llama.cpp's x86 (AVX2) kernels (all bit for bit), and
// against a float64 reference within a bound derived from the data.
//
// The x86 kernels (ggml_vec_dot_q2_K_q8_K / _q3_K_q8_K, `#elif defined __AVX2__`, ggml-cpu-quants.c
// at c392e50): `_mm256_maddubs_epi16` + `_mm256_madd_epi16` with the sub-block scale put four
// consecutive values of every 32-value chunk into one of eight i32 lanes (lane u: values 4u..4u+3),
// exact; per super-block `acc = _mm256_fmadd_ps(d, lanes, acc)` (Q2_K first the same with its eight
// mins lanes m_{2k}·bsums[2k] + m_{2k+1}·bsums[2k+1] and −dmin), at the end hsum_float_8(acc) =
// ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)). The transcription evaluates each FMA exactly in
// float64 (a·b is exact there) and rounds once to f32, as the kernels' fma32 does.
//
// Error analysis (u = 2^-24, γ_k = k·u/(1 − k·u), Higham (3.4)): the integer parts are exact, so all
// rounding happens in the float steps. Every term D·L (D = f32(d_x·d), one rounding; L an exact
// integer lane) enters its lane's accumulator through an FMA; an FMA evaluated through float64
// rounds twice (to f64, then f32), relative error < 2u, counted as 2 roundings. A lane takes nb
// FMAs (Q2_K: 2·nb, mins and quants), then 3 additions in hsum_float_8. Hence
//   |sumf − Σ terms| ≤ γ_k · Σ|terms|,   Q3_K: k = 1 + 2·nb + 3,   Q2_K: k = 1 + 4·nb + 3.
// Gradual underflow: each rounded product can also err by 2^-150 absolutely; an error in d_x·d
// is multiplied by |L| afterwards, so we allow 2^-150·(|L| + 2) per term.
// Σ terms equals Σ_p w_p·x_p exactly, where w_p, x_p are the real (unrounded) dequantized values
// (for Q2_K given consistent bsums, as every Q8_K here has); the float64 reference sums those with
// error ≤ γ_{n+1}(2^-53)·Σ|w_p x_p|.
import { describe, expect, it } from 'vitest';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../src/wasm/instance.js';
import { readGguf } from '../src/gguf/reader.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';
import { FIXTURES, readJsonFixture } from './helpers/fixtures.js';
import { mulberry32, randInt, type Rng } from './helpers/rng.js';
import { halfToNumber } from './helpers/half.js';
import { testMemory } from './helpers/test-memory.js';

const Q2_K = 10;
const Q3_K = 11;
const QK_K = 256;
const Q8K_BYTES = 292;
const U = 2 ** -24;
const U64 = 2 ** -53;
const fr = Math.fround;

// ------------------------------------------------------------------------------------------------
// engine and memory helpers

type Ptr = number;
interface LowKExports {
  quantize_row_q8_K(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_q2_K(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_q3_K(x: Ptr, y: Ptr, k: number): void;
  vec_dot_q2_K_q8_K(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q2_K_q8_K_generic(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q3_K_q8_K(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q3_K_q8_K_generic(n: number, w: Ptr, x: Ptr): number;
}

const engine = createEngine({ generic: false });
const K = engine.exports as unknown as LowKExports;
const arena = engine.arena;
const { alloc, putBytes, putF32, getF32, getBytes } = testMemory(arena);

// ------------------------------------------------------------------------------------------------
// numeric helpers

/** A finite half bit pattern: ±0, the largest (±65504), subnormals, or any other finite value. */
function randomHalf(rng: Rng): number {
  const sign = rng() < 0.5 ? 0x8000 : 0;
  const r = rng();
  if (r < 0.08) return sign;                              // ±0
  if (r < 0.14) return sign | 0x7bff;                     // ±65504
  if (r < 0.2) return sign | randInt(rng, 1, 0x3ff);      // subnormal
  if (r < 0.6) return sign | (randInt(rng, 8, 16) << 10) | randInt(rng, 0, 0x3ff); // typical scales 2^-7..2
  return sign | (randInt(rng, 0, 30) << 10) | randInt(rng, 0, 0x3ff);
}

const gamma = (k: number, u = U) => (k * u) / (1 - k * u);
/** bytes of a row of n values of ggml type `id` (ggml-types.ts geometry) */
const rowBytes = (id: number, n: number) => (n / GGML_TYPES.get(id)!.blockSize) * GGML_TYPES.get(id)!.typeSize;

/** same value incl. the sign of zero, or both NaN */
const sameF = (a: number, b: number) => Object.is(a, b);
const bits = (x: number) => {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x);
  return `0x${v.getUint32(0).toString(16)}`;
};

// ------------------------------------------------------------------------------------------------
// the formats, written from the layout tables (independent of the kernels' code)

interface Format {
  name: 'Q2_K' | 'Q3_K';
  type: number;
  bytes: number;                  // per super-block
  dOffsets: number[];             // f16 fields
  dot(n: number, w: Ptr, x: Ptr): number;
  dotGeneric(n: number, w: Ptr, x: Ptr): number;
}
/** the per-format vec_dot exports by ggml type id */
const dotOf = (type: number) => (type === Q2_K ? K.vec_dot_q2_K_q8_K : K.vec_dot_q3_K_q8_K);
const dotGenericOf = (type: number) => (type === Q2_K ? K.vec_dot_q2_K_q8_K_generic : K.vec_dot_q3_K_q8_K_generic);
const FORMATS: Format[] = [
  {
    name: 'Q2_K', type: Q2_K, bytes: 84, dOffsets: [80, 82],
    dot: (n, w, x) => K.vec_dot_q2_K_q8_K(n, w, x),
    dotGeneric: (n, w, x) => K.vec_dot_q2_K_q8_K_generic(n, w, x),
  },
  {
    name: 'Q3_K', type: Q3_K, bytes: 110, dOffsets: [108],
    dot: (n, w, x) => K.vec_dot_q3_K_q8_K(n, w, x),
    dotGeneric: (n, w, x) => K.vec_dot_q3_K_q8_K_generic(n, w, x),
  },
];
const directDequant = (type: number, x: Ptr, y: Ptr, n: number) =>
  (type === Q2_K ? K.dequantize_row_q2_K(x, y, n) : K.dequantize_row_q3_K(x, y, n));

const half = (b: Uint8Array, o: number) => halfToNumber(b[o] | (b[o + 1] << 8));

/**
 * Q2_K super-block at `o`: the quant q_p ∈ 0..3, the 4-bit scale and min of the 16-weight sub-block
 * holding p, and the two f16 super-block scales. qs[32h + l] holds weights 128h + l, +32, +64, +96 in
 * bits 0-1, 2-3, 4-5, 6-7 (quantize_row_q2_K_ref's packing).
 */
function q2k(b: Uint8Array, o: number) {
  const q = new Int32Array(QK_K), sc = new Int32Array(16), m = new Int32Array(16);
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l++) {
      const byte = b[o + 16 + 32 * h + l];
      for (let s = 0; s < 4; s++) q[128 * h + 32 * s + l] = (byte >> (2 * s)) & 3;
    }
  }
  for (let j = 0; j < 16; j++) { sc[j] = b[o + j] & 15; m[j] = b[o + j] >> 4; }
  return { q, sc, m, d: half(b, o + 80), dmin: half(b, o + 82) };
}

/**
 * Q3_K super-block at `o`: quants q_p ∈ −4..3 and signed 6-bit scales S_j ∈ −32..31. The scales
 * are decoded the way ggml does it, through three little-endian u32 and kmask1/kmask2 (the kernel
 * uses a per-byte formula instead, so the two check each other). The high bit of weight p is bit
 * ⌊p/32⌋ of hmask[p % 32] (quantize_row_q3_K_ref's packing); a clear bit means −4.
 */
function q3k(b: Uint8Array, o: number) {
  const q = new Int32Array(QK_K), S = new Int32Array(16);
  for (let p = 0; p < QK_K; p++) {
    const low = (b[o + 32 + 32 * (p >> 7) + (p & 31)] >> (2 * ((p >> 5) & 3))) & 3;
    const high = (b[o + (p % 32)] >> Math.floor(p / 32)) & 1;
    q[p] = high ? low : low - 4;
  }
  const dv = new DataView(b.buffer, b.byteOffset + o + 96, 12);
  const a0 = dv.getUint32(0, true), a1 = dv.getUint32(4, true), t = dv.getUint32(8, true);
  const k1 = 0x03030303, k2 = 0x0f0f0f0f;
  const words = [
    ((a0 & k2) | (((t >>> 0) & k1) << 4)) >>> 0,
    ((a1 & k2) | (((t >>> 2) & k1) << 4)) >>> 0,
    (((a0 >>> 4) & k2) | (((t >>> 4) & k1) << 4)) >>> 0,
    (((a1 >>> 4) & k2) | (((t >>> 6) & k1) << 4)) >>> 0,
  ];
  for (let j = 0; j < 16; j++) S[j] = ((words[j >> 2] >>> (8 * (j & 3))) & 0xff) - 32;
  return { q, S, d: half(b, o + 108) };
}

/** ggml's dequantize_row_q2_K / _q3_K in f32: value = f32(f32(d·sc)·q) − f32(dmin·m), f32(f32(d·S)·q) */
function dequantRef(type: number, blocks: Uint8Array, nb: number): Float32Array {
  const y = new Float32Array(nb * QK_K);
  for (let ib = 0; ib < nb; ib++) {
    if (type === Q2_K) {
      const { q, sc, m, d, dmin } = q2k(blocks, ib * 84);
      for (let p = 0; p < QK_K; p++) {
        const j = p >> 4;
        y[ib * QK_K + p] = fr(fr(fr(d * sc[j]) * q[p]) - fr(dmin * m[j]));
      }
    } else {
      const { q, S, d } = q3k(blocks, ib * 110);
      for (let p = 0; p < QK_K; p++) y[ib * QK_K + p] = fr(fr(d * S[p >> 4]) * q[p]);
    }
  }
  return y;
}

/** One Q8_K super-block's fields. */
function q8k(b: Uint8Array, o: number) {
  const dv = new DataView(b.buffer, b.byteOffset + o, Q8K_BYTES);
  const qs = new Int8Array(b.buffer, b.byteOffset + o + 4, QK_K);
  const bsums = Array.from({ length: 16 }, (_, j) => dv.getInt16(260 + 2 * j, true));
  return { d: dv.getFloat32(0, true), qs, bsums };
}

interface DotRef {
  /** llama.cpp's x86 kernel transcribed (exact i32 lanes, FMAs exact then rounded to f32, hsum_float_8) */
  x86: number;
  /** Σ w_p·x_p over the exact (unrounded) dequantized values, in float64 */
  exact: number;
  /** the bound on |kernel − exact| derived in the header (including the float64 reference's own error) */
  bound: number;
}

/** _mm256_fmadd_ps lane: a·b + c rounded once to f32 (a·b is exact in float64 here) */
const fma = (a: number, b: number, c: number) => fr(a * b + c);
/** hsum_float_8: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) in f32 */
const hsum8 = (a: number[]) => fr(fr(fr(a[0] + a[4]) + fr(a[2] + a[6])) + fr(fr(a[1] + a[5]) + fr(a[3] + a[7])));

function dotRef(type: number, w: Uint8Array, x: Uint8Array, nb: number): DotRef {
  let exact = 0, sumAbsProducts = 0;
  let boundSum = 0, under = 0;
  const acc = new Array<number>(8).fill(0);
  for (let ib = 0; ib < nb; ib++) {
    const a = q8k(x, ib * Q8K_BYTES);
    // lane u: values 4u..4u+3 of every 32-value chunk, each times its sub-block scale (exact)
    const L = new Array<number>(8).fill(0);
    let D: number, dReal: number;
    if (type === Q2_K) {
      const { q, sc, m, d, dmin } = q2k(w, ib * 84);
      // _mm256_madd_epi16(mins, bsums): lane k = m_{2k}·bsums[2k] + m_{2k+1}·bsums[2k+1]
      const M = -fr(a.d * dmin);
      for (let k = 0; k < 8; k++) {
        const mins = m[2 * k] * a.bsums[2 * k] + m[2 * k + 1] * a.bsums[2 * k + 1];
        acc[k] = fma(M, mins, acc[k]);
        boundSum += Math.abs(a.d * dmin * mins);
        under += 2 ** -150 * (Math.abs(mins) + 2);
      }
      for (let p = 0; p < QK_K; p++) L[(p >> 2) & 7] += sc[p >> 4] * (a.qs[p] * q[p]);
      D = fr(a.d * d);
      dReal = a.d * d;
      for (let p = 0; p < QK_K; p++) {
        const wp = d * sc[p >> 4] * q[p] - dmin * m[p >> 4]; // exact in float64 (f16 · ≤ 6 bits, ≥ 2^-24 steps)
        const prod = wp * (a.d * a.qs[p]);
        exact += prod;
        sumAbsProducts += Math.abs(prod);
      }
    } else {
      const { q, S, d } = q3k(w, ib * 110);
      for (let p = 0; p < QK_K; p++) L[(p >> 2) & 7] += S[p >> 4] * (a.qs[p] * q[p]);
      D = fr(a.d * d);
      dReal = a.d * d;
      for (let p = 0; p < QK_K; p++) {
        const prod = d * S[p >> 4] * q[p] * (a.d * a.qs[p]);
        exact += prod;
        sumAbsProducts += Math.abs(prod);
      }
    }
    for (let u = 0; u < 8; u++) {
      acc[u] = fma(D, L[u], acc[u]);
      boundSum += Math.abs(dReal * L[u]);
      under += 2 ** -150 * (Math.abs(L[u]) + 2);
    }
  }
  const g = type === Q2_K ? gamma(1 + 4 * nb + 3) : gamma(1 + 2 * nb + 3);
  // boundSum and under are themselves float64 sums: inflate by their relative error too
  const bound = (g * boundSum + under * (1 + g)) * (1 + gamma(16 * nb + 8, U64)) + gamma(nb * QK_K + 1, U64) * sumAbsProducts;
  return { x86: hsum8(acc), exact, bound };
}

// ------------------------------------------------------------------------------------------------
// random data

function randomBlocks(rng: Rng, f: Format, nb: number): Uint8Array {
  const b = new Uint8Array(nb * f.bytes);
  for (let i = 0; i < b.length; i++) b[i] = randInt(rng, 0, 255);
  for (let ib = 0; ib < nb; ib++) {
    for (const o of f.dOffsets) {
      const h = randomHalf(rng);
      b[ib * f.bytes + o] = h & 0xff;
      b[ib * f.bytes + o + 1] = h >> 8;
    }
  }
  return b;
}

/** Q8_K super-blocks from random floats through the kernel's quantize_row_q8_K (some all-zero blocks). */
function q8kFromFloats(rng: Rng, nb: number): Uint8Array {
  const xs = new Float32Array(nb * QK_K);
  for (let ib = 0; ib < nb; ib++) {
    const zero = rng() < 0.03;
    const scale = 2 ** (rng() * 16 - 10);
    for (let i = 0; i < QK_K; i++) {
      xs[ib * QK_K + i] = zero ? 0 : (2 * rng() - 1) * scale * 2 ** (rng() * 6 - 3);
    }
  }
  const xp = putF32(xs), yp = alloc(nb * Q8K_BYTES);
  K.quantize_row_q8_K(xp, yp, nb * QK_K);
  return getBytes(yp, nb * Q8K_BYTES);
}

/** Raw Q8_K super-blocks: any f32 d (incl. ±0, tiny, large), any int8 quants incl. −128, consistent bsums. */
function q8kRaw(rng: Rng, nb: number): Uint8Array {
  const b = new Uint8Array(nb * Q8K_BYTES);
  const dv = new DataView(b.buffer);
  for (let ib = 0; ib < nb; ib++) {
    const o = ib * Q8K_BYTES;
    const r = rng();
    const d = r < 0.05 ? 0 : r < 0.08 ? -0 : fr((rng() < 0.5 ? -1 : 1) * 2 ** (rng() * 40 - 30));
    dv.setFloat32(o, d, true);
    const extreme = rng() < 0.1; // all quants at ±127/−128
    for (let i = 0; i < QK_K; i++) dv.setInt8(o + 4 + i, extreme ? (rng() < 0.5 ? -128 : 127) : randInt(rng, -128, 127));
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let i = 0; i < 16; i++) s += dv.getInt8(o + 4 + 16 * j + i);
      dv.setInt16(o + 260 + 2 * j, s, true);
    }
  }
  return b;
}

/** Extreme weights: every quant and scale at the largest magnitude the format allows. */
function extremeBlocks(rng: Rng, f: Format, nb: number): Uint8Array {
  const b = randomBlocks(rng, f, nb);
  for (let ib = 0; ib < nb; ib++) {
    const o = ib * f.bytes;
    if (f.type === Q2_K) {
      for (let i = 0; i < 16; i++) b[o + i] = 0xff;             // scale 15, min 15
      for (let i = 0; i < 64; i++) b[o + 16 + i] = 0xff;        // q = 3
    } else {
      const lowScale = rng() < 0.5;                            // S = −32 (all bits 0) or +31 (all 1)
      for (let i = 0; i < 32; i++) b[o + i] = 0;                // high bits clear: q = low − 4
      for (let i = 0; i < 64; i++) b[o + 32 + i] = 0;           // low bits 0: q = −4
      for (let i = 0; i < 12; i++) b[o + 96 + i] = lowScale ? 0 : 0xff;
    }
  }
  return b;
}

// ------------------------------------------------------------------------------------------------
describe.each(FORMATS.map((f) => [f.name, f] as const))('%s', (name, f) => {
  it('the JS decoders agree with the layout (super-block bytes, Q8_K activation format)', () => {
    expect(GGML_TYPES.get(f.type)!.name).toBe(name);
    expect(rowBytes(f.type, QK_K)).toBe(f.bytes);
    expect(rowBytes(15, QK_K)).toBe(Q8K_BYTES); // Q8_K
  });

  it('dequantize_row == the JS decoder, bit for bit, on 1200 random super-blocks', () => {
    const rng = mulberry32(0x51 + f.type);
    const nb = 1200;
    const blocks = randomBlocks(rng, f, nb);
    const src = putBytes(blocks, 3); // misaligned on purpose
    const y1 = alloc(nb * QK_K * 4);
    directDequant(f.type, src, y1, nb * QK_K);
    const want = dequantRef(f.type, blocks, nb);
    const a = getF32(y1, nb * QK_K);
    const bad: string[] = [];
    for (let i = 0; i < want.length && bad.length < 5; i++) {
      if (!sameF(a[i], want[i])) bad.push(`[${i}] ${a[i]} vs ${want[i]}`);
    }
    expect(bad).toEqual([]);
    expect(want.every(Number.isFinite)).toBe(true);
  });

  describe.each([
    ['Q8_K from quantize_row_q8_K', 'quantized'],
    ['raw random Q8_K (consistent bsums)', 'raw'],
    ['extreme weights, raw Q8_K', 'extreme'],
  ] as const)('vec_dot with %s', (_label, kind) => {
    // rows of 1..9 super-blocks (the cross-block accumulation matters, Q3_K's sums[] most), ≥ 1000 in all
    const rng = mulberry32(0x1000 + f.type * 97 + kind.length);
    const rowBlocks: number[] = [];
    let total = 0;
    while (total < 1000) {
      const nb = [1, 1, 2, 3, 4, 5, 8, 9][randInt(rng, 0, 7)];
      rowBlocks.push(nb);
      total += nb;
    }
    const w = kind === 'extreme' ? extremeBlocks(rng, f, total) : randomBlocks(rng, f, total);
    const x = kind === 'quantized' ? q8kFromFloats(rng, total) : q8kRaw(rng, total);

    it(`SIMD == generic == llama.cpp's x86 order, bit for bit (${total} super-blocks, ${rowBlocks.length} rows)`, () => {
      const wp = putBytes(w, 1), xp = putBytes(x, 2);
      const bad: string[] = [];
      let b0 = 0, nonzero = 0;
      for (const nb of rowBlocks) {
        const n = nb * QK_K;
        const wo = wp + b0 * f.bytes, xo = xp + b0 * Q8K_BYTES;
        const simd = f.dot(n, wo, xo), gen = f.dotGeneric(n, wo, xo);
        const ref = dotRef(f.type, w.subarray(b0 * f.bytes, (b0 + nb) * f.bytes), x.subarray(b0 * Q8K_BYTES, (b0 + nb) * Q8K_BYTES), nb);
        if (![gen, ref.x86].every((v) => sameF(v, simd)) && bad.length < 5) {
          bad.push(`blocks ${b0}..${b0 + nb - 1}: SIMD ${simd} (${bits(simd)}) generic ${gen} (${bits(gen)}) x86 order ${ref.x86} (${bits(ref.x86)})`);
        }
        if (simd !== 0) nonzero++;
        b0 += nb;
      }
      expect(bad).toEqual([]);
      expect(nonzero).toBeGreaterThan(rowBlocks.length / 2); // the comparisons were not all of zeros
    });

    it('SIMD and generic are within the derived bound of the float64 dot product of the dequantized rows', () => {
      const wp = putBytes(w), xp = putBytes(x);
      const bad: string[] = [];
      let b0 = 0, worst = 0;
      for (const nb of rowBlocks) {
        const n = nb * QK_K;
        const ref = dotRef(f.type, w.subarray(b0 * f.bytes, (b0 + nb) * f.bytes), x.subarray(b0 * Q8K_BYTES, (b0 + nb) * Q8K_BYTES), nb);
        for (const [which, v] of [['SIMD', f.dot(n, wp + b0 * f.bytes, xp + b0 * Q8K_BYTES)], ['generic', f.dotGeneric(n, wp + b0 * f.bytes, xp + b0 * Q8K_BYTES)]] as const) {
          const err = Math.abs(v - ref.exact);
          if (!(err <= ref.bound) && bad.length < 5) bad.push(`blocks ${b0}..${b0 + nb - 1} ${which}: ${v} vs ${ref.exact}, |err| ${err.toExponential(3)} > ${ref.bound.toExponential(3)}`);
          if (ref.bound > 0) worst = Math.max(worst, err / ref.bound);
        }
        b0 += nb;
      }
      expect(bad).toEqual([]);
      expect(worst).toBeGreaterThan(0); // rounding did happen somewhere: the bound was exercised
    });
  });
});

// ------------------------------------------------------------------------------------------------
describe('against llama.cpp (gguf-py reference dequantizer) on real tensors', () => {
  interface DequantFixture {
    model: string;
    tensors: Array<{ name: string; type: string; ne: number[]; rows: Record<string, number[]> }>;
  }
  const FILES = ['kjv-austen-4l-256d.Q2_K.json.gz', 'kjv-austen-4l-256d.Q3_K_M.json.gz'];
  const OURS = new Map([['Q2_K', Q2_K], ['Q3_K', Q3_K]]);
  const tested = new Map<string, number>();

  /** the raw bytes of row `row` of a tensor (through readGguf's fileOffset and ggml-types.ts's geometry) */
  function readRow(fd: number, fileOffset: number, type: number, n: number, row: number): Uint8Array {
    const rb = rowBytes(type, n);
    const raw = new Uint8Array(rb);
    expect(readSync(fd, raw, 0, rb, fileOffset + row * rb)).toBe(rb);
    return raw;
  }

  it.each(FILES)('%s: dequantize_row equals llama.cpp row values exactly (and so does the JS decoder)', async (file) => {
    const fx = readJsonFixture<DequantFixture>(join(FIXTURES, 'dequant', file));
    const path = join(FIXTURES, 'models', fx.model);
    const gguf = await readGguf(path);
    const fd = openSync(path, 'r');
    let here = 0;
    try {
      for (const t of fx.tensors) {
        const type = OURS.get(t.type);
        if (type === undefined) continue; // Q4_K … Q6_K: tested with their own kernels
        const info = gguf.tensors.find((g) => g.name === t.name);
        expect(info, `${file}: tensor ${t.name} missing from ${fx.model}`).toBeDefined();
        expect(info!.type, t.name).toBe(type);
        expect([...info!.dims], t.name).toEqual(t.ne);
        const n = t.ne[0];
        expect(n % QK_K).toBe(0);
        expect(Object.keys(t.rows).length, t.name).toBeGreaterThan(0);
        for (const [rowKey, values] of Object.entries(t.rows)) {
          const row = Number(rowKey);
          expect(values.length).toBe(n);
          // the JSON holds f32 values printed losslessly, so equality is exact
          expect(values.every((v) => fr(v) === v), `${t.name} row ${row}: JSON values are f32`).toBe(true);
          const raw = readRow(fd, info!.fileOffset, type, n, row);
          const src = putBytes(raw), dst = alloc(n * 4);
          directDequant(type, src, dst, n);
          const got = getF32(dst, n), js = dequantRef(type, raw, n / QK_K);
          const bad = values.map((v, i) => (sameF(got[i], v) && sameF(js[i], v) ? '' : `[${i}] ${got[i]} / js ${js[i]} vs ${v}`)).filter(Boolean);
          expect(bad.slice(0, 5), `${file} ${t.name} row ${row}`).toEqual([]);
          expect(values.some((v) => v !== 0), `${t.name} row ${row} is not all zeros`).toBe(true);
        }
        tested.set(t.type, (tested.get(t.type) ?? 0) + 1);
        here++;
      }
    } finally {
      closeSync(fd);
    }
    expect(here, `${file}: no Q2_K/Q3_K tensor`).toBeGreaterThan(0);
  });

  it('both formats were covered by the fixtures (Q2_K: token_embd; Q3_K: three tensors)', () => {
    expect(tested.get('Q2_K')).toBeGreaterThanOrEqual(1);
    expect(tested.get('Q3_K')).toBeGreaterThanOrEqual(3);
  });

  it.each(FILES)('%s: vec_dot on real rows: SIMD == generic == x86 order, within the derived bound', async (file) => {
    const fx = readJsonFixture<DequantFixture>(join(FIXTURES, 'dequant', file));
    const path = join(FIXTURES, 'models', fx.model);
    const gguf = await readGguf(path);
    const fd = openSync(path, 'r');
    const rng = mulberry32(0x3000 + file.length);
    let checked = 0;
    try {
      for (const info of gguf.tensors) {
        if (info.type !== Q2_K && info.type !== Q3_K) continue;
        const n = info.dims[0], nRows = info.nElements / n, nb = n / QK_K;
        const acts = Float32Array.from({ length: n }, () => (2 * rng() - 1) * 2 ** (rng() * 4 - 2));
        const ap = putF32(acts), xp = alloc(nb * Q8K_BYTES);
        K.quantize_row_q8_K(ap, xp, n);
        const x = getBytes(xp, nb * Q8K_BYTES);
        for (const row of [0, 1, randInt(rng, 2, nRows - 2), nRows - 1]) {
          const w = readRow(fd, info.fileOffset, info.type, n, row);
          const wp = putBytes(w);
          const simd = dotOf(info.type)(n, wp, xp), gen = dotGenericOf(info.type)(n, wp, xp);
          const ref = dotRef(info.type, w, x, nb);
          expect(sameF(simd, gen) && sameF(simd, ref.x86), `${info.name} row ${row}: ${simd} ${gen} ${ref.x86}`).toBe(true);
          expect(Math.abs(simd - ref.exact), `${info.name} row ${row}`).toBeLessThanOrEqual(ref.bound);
          checked++;
        }
      }
    } finally {
      closeSync(fd);
    }
    expect(checked).toBeGreaterThan(0);
  });
});
