// Q4_K, Q5_K, Q6_K and IQ4_XS kernels (assembly/quant/q4_k.ts, q5_k.ts, q6_k.ts, iq4_xs.ts, with
// assembly/util/kscales.ts), all multiplied with Q8_K activations:
//
// - dequantize_row_* equals llama.cpp's reference dequantizer (gguf-py) on real tensor rows, and an
//   independent JavaScript decoder (written from the block layouts) on random super-blocks, bit for bit;
// - vec_dot_*_q8_K (SIMD) == vec_dot_*_q8_K_generic == a JavaScript transcription of llama.cpp's
//   x86 (AVX2) kernels (ggml_vec_dot_*_q8_K, `#elif defined __AVX2__`, ggml-cpu-quants.c at c392e50:
//   eight i32 lanes of four consecutive values per 32-value chunk, `_mm256_fmadd_ps` per super-block,
//   hsum_float_8 at the end; see assembly/util/x86.ts), bit for bit, the FMAs evaluated exactly in
//   float64 and rounded to f32 (as the kernels' fma32);
// - vec_dot is within a derived error bound of the float64 sum Σ dequant(w)·dequant(x_q).
//
// Error bounds (u = 2^-24, γ_k = k·u/(1 - k·u), Higham): the kernels' integer parts are exact, and
// every f32 result is a sum of "terms" D·L (D = f32(d·d8), one rounding; L an exact integer lane)
// that enter an accumulator through fused multiply-adds. An FMA evaluated through float64 rounds
// twice (to f64, then to f32): relative error ≤ (1 + 2^-53)(1 + u) - 1 < 2u, counted as 2 roundings.
// A lane takes nb FMAs, then hsum_float_8 3 additions, and (Q4_K, Q5_K) the final sum with the mins
// 1 more, so |computed - exact| ≤ γ_k · Σ|exact term| (Higham (3.4)) with
//   Q6_K, IQ4_XS:  k = 1 + 2·nb + 3
//   Q4_K, Q5_K:    k = 1 + 2·nb + 3 + 1   (the mins terms: acc_m / summs with nb FMAs and ≤ 3 additions)
// plus 2^-150 per rounding that can underflow, scaled by what multiplies it later.
// The float64 reference has its own (tiny) error: each w_i = d·sc·q - dmin·m rounds once (the
// products are exact in f64), w_i·x_i once, and n - 1 additions: γ_{n+1}(2^-53) · Σ|w_i·x_i|.
import { describe, expect, it } from 'vitest';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type KernelExports } from '../src/wasm/instance.js';
import { readGguf } from '../src/gguf/reader.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';
import { FIXTURES, readJsonFixture } from './helpers/fixtures.js';
import { mulberry32, randInt, type Rng } from './helpers/rng.js';
import { halfToNumber } from './helpers/half.js';
import { testMemory } from './helpers/test-memory.js';

type Ptr = number;
type VecDot = (n: number, w: Ptr, x: Ptr) => number;
type Dequant = (x: Ptr, y: Ptr, n: number) => void;
interface KExports extends KernelExports {
  quantize_row_q8_K(x: Ptr, y: Ptr, n: number): void;
  dequantize_row_q4_K: Dequant; vec_dot_q4_K_q8_K: VecDot; vec_dot_q4_K_q8_K_generic: VecDot;
  dequantize_row_q5_K: Dequant; vec_dot_q5_K_q8_K: VecDot; vec_dot_q5_K_q8_K_generic: VecDot;
  dequantize_row_q6_K: Dequant; vec_dot_q6_K_q8_K: VecDot; vec_dot_q6_K_q8_K_generic: VecDot;
  dequantize_row_iq4_xs: Dequant; vec_dot_iq4_xs_q8_K: VecDot; vec_dot_iq4_xs_q8_K_generic: VecDot;
}

const QK_K = 256;
const Q8K_BYTES = 292;
const U = 2 ** -24;
const U64 = 2 ** -53;
const fr = Math.fround;
const gamma = (k: number, u = U) => (k * u) / (1 - k * u);
/** bytes of a row of n values of ggml type `id` (ggml-types.ts geometry) */
const rowBytes = (id: number, n: number) => (n / GGML_TYPES.get(id)!.blockSize) * GGML_TYPES.get(id)!.typeSize;

// ------------------------------------------------------------------------------------------------
// engine and memory helpers

const engine = createEngine({ generic: false });
const K = engine.exports as KExports;
const arena = engine.arena;
const { alloc, putBytes, putF32, getF32, getBytes, releaseAll } = testMemory(arena);

// ------------------------------------------------------------------------------------------------
// numbers

/** A finite f16 bit pattern: ±0, ±65504, subnormals, large (2^10..2^15) and ordinary normals. */
function randomHalf(rng: Rng): number {
  const sign = rng() < 0.5 ? 0x8000 : 0;
  const r = rng();
  if (r < 0.06) return sign;
  if (r < 0.12) return sign | 0x7bff;
  if (r < 0.2) return sign | randInt(rng, 1, 1023);
  if (r < 0.3) return sign | (randInt(rng, 25, 30) << 10) | randInt(rng, 0, 1023);
  return sign | (randInt(rng, 1, 24) << 10) | randInt(rng, 0, 1023);
}

const sameF = (a: number, b: number) => Object.is(a, b);

/** first few indices where two arrays differ (Object.is), formatted */
function diffs(got: ArrayLike<number>, want: ArrayLike<number>, max = 5): string[] {
  const out: string[] = [];
  for (let i = 0; i < want.length && out.length < max; i++) {
    if (!sameF(got[i], want[i])) out.push(`[${i}] ${got[i]} vs ${want[i]}`);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// the formats in JavaScript, written from the block layouts (ggml-common.h / gguf-py), not from the kernels

const KVALUES_IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

/** One decoded super-block: value[i] = d·sc[i/sub]·q[i] - dmin·m[i/sub] (m absent: no min term). */
interface Decoded {
  d: number;
  dmin: number;
  sub: number;        // values per sub-block
  sc: number[];       // sub-block scales (integers)
  m: number[] | null; // sub-block mins (integers), Q4_K/Q5_K only
  q: Int32Array;      // 256 integer quants (IQ4_XS: the grid values)
}

interface Format {
  name: string;
  id: number;
  bytes: number;
  /** set the f16 scale fields of a random block (the other bytes stay random) */
  setHalves(b: Uint8Array, off: number, rng: Rng): void;
  decode(b: Uint8Array, off: number): Decoded;
  mins: boolean; // Q4_K, Q5_K: the x86 result adds the mins' accumulator at the end
  dequant: Dequant;
  dot: VecDot;
  dotGeneric: VecDot;
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const put16 = (b: Uint8Array, o: number, v: number) => { b[o] = v & 0xff; b[o + 1] = v >> 8; };

/** gguf-py's Q4_K.get_scale_min: bytes 0-3 "d", 4-7 "m", 8-11 "m_d" */
function scaleMinK4(b: Uint8Array, o: number): { sc: number[]; m: number[] } {
  const sc: number[] = [], m: number[] = [];
  for (let j = 0; j < 4; j++) { sc.push(b[o + j] & 0x3f); m.push(b[o + 4 + j] & 0x3f); }
  for (let j = 0; j < 4; j++) {
    sc.push((b[o + 8 + j] & 0x0f) | ((b[o + j] >> 2) & 0x30));
    m.push((b[o + 8 + j] >> 4) | ((b[o + 4 + j] >> 2) & 0x30));
  }
  return { sc, m };
}

const Q4_K: Format = {
  name: 'Q4_K', id: 12, bytes: 144, mins: true,
  setHalves(b, o, rng) { put16(b, o, randomHalf(rng)); put16(b, o + 2, randomHalf(rng)); },
  decode(b, o) {
    const { sc, m } = scaleMinK4(b, o + 4);
    const q = new Int32Array(QK_K);
    // 32-byte chunk c: values 64c..64c+31 low nibbles, 64c+32..64c+63 high nibbles
    for (let i = 0; i < QK_K; i++) {
      const c = i >> 6, hi = (i >> 5) & 1, l = i & 31;
      q[i] = (b[o + 16 + 32 * c + l] >> (4 * hi)) & 15;
    }
    return { d: halfToNumber(u16(b, o)), dmin: halfToNumber(u16(b, o + 2)), sub: 32, sc, m, q };
  },
  dequant: (...a) => K.dequantize_row_q4_K(...a),
  dot: (...a) => K.vec_dot_q4_K_q8_K(...a),
  dotGeneric: (...a) => K.vec_dot_q4_K_q8_K_generic(...a),
};

const Q5_K: Format = {
  name: 'Q5_K', id: 13, bytes: 176, mins: true,
  setHalves: Q4_K.setHalves,
  decode(b, o) {
    const { sc, m } = scaleMinK4(b, o + 4);
    const q = new Int32Array(QK_K);
    for (let i = 0; i < QK_K; i++) {
      const j = i >> 5, l = i & 31;
      const low = (b[o + 48 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 15;
      q[i] = low + ((b[o + 16 + l] >> j) & 1) * 16; // qh[l] bit j: the 5th bit of value l of sub-block j
    }
    return { d: halfToNumber(u16(b, o)), dmin: halfToNumber(u16(b, o + 2)), sub: 32, sc, m, q };
  },
  dequant: (...a) => K.dequantize_row_q5_K(...a),
  dot: (...a) => K.vec_dot_q5_K_q8_K(...a),
  dotGeneric: (...a) => K.vec_dot_q5_K_q8_K_generic(...a),
};

const Q6_K: Format = {
  name: 'Q6_K', id: 14, bytes: 210, mins: false,
  setHalves(b, o, rng) { put16(b, o + 208, randomHalf(rng)); },
  decode(b, o) {
    // gguf-py: ql split into low/high nibbles in 64-byte halves, qh into 2-bit fields
    const q = new Int32Array(QK_K);
    for (let half = 0; half < 2; half++) {
      for (let l = 0; l < 32; l++) {
        const qh = b[o + 128 + 32 * half + l];
        const ql0 = b[o + 64 * half + l], ql1 = b[o + 64 * half + 32 + l];
        const base = 128 * half + l;
        q[base] = ((ql0 & 15) | ((qh & 3) << 4)) - 32;
        q[base + 32] = ((ql1 & 15) | (((qh >> 2) & 3) << 4)) - 32;
        q[base + 64] = ((ql0 >> 4) | (((qh >> 4) & 3) << 4)) - 32;
        q[base + 96] = ((ql1 >> 4) | (((qh >> 6) & 3) << 4)) - 32;
      }
    }
    const sc = Array.from({ length: 16 }, (_, j) => (b[o + 192 + j] << 24) >> 24);
    return { d: halfToNumber(u16(b, o + 208)), dmin: 0, sub: 16, sc, m: null, q };
  },
  dequant: (...a) => K.dequantize_row_q6_K(...a),
  dot: (...a) => K.vec_dot_q6_K_q8_K(...a),
  dotGeneric: (...a) => K.vec_dot_q6_K_q8_K_generic(...a),
};

const IQ4_XS: Format = {
  name: 'IQ4_XS', id: 23, bytes: 136, mins: false,
  setHalves(b, o, rng) { put16(b, o, randomHalf(rng)); },
  decode(b, o) {
    const scalesH = u16(b, o + 2);
    const sc: number[] = [];
    for (let j = 0; j < 8; j++) {
      const low = (b[o + 4 + (j >> 1)] >> (4 * (j & 1))) & 15;
      sc.push((low | (((scalesH >> (2 * j)) & 3) << 4)) - 32);
    }
    const q = new Int32Array(QK_K);
    for (let j = 0; j < 8; j++) {
      for (let l = 0; l < 16; l++) {
        const byte = b[o + 8 + 16 * j + l];
        q[32 * j + l] = KVALUES_IQ4NL[byte & 15];
        q[32 * j + 16 + l] = KVALUES_IQ4NL[byte >> 4];
      }
    }
    return { d: halfToNumber(u16(b, o)), dmin: 0, sub: 32, sc, m: null, q };
  },
  dequant: (...a) => K.dequantize_row_iq4_xs(...a),
  dot: (...a) => K.vec_dot_iq4_xs_q8_K(...a),
  dotGeneric: (...a) => K.vec_dot_iq4_xs_q8_K_generic(...a),
};

const FORMATS_UNDER_TEST = [Q4_K, Q5_K, Q6_K, IQ4_XS];

/** dequantized values in f32 as ggml computes them: (d·sc)·q - (dmin·m), or (d·sc)·q */
function dequantJs(f: Format, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let ib = 0; ib < n / QK_K; ib++) {
    const b = f.decode(bytes, ib * f.bytes);
    for (let i = 0; i < QK_K; i++) {
      const j = Math.floor(i / b.sub);
      const dl = fr(b.d * b.sc[j]);
      out[ib * QK_K + i] = b.m ? fr(fr(dl * b.q[i]) - fr(b.dmin * b.m[j])) : fr(dl * b.q[i]);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Q8_K activations

interface Q8K { d: number; qs: Int8Array; bsums: Int16Array }

function parseQ8K(bytes: Uint8Array, nb: number): Q8K[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: nb }, (_, ib) => {
    const o = ib * Q8K_BYTES;
    return {
      d: dv.getFloat32(o, true),
      qs: new Int8Array(bytes.buffer, bytes.byteOffset + o + 4, QK_K),
      bsums: Int16Array.from({ length: 16 }, (_, k) => dv.getInt16(o + 260 + 2 * k, true)),
    };
  });
}

/** Raw Q8_K blocks: random finite d (some 0), random int8 quants including -128, consistent bsums. */
function rawQ8K(rng: Rng, nb: number): Uint8Array {
  const bytes = new Uint8Array(nb * Q8K_BYTES);
  const dv = new DataView(bytes.buffer);
  for (let ib = 0; ib < nb; ib++) {
    const o = ib * Q8K_BYTES;
    const d = rng() < 0.05 ? 0 : fr((rng() < 0.5 ? -1 : 1) * 2 ** (-20 + 30 * rng()));
    dv.setFloat32(o, d, true);
    for (let k = 0; k < 16; k++) {
      let s = 0;
      for (let t = 0; t < 16; t++) {
        const v = randInt(rng, -128, 127);
        dv.setInt8(o + 4 + 16 * k + t, v);
        s += v;
      }
      dv.setInt16(o + 260 + 2 * k, s, true);
    }
  }
  return bytes;
}

/** Q8_K blocks from random floats through the kernel's quantize_row_q8_K (mixed magnitudes, some zero blocks). */
function quantizedQ8K(rng: Rng, nb: number): Uint8Array {
  const x = new Float32Array(nb * QK_K);
  for (let ib = 0; ib < nb; ib++) {
    if (rng() < 0.05) continue; // an all-zero block: d = 0
    const scale = 2 ** (-8 + 12 * rng());
    for (let i = 0; i < QK_K; i++) x[ib * QK_K + i] = (2 * rng() - 1) * scale * 2 ** (-3 + 3 * rng());
  }
  const xp = putF32(x), yp = alloc(nb * Q8K_BYTES);
  K.quantize_row_q8_K(xp, yp, nb * QK_K);
  return getBytes(yp, nb * Q8K_BYTES);
}

// ------------------------------------------------------------------------------------------------
// dot product references

interface DotRef {
  x86: number;   // llama.cpp's x86 kernel transcribed: its integer lanes, exact FMAs, its sums
  exact: number; // float64 Σ dequant(w)·dequant(x_q), w and x as exact reals
  bound: number; // derived bound on |kernel - exact| plus the float64 reference's own error
}

const UF = 2 ** -150; // absolute error of a rounding that underflows (half the smallest subnormal)

/** _mm256_fmadd_ps / _mm_fmadd_ps lane: a·b + c rounded once to f32 (a·b is exact in float64 here) */
const fma = (a: number, b: number, c: number) => fr(a * b + c);
/** hsum_float_8: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) in f32 */
const hsum8 = (a: number[]) => fr(fr(fr(a[0] + a[4]) + fr(a[2] + a[6])) + fr(fr(a[1] + a[5]) + fr(a[3] + a[7])));
/** _mm_movehl_ps / _mm_movehdup_ps: (a0 + a2) + (a1 + a3) in f32 */
const hsum4 = (a: number[]) => fr(fr(a[0] + a[2]) + fr(a[1] + a[3]));

function dotRef(f: Format, wBytes: Uint8Array, xBytes: Uint8Array, n: number): DotRef {
  const nb = n / QK_K;
  const xs = parseQ8K(xBytes, nb);
  let exact = 0, absExact = 0;  // f64 reference and Σ|w_i·x_i|
  let absTerms = 0, uf = 0;     // Σ|exact terms| and underflow allowance of the kernel computation
  const acc = new Array<number>(8).fill(0);  // the __m256 acc
  const accM = new Array<number>(4).fill(0); // Q4_K's __m128 acc_m
  let summs = 0;                             // Q5_K's float summs
  for (let ib = 0; ib < nb; ib++) {
    const w = f.decode(wBytes, ib * f.bytes), x = xs[ib];
    for (let i = 0; i < QK_K; i++) {
      const j = Math.floor(i / w.sub);
      const wi = w.m ? w.d * w.sc[j] * w.q[i] - w.dmin * w.m[j] : w.d * w.sc[j] * w.q[i];
      const p = wi * (x.d * x.qs[i]);
      exact += p;
      absExact += Math.abs(p);
    }
    // madd/maddubs lanes: lane u holds values 4u..4u+3 of every 32-value chunk, times their scale
    const L = new Array<number>(8).fill(0);
    for (let i = 0; i < QK_K; i++) L[(i >> 2) & 7] += w.sc[Math.floor(i / w.sub)] * w.q[i] * x.qs[i];
    const D = fr(x.d * w.d); // y[i].d * GGML_FP16_TO_FP32(x[i].d)
    for (let u = 0; u < 8; u++) {
      acc[u] = fma(D, L[u], acc[u]);
      absTerms += Math.abs(x.d * w.d * L[u]);
      uf += UF * (2 + Math.abs(L[u]));
    }
    if (w.m) {
      const M = -fr(x.d * w.dmin); // -y[i].d * GGML_FP16_TO_FP32(x[i].dmin)
      if (f.name === 'Q4_K') {
        // _mm_hadd_epi16 of the bsums, _mm_madd_epi16 with the mins: four lanes
        for (let k = 0; k < 4; k++) {
          const prod = w.m[2 * k] * (x.bsums[4 * k] + x.bsums[4 * k + 1]) + w.m[2 * k + 1] * (x.bsums[4 * k + 2] + x.bsums[4 * k + 3]);
          accM[k] = fma(M, prod, accM[k]);
          absTerms += Math.abs(x.d * w.dmin * prod);
          uf += UF * (2 + Math.abs(prod));
        }
      } else {
        // Q5_K: the lanes summed in i32, then the scalar `summs += dmin * sumi` (contracted to an FMA)
        let sumi = 0;
        for (let k = 0; k < 16; k++) sumi += x.bsums[k] * w.m[k >> 1];
        summs = fma(M, sumi, summs);
        absTerms += Math.abs(x.d * w.dmin * sumi);
        uf += UF * (2 + Math.abs(sumi));
      }
    }
  }
  let x86 = hsum8(acc);
  if (f.name === 'Q4_K') x86 = fr(x86 + hsum4(accM));
  if (f.name === 'Q5_K') x86 = fr(x86 + summs);
  const k = 1 + 2 * nb + 3 + (f.mins ? 1 : 0);
  const bound = gamma(k) * absTerms + 2 * uf + gamma(n + 1, U64) * absExact;
  return { x86, exact, bound };
}

/** a row of nb random super-blocks: random bytes, random finite f16 scale fields */
function randomRow(f: Format, rng: Rng, nb: number): Uint8Array {
  const bytes = new Uint8Array(nb * f.bytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = randInt(rng, 0, 255);
  for (let ib = 0; ib < nb; ib++) f.setHalves(bytes, ib * f.bytes, rng);
  return bytes;
}

// ------------------------------------------------------------------------------------------------
describe.each(FORMATS_UNDER_TEST.map((f) => [f.name, f] as const))('%s', (_name, f) => {
  it('block size agrees with ggml-types.ts', () => {
    expect(rowBytes(f.id, QK_K)).toBe(f.bytes);
    expect(GGML_TYPES.get(f.id)!.name).toBe(f.name);
  });

  it('dequantize_row equals the JavaScript decoder on 1024 random super-blocks, bit for bit', () => {
    const rng = mulberry32(0x5eed + f.id);
    const nb = 1024;
    const bytes = randomRow(f, rng, nb);
    const src = putBytes(bytes, 3), y1 = alloc(nb * QK_K * 4);
    f.dequant(src, y1, nb * QK_K);
    const want = dequantJs(f, bytes, nb * QK_K);
    expect(diffs(getF32(y1, nb * QK_K), want)).toEqual([]);
  });

  for (const kind of ['quantize_row_q8_K', 'raw random'] as const) {
    it(`vec_dot SIMD == generic == llama.cpp's x86 order, within the derived bound of f64 (≥ 1000 super-blocks, ${kind} Q8_K)`, () => {
      const rng = mulberry32(0xd07 + 17 * f.id + (kind === 'raw random' ? 1 : 0));
      const counts = [1, 2, 3, 4, 5, 8, 16];
      let blocks = 0, rows = 0, maxRel = 0;
      const bad: string[] = [];
      while (blocks < 1000) {
        const nb = counts[rows % counts.length];
        const n = nb * QK_K;
        const wBytes = randomRow(f, rng, nb);
        const xBytes = kind === 'raw random' ? rawQ8K(rng, nb) : quantizedQ8K(rng, nb);
        const wp = putBytes(wBytes, rows % 7), xp = putBytes(xBytes, (rows * 5) % 11);
        const simd = f.dot(n, wp, xp), gen = f.dotGeneric(n, wp, xp);
        const ref = dotRef(f, wBytes, xBytes, n);
        const tag = `row ${rows} (nb ${nb})`;
        if (!sameF(simd, gen)) bad.push(`${tag}: SIMD ${simd} vs generic ${gen}`);
        if (!sameF(gen, ref.x86)) bad.push(`${tag}: generic ${gen} vs x86 order ${ref.x86}`);
        const err = Math.abs(simd - ref.exact);
        if (!(err <= ref.bound)) bad.push(`${tag}: |${simd} - ${ref.exact}| = ${err} > ${ref.bound}`);
        if (ref.bound > 0) maxRel = Math.max(maxRel, err / ref.bound);
        blocks += nb;
        rows++;
        releaseAll();
      }
      expect(bad.slice(0, 5)).toEqual([]);
      expect(blocks).toBeGreaterThanOrEqual(1000);
      expect(maxRel).toBeLessThanOrEqual(1);
    });
  }
});

// ------------------------------------------------------------------------------------------------
describe('the K-quant scale/min unpacking (kscales.ts) through the kernels', () => {
  it('Q4_K/Q5_K: every 6-bit scale and min value reaches the dequantized output', () => {
    // scales bytes chosen so that sub-block j gets scale s and min (s + 7·j) mod 64 for every s;
    // d = dmin = 1, all quants 1 → value = sc - m exactly
    for (const f of [Q4_K, Q5_K]) {
      for (let s = 0; s < 64; s++) {
        const b = new Uint8Array(f.bytes);
        put16(b, 0, 0x3c00); put16(b, 2, 0x3c00);
        const sc = Array.from({ length: 8 }, (_, j) => (s + j) % 64);
        const m = Array.from({ length: 8 }, (_, j) => (s + 7 * j) % 64);
        for (let j = 0; j < 4; j++) {
          b[4 + j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
          b[8 + j] = (m[j] & 63) | ((m[j + 4] >> 4) << 6);
          b[12 + j] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
        }
        const qs = f === Q4_K ? 16 : 48;
        for (let i = qs; i < f.bytes; i++) b[i] = 0x11;
        const src = putBytes(b), y = alloc(QK_K * 4);
        f.dequant(src, y, QK_K);
        const got = getF32(y, QK_K);
        const want = Float32Array.from({ length: QK_K }, (_, i) => sc[i >> 5] - m[i >> 5]);
        expect(diffs(got, want), `${f.name} s=${s}`).toEqual([]);
        expect(f.decode(b, 0).sc).toEqual(sc);
        expect(f.decode(b, 0).m).toEqual(m);
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
  const dir = join(FIXTURES, 'dequant');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json.gz')).sort();
  const byName = new Map(FORMATS_UNDER_TEST.map((f) => [f.name, f]));
  const covered = new Map<string, number>();

  const relevant = files.filter((file) =>
    readJsonFixture<DequantFixture>(join(dir, file)).tensors.some((t) => byName.has(t.type)));

  it.each(relevant)('%s: every Q4_K/Q5_K/Q6_K/IQ4_XS tensor row equals llama.cpp exactly', async (file) => {
    const fx = readJsonFixture<DequantFixture>(join(dir, file));
    const path = join(FIXTURES, 'models', fx.model);
    const gguf = await readGguf(path);
    const fd = openSync(path, 'r');
    try {
      for (const t of fx.tensors) {
        const f = byName.get(t.type);
        if (!f) continue;
        const info = gguf.tensors.find((g) => g.name === t.name);
        expect(info, `${t.name} missing from ${fx.model}`).toBeDefined();
        expect(info!.type, t.name).toBe(f.id);
        expect([...info!.dims], t.name).toEqual(t.ne);
        const n = t.ne[0];
        const rb = rowBytes(f.id, n);
        expect(Object.keys(t.rows).length, t.name).toBeGreaterThan(0);
        for (const [rowKey, values] of Object.entries(t.rows)) {
          const row = Number(rowKey);
          expect(values.length).toBe(n);
          // the JSON values are f32 printed losslessly, so equality is exact
          expect(values.every((v) => fr(v) === v), `${t.name} row ${row}: JSON values are f32`).toBe(true);
          const raw = new Uint8Array(rb);
          expect(readSync(fd, raw, 0, rb, info!.fileOffset + row * rb)).toBe(rb);
          const src = putBytes(raw), y1 = alloc(n * 4);
          f.dequant(src, y1, n);
          const tag = `${file} ${t.name} row ${row}`;
          expect(diffs(getF32(y1, n), values), tag).toEqual([]);
          expect(diffs(dequantJs(f, raw, n), values), `${tag} (JS decoder)`).toEqual([]);
        }
        covered.set(f.name, (covered.get(f.name) ?? 0) + 1);
      }
    } finally {
      closeSync(fd);
    }
  });

  it('the fixtures cover all four formats', () => {
    expect(relevant.length).toBeGreaterThan(0);
    expect([...covered.keys()].sort()).toEqual(['IQ4_XS', 'Q4_K', 'Q5_K', 'Q6_K']);
  });
});
