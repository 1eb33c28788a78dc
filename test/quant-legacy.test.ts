// Proves the kernels of ggml's 32-value block formats (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL; assembly/quant/
// q4_0.ts … iq4_nl.ts) and of BF16 (assembly/quant/bf16.ts):
// - SIMD == `_generic` twin, bit for bit, on ≥ 1000 random blocks and on edge blocks;
// - both == a JavaScript transcription of the llama.cpp x86 order each file documents (8 i32 lanes of
//   4 consecutive products, one fused multiply-add per lane and block, hsum_float_8 — or one FMA per
//   block for repacked Q4_0, two accumulators for IQ4_NL's ggml_vec_dot), with an exact FMA computed
//   in BigInt, so a wrong double rounding anywhere shows;
// - both within a data-derived bound of float64 references: the block formats' own math
//   Σ_b (d_w·d_x·Σq_w·q_x [+ m_w·s_x]) and Σ dequant(w)·dequant(x_q);
// - dequantize_row == llama.cpp's reference values (gguf-py) on rows of real tensors, exactly, and ==
//   an independent JavaScript reading of each block layout on random blocks (any f16 scale bits).
//
// Error bounds (u = 2^-24, γ_k = k·u/(1 - k·u), Higham (3.4)): the integer lane sums L and d_w·d_x
// (two f16 values) are exact, so a term d_w·d_x·L (or m_w·s_x, exact too) is rounded only by the
// fused multiply-add that adds it to its accumulator, by the later FMAs of that accumulator and by
// the additions after the loop. A term thus picks up at most R roundings and the result is within
// γ_R·Σ|terms| of the exact Σ terms, with R per order:
//   Q4_0 (one accumulator, no hsum)                    R = nb
//   Q5_0, Q8_0, IQ4_NL batched (8 lanes, hsum: 3 adds) R = nb + 3
//   Q4_1, Q5_1 (… + summs, summs itself ≤ nb + 1)      R = nb + 4
//   IQ4_NL one token (⌈nb/2⌉ FMAs, +1 add of the two accumulators, hsum, the tail FMA) R = ⌈nb/2⌉ + 5
// and Σ|terms| = Σ_b Σ_k |d_w·d_x·L_b[k]| (+ Σ_b |m_w·s_x|). No product of two f16 scales (≥ 2^-48
// when non-zero) or of a scale and a non-zero integer can fall below the f32 normal range, so there is
// no underflow term.
//
// The x86 kernels' `_mm256_sign_epi8` trick turns an activation of −128 times a negative weight into
// −128·|w|; llama.cpp's Q8 quantizers never emit −128 (see util/legacy.ts), the kernels and the
// transcription here use exact products, and the random blocks here include −128 to test the rest.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { bindFormat, createEngine, type BoundFormat, type KernelExports } from '../src/wasm/instance.js';
import { readGguf } from '../src/gguf/reader.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';
import { FORMATS as RUNNABLE, activationRowBytes, rowBytes, runnableFormat } from '../src/quant/formats.js';
import { FIXTURES, readJsonFixture } from './helpers/fixtures.js';
import { decompose, roundExactToF32 } from './helpers/exact-float.js';
import { compileTestKernels } from './helpers/test-kernels.js';
import { mulberry32, randInt, type Rng, uniform } from './helpers/rng.js';
import { exponentOf, halfToNumber, numberToHalf, roundHalfEven } from './helpers/half.js';
import { forMulMat, toRows4 } from './helpers/rows4.js';
import { withQ8_0xExtras } from './helpers/q8_0x.js';

type Ptr = number;
interface LegacyExports {
  dequantize_row_q4_0(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_q4_1(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_q5_0(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_q5_1(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_iq4_nl(x: Ptr, y: Ptr, k: number): void;
  vec_dot_q4_0_q8_0(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q4_0_q8_0_generic(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q4_1_q8_1(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q4_1_q8_1_generic(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q5_0_q8_0(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q5_0_q8_0_generic(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q5_1_q8_1(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q5_1_q8_1_generic(n: number, w: Ptr, x: Ptr): number;
  vec_dot_iq4_nl_q8_0(n: number, w: Ptr, x: Ptr): number;
  vec_dot_iq4_nl_q8_0_generic(n: number, w: Ptr, x: Ptr): number;
  quantize_row_q8_1(x: Ptr, y: Ptr, k: number): void;
  quantize_row_q8_1_generic(x: Ptr, y: Ptr, k: number): void;
  dequantize_row_bf16(x: Ptr, y: Ptr, k: number): void;
  round_row_bf16(x: Ptr, y: Ptr, n: number): void;
  vec_dot_bf16(n: number, w: Ptr, x: Ptr): number;
  vec_dot_bf16_generic(n: number, w: Ptr, x: Ptr): number;
}

const engine = createEngine({ generic: false });
const K = engine.exports as KernelExports & LegacyExports & Record<string, (...args: number[]) => number>;
/** a format's kernels as the model binds them (src/quant/formats.ts): SIMD (`fmt`) and scalar twins (`fmtG`) */
const genericFormats = new Map([...RUNNABLE].map(([id, spec]) => [id, bindFormat(engine.exports, spec, true)]));
const fmt = (type: number) => engine.formats.get(type)!;
const fmtG = (type: number) => genericFormats.get(type)!;
/** what the forward pass does to an f32 row before a weight of this format multiplies it */
function quantizeActivation(f: BoundFormat, x: number, y: number, n: number): void {
  if (f.quantize) f.quantize(x, y, n);
  else arena.bytes(y, n * 4).set(arena.bytes(x, n * 4));
}
const arena = engine.arena;
const live: number[] = [];
function alloc(bytes: number): number {
  const p = arena.alloc(bytes);
  live.push(p);
  return p;
}
afterEach(() => {
  for (const p of live.splice(0)) arena.release(p);
});
function putBytes(bytes: Uint8Array, misalign = 0): number {
  const p = alloc(misalign + bytes.length) + misalign;
  arena.bytes(p, bytes.length).set(bytes);
  return p;
}
function putF32(values: ArrayLike<number>, misalign = 0): number {
  const p = alloc(misalign + values.length * 4) + misalign;
  new Float32Array(arena.memory.buffer, p, values.length).set(values);
  return p;
}
const getF32 = (p: number, n: number): Float32Array => new Float32Array(arena.memory.buffer.slice(p, p + 4 * n));
const getBytes = (p: number, n: number): Uint8Array => arena.bytes(p, n).slice();

it('runs on the kernel module asked for (QUANTSCOPE_EXPECT_KERNELS, set by test/relaxed.test.ts)', () => {
  expect(engine.kind).toBe(process.env.QUANTSCOPE_EXPECT_KERNELS || engine.kind);
  if (engine.kind === 'relaxed') expect(typeof K.vec_dot4_q4_0_q8_0_relaxed).toBe('function');
});

/** IQ4_NL's batched (tinyBLAS) dot, which the module's export list may not carry */
const TK = await compileTestKernels(`
export { vec_dot_iq4_nl_q8_0_tinyblas, vec_dot_iq4_nl_q8_0_tinyblas_generic } from './assembly/quant/iq4_nl';
export function heap_base(): usize { return __heap_base; }
`, 64);
/** call a test-module dot on a weight row and an activation row (copied into its memory) */
function callTK(name: string, w: Uint8Array, x: Uint8Array, n: number, misalign = 0): number {
  const wp = TK.base + misalign, xp = TK.base + ((w.length + 64 + misalign) & ~63) + misalign;
  const need = xp + x.length - TK.memory.buffer.byteLength;
  if (need > 0) TK.memory.grow(Math.ceil(need / 65536));
  new Uint8Array(TK.memory.buffer).set(w, wp);
  new Uint8Array(TK.memory.buffer).set(x, xp);
  return TK.fns[name](n, wp, xp);
}

// ------------------------------------------------------------------------------------------------
// numeric helpers (independent of the kernels)

const U = 2 ** -24;
const U64 = 2 ** -53;
const fr = Math.fround;
const gamma = (k: number, u = U) => (k * u) / (1 - k * u);
const sameF = (a: number, b: number) => Object.is(a, b);

function randomF32(rng: Rng, n: number, scale = 1, mixed = false): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng() - 1) * scale * (mixed ? 2 ** uniform(rng, -4, 4) : 1);
  return a;
}

const bitBuf = new DataView(new ArrayBuffer(4));
const f32Bits = (x: number): number => (bitBuf.setFloat32(0, x), bitBuf.getUint32(0));
const bitsF32 = (b: number): number => (bitBuf.setUint32(0, b >>> 0), bitBuf.getFloat32(0));

/**
 * number → the value of the nearest bf16 (8 significant bits, exponent range of f32, subnormal
 * spacing 2^-133), ties to even, overflow to ±Inf — computed from the definition, not from bits.
 */
function roundToBf16(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const q = 2 ** (Math.max(exponentOf(a), -126) - 7);
  const r = roundHalfEven(a / q) * q;
  return r >= 2 ** 128 ? s * Infinity : s * r;
}

/**
 * IEEE fusedMultiplyAdd in binary32, round to nearest even, from the exact rational value in BigInt
 * (a, b, c f32 values). When the float64 sum p + c is exact (TwoSum error 0) it is used directly;
 * otherwise the exact sum is formed in BigInt. Independent of the kernels' round-to-odd method.
 */
function fmaExact(a: number, b: number, c: number): number {
  const p = a * b; // exact in float64 for f32 inputs
  if (!Number.isFinite(p) || !Number.isFinite(c)) return fr(p + c);
  const s = p + c;
  const bb = s - p;
  if ((p - (s - bb)) + (c - bb) === 0) return fr(s);
  const [mp, ep] = decompose(p), [mc, ec] = decompose(c);
  const e0 = Math.min(ep, ec);
  return roundExactToF32(mp * (1n << BigInt(ep - e0)) + mc * (1n << BigInt(ec - e0)), e0);
}
/** hsum_float_8: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), each add rounded to f32 */
const hsum8 = (a: ArrayLike<number>) =>
  fr(fr(fr(a[0] + a[4]) + fr(a[2] + a[6])) + fr(fr(a[1] + a[5]) + fr(a[3] + a[7])));

/** first few indices where two f32 arrays differ in any bit */
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

// ------------------------------------------------------------------------------------------------
// the block formats, read independently from ggml's block structs (ggml-common.h)

const QK = 32;
const Q8_0_BYTES = 34; // d f16, qs[32]
const Q8_1_BYTES = 36; // d f16, s f16, qs[32]
/** ggml's kvalues_iq4nl */
const IQ4NL_GRID = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

const half = (b: Uint8Array, o: number) => halfToNumber(b[o] | (b[o + 1] << 8));
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
/** 4-bit field of element i (0..31) of a block whose 16 nibble bytes start at qs: low nibbles first */
const nibble = (b: Uint8Array, qs: number, i: number) => (i < 16 ? b[qs + i] & 15 : b[qs + i - 16] >> 4);
/** bit 4 of element i from the little-endian u32 qh */
const bit4 = (b: Uint8Array, qh: number, i: number) => ((u32(b, qh) >>> i) & 1) << 4;

type ActFormat = 'q8_0' | 'q8_1';
interface BlockFormat {
  name: string;
  type: number;
  bytes: number;
  act: ActFormat;
  /** the block has an offset m (value = d·q + m) */
  withMin: boolean;
  /** the 32 integers q[i] with value[i] = d·q[i] (+ m) */
  quants(b: Uint8Array, o: number): number[];
  dequant: (x: Ptr, y: Ptr, k: number) => void;
  simd: (n: number, w: Ptr, x: Ptr) => number;
  generic: (n: number, w: Ptr, x: Ptr) => number;
  /** the llama.cpp x86 accumulation the file documents (see x86Order) */
  scheme: Scheme;
}
/**
 * 'block': repacked Q4_0's gemv/gemm, acc = fma(f32(sumi), d_w·d_x, acc) per block;
 * 'lanes': 8 lanes acc[k] = fma(d_w·d_x, L[k], acc[k]), hsum_float_8 (Q5_0, Q8_0, tinyBLAS);
 * 'lanes+min': 'lanes' plus summs += m_w·s_x, result hsum_float_8(acc) + summs (Q4_1, Q5_1);
 * 'pairs': ggml_vec_dot_iq4_nl_q8_0 — even/odd blocks into two 8-lane accumulators, hsum_float_8 of
 *   their lane-wise sum, an odd last block by one scalar FMA.
 */
type Scheme = 'block' | 'lanes' | 'lanes+min' | 'pairs';

const FORMATS: BlockFormat[] = [
  {
    name: 'Q4_0', type: 2, bytes: 18, act: 'q8_0', withMin: false,
    quants: (b, o) => Array.from({ length: QK }, (_, i) => nibble(b, o + 2, i) - 8),
    dequant: K.dequantize_row_q4_0, simd: K.vec_dot_q4_0_q8_0, generic: K.vec_dot_q4_0_q8_0_generic,
    scheme: 'block',
  },
  {
    name: 'Q4_1', type: 3, bytes: 20, act: 'q8_1', withMin: true,
    quants: (b, o) => Array.from({ length: QK }, (_, i) => nibble(b, o + 4, i)),
    dequant: K.dequantize_row_q4_1, simd: K.vec_dot_q4_1_q8_1, generic: K.vec_dot_q4_1_q8_1_generic,
    scheme: 'lanes+min',
  },
  {
    name: 'Q5_0', type: 6, bytes: 22, act: 'q8_0', withMin: false,
    quants: (b, o) => Array.from({ length: QK }, (_, i) => (nibble(b, o + 6, i) | bit4(b, o + 2, i)) - 16),
    dequant: K.dequantize_row_q5_0, simd: K.vec_dot_q5_0_q8_0, generic: K.vec_dot_q5_0_q8_0_generic,
    scheme: 'lanes',
  },
  {
    name: 'Q5_1', type: 7, bytes: 24, act: 'q8_1', withMin: true,
    quants: (b, o) => Array.from({ length: QK }, (_, i) => nibble(b, o + 8, i) | bit4(b, o + 4, i)),
    dequant: K.dequantize_row_q5_1, simd: K.vec_dot_q5_1_q8_1, generic: K.vec_dot_q5_1_q8_1_generic,
    scheme: 'lanes+min',
  },
  {
    name: 'IQ4_NL', type: 20, bytes: 18, act: 'q8_0', withMin: false,
    quants: (b, o) => Array.from({ length: QK }, (_, i) => IQ4NL_GRID[nibble(b, o + 2, i)]),
    dequant: K.dequantize_row_iq4_nl, simd: K.vec_dot_iq4_nl_q8_0, generic: K.vec_dot_iq4_nl_q8_0_generic,
    scheme: 'pairs',
  },
];
const byName = (name: string) => FORMATS.find((f) => f.name === name)!;

const actBytes = (a: ActFormat) => (a === 'q8_0' ? Q8_0_BYTES : Q8_1_BYTES);
const actQs = (a: ActFormat) => (a === 'q8_0' ? 2 : 4);
const actD = (x: Uint8Array, a: ActFormat, ib: number) => half(x, ib * actBytes(a));
const actS = (x: Uint8Array, a: ActFormat, ib: number) => (a === 'q8_1' ? half(x, ib * Q8_1_BYTES + 2) : 0);
const actQ = (x: Uint8Array, a: ActFormat, ib: number, j: number) => (x[ib * actBytes(a) + actQs(a) + j] << 24) >> 24;
const wD = (w: Uint8Array, f: BlockFormat, ib: number) => half(w, ib * f.bytes);
const wM = (w: Uint8Array, f: BlockFormat, ib: number) => (f.withMin ? half(w, ib * f.bytes + 2) : 0);

/** JS dequantizer, f32 as ggml/gguf-py compute it: f32(d·q), or f32(f32(d·q) + m). */
function dequantJs(f: BlockFormat, w: Uint8Array, nb: number): Float32Array {
  const out = new Float32Array(nb * QK);
  for (let ib = 0; ib < nb; ib++) {
    const d = wD(w, f, ib), m = wM(w, f, ib);
    const q = f.quants(w, ib * f.bytes);
    for (let i = 0; i < QK; i++) out[ib * QK + i] = f.withMin ? fr(fr(d * q[i]) + m) : fr(d * q[i]);
  }
  return out;
}
/** exact weight values d·q (+ m) in float64 (exact: d, m are multiples of 2^-24 below 2^16, |q| < 2^7) */
function weightsExact(f: BlockFormat, w: Uint8Array, nb: number): Float64Array {
  const out = new Float64Array(nb * QK);
  for (let ib = 0; ib < nb; ib++) {
    const d = wD(w, f, ib), m = wM(w, f, ib);
    const q = f.quants(w, ib * f.bytes);
    for (let i = 0; i < QK; i++) out[ib * QK + i] = d * q[i] + m;
  }
  return out;
}

/** the 8 x86 lanes of block ib: L[k] = Σ q_w[e]·q_x[e] over e = 4k .. 4k+3 (exact) */
function lanes8(f: BlockFormat, w: Uint8Array, x: Uint8Array, ib: number): number[] {
  const q = f.quants(w, ib * f.bytes);
  return Array.from({ length: 8 }, (_, k) => {
    let L = 0;
    for (let e = 4 * k; e < 4 * k + 4; e++) L += q[e] * actQ(x, f.act, ib, e);
    return L;
  });
}
/**
 * llama.cpp's x86 order for a row (see each kernel file), transcribed with exact FMAs. `batched`:
 * IQ4_NL's tinyBLAS order (one accumulator) instead of ggml_vec_dot_iq4_nl_q8_0's.
 */
function x86Order(f: BlockFormat, w: Uint8Array, x: Uint8Array, nb: number, batched = false): number {
  const dd = (ib: number) => fr(wD(w, f, ib) * actD(x, f.act, ib)); // exact: two f16 values
  const scheme = batched && f.scheme === 'pairs' ? 'lanes' : f.scheme;
  if (scheme === 'block') {
    let acc = 0;
    for (let ib = 0; ib < nb; ib++) acc = fmaExact(lanes8(f, w, x, ib).reduce((a, b) => a + b, 0), dd(ib), acc);
    return acc;
  }
  if (scheme === 'pairs') {
    const a1 = new Array(8).fill(0), a2 = new Array(8).fill(0);
    let ib = 0;
    for (; ib + 1 < nb; ib += 2) {
      const L1 = lanes8(f, w, x, ib), L2 = lanes8(f, w, x, ib + 1);
      for (let k = 0; k < 8; k++) {
        a1[k] = fmaExact(dd(ib), L1[k], a1[k]);
        a2[k] = fmaExact(dd(ib + 1), L2[k], a2[k]);
      }
    }
    let sumf = hsum8(a1.map((v, k) => fr(v + a2[k])));
    for (; ib < nb; ib++) sumf = fmaExact(dd(ib), lanes8(f, w, x, ib).reduce((a, b) => a + b, 0), sumf);
    return sumf;
  }
  const acc = new Array(8).fill(0);
  let summs = 0;
  for (let ib = 0; ib < nb; ib++) {
    const L = lanes8(f, w, x, ib);
    for (let k = 0; k < 8; k++) acc[k] = fmaExact(dd(ib), L[k], acc[k]);
    if (scheme === 'lanes+min') summs = fr(summs + fr(wM(w, f, ib) * actS(x, f.act, ib)));
  }
  return scheme === 'lanes+min' ? fr(hsum8(acc) + summs) : hsum8(acc);
}
/** R of the header: the most roundings any term goes through in the x86 order over nb blocks */
function roundingsOf(f: BlockFormat, nb: number, batched = false): number {
  const scheme = batched && f.scheme === 'pairs' ? 'lanes' : f.scheme;
  return scheme === 'block' ? nb : scheme === 'lanes' ? nb + 3 : scheme === 'lanes+min' ? nb + 4 : Math.ceil(nb / 2) + 5;
}

interface DotRefs {
  /** the documented x86 order, emulated exactly */
  order: number;
  /** Σ_b (d_w·d_x·sumi + m_w·s_x) in float64 and the bound on the kernel's distance to it */
  math: number;
  mathBound: number;
  /** Σ_i w_i·x_i with the exact dequantized values (x_i = d_x·q_x) and the bound on the distance to it */
  dequant: number;
  dequantBound: number;
}
function dotRefs(f: BlockFormat, w: Uint8Array, x: Uint8Array, nb: number, batched = false): DotRefs {
  let math = 0, absTerms = 0, sDrift = 0;
  for (let ib = 0; ib < nb; ib++) {
    const L = lanes8(f, w, x, ib);
    const sumi = L.reduce((a, b) => a + b, 0);
    let sumq = 0;
    for (let j = 0; j < QK; j++) sumq += actQ(x, f.act, ib, j);
    const dw = wD(w, f, ib), dx = actD(x, f.act, ib), mw = wM(w, f, ib), sx = actS(x, f.act, ib);
    const a = dw * dx * sumi, b = mw * sx; // each exact in float64 (≤ 11+11+20 and 11+11 significant bits)
    math += a + b;
    // the terms the x86 order rounds: whole blocks for Q4_0 (one FMA per block), lanes otherwise
    const terms = f.scheme === 'block' && !batched ? Math.abs(a) : L.reduce((s, l) => s + Math.abs(dw * dx * l), 0);
    absTerms += terms + Math.abs(b);
    // Q8_1's s is d·Σq rounded to f16, from the f32 d before its own f16 rounding: the kernel uses s,
    // the dequantized activations d·q, so the two references differ by exactly Σ m_w·(s_x - d_x·Σq_x)
    if (f.withMin) sDrift += Math.abs(mw * (sx - dx * sumq));
  }
  const wv = weightsExact(f, w, nb);
  let dequant = 0, absProd = 0;
  for (let ib = 0; ib < nb; ib++) {
    const dx = actD(x, f.act, ib);
    for (let j = 0; j < QK; j++) {
      const p = wv[ib * QK + j] * (dx * actQ(x, f.act, ib, j));
      dequant += p;
      absProd += Math.abs(p);
    }
  }
  const kernel = gamma(roundingsOf(f, nb, batched)) * absTerms;
  // float64 evaluation of the references: 2 roundings per block and nb additions (math), 2 per
  // product and 32·nb additions (dequant), plus the drift's own products
  const mathErr = gamma(2 * nb + 2, U64) * absTerms;
  return {
    order: x86Order(f, w, x, nb, batched),
    math, mathBound: kernel + mathErr,
    dequant, dequantBound: kernel + mathErr + sDrift * (1 + 4 * U64) + gamma(QK * nb + 2, U64) * absProd,
  };
}

// ------------------------------------------------------------------------------------------------
// block generators

const FINITE_HALF_EDGES = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0xfbff];
const setHalf = (b: Uint8Array, o: number, h: number) => { b[o] = h & 0xff; b[o + 1] = h >> 8; };
/** random finite f16 bits: uniform over all finite patterns (every exponent, both signs) or a normal-ish scale */
function randomHalf(rng: Rng): number {
  const r = rng();
  if (r < 0.1) return FINITE_HALF_EDGES[randInt(rng, 0, FINITE_HALF_EDGES.length - 1)];
  if (r < 0.5) return randInt(rng, 0, 0x7bff) | (rng() < 0.5 ? 0x8000 : 0);
  return numberToHalf((rng() < 0.5 ? -1 : 1) * 2 ** uniform(rng, -14, 4));
}
/** random blocks of a format: random quant bytes, scales from randomHalf (or any 16-bit pattern) */
function randomBlocks(f: BlockFormat, rng: Rng, nb: number, anyScaleBits = false): Uint8Array {
  const b = new Uint8Array(nb * f.bytes);
  for (let i = 0; i < b.length; i++) b[i] = randInt(rng, 0, 255);
  for (let ib = 0; ib < nb; ib++) {
    setHalf(b, ib * f.bytes, anyScaleBits ? randInt(rng, 0, 0xffff) : randomHalf(rng));
    if (f.withMin) setHalf(b, ib * f.bytes + 2, anyScaleBits ? randInt(rng, 0, 0xffff) : randomHalf(rng));
  }
  return b;
}
/** raw random activation blocks (any int8 incl. -128, random finite d and s) */
function randomActBlocks(a: ActFormat, rng: Rng, nb: number): Uint8Array {
  const bytes = actBytes(a);
  const b = new Uint8Array(nb * bytes);
  for (let i = 0; i < b.length; i++) b[i] = rng() < 0.05 ? 0x80 : randInt(rng, 0, 255);
  for (let ib = 0; ib < nb; ib++) {
    setHalf(b, ib * bytes, randomHalf(rng));
    if (a === 'q8_1') setHalf(b, ib * bytes + 2, randomHalf(rng));
  }
  return b;
}
/** activation blocks from f32 values through the kernels' own quantizers (as the model feeds them) */
function quantizeAct(a: ActFormat, x: Float32Array): Uint8Array {
  const nb = x.length / QK;
  const xp = putF32(x), yp = alloc(nb * actBytes(a));
  if (a === 'q8_0') K.quantize_row_q8_0(xp, yp, x.length);
  else K.quantize_row_q8_1(xp, yp, x.length);
  return getBytes(yp, nb * actBytes(a));
}

/** weight edge blocks: every edge scale × quant patterns at both extremes (and m at the edges) */
function edgeWeightBlocks(f: BlockFormat): Uint8Array[] {
  const patterns: Array<(b: Uint8Array, o: number) => void> = [
    (b, o) => b.fill(0x00, o, o + f.bytes),                  // every nibble and high bit 0 (q = 0 / -8 / -16 / -127)
    (b, o) => b.fill(0xff, o, o + f.bytes),                  // every nibble and high bit 1 (q = 15 / 7 / 31 / 15 / 113)
    (b, o) => { for (let i = o; i < o + f.bytes; i++) b[i] = i % 2 ? 0x0f : 0xf0; },
    (b, o) => { for (let i = o; i < o + f.bytes; i++) b[i] = i % 3 ? 0x88 : 0x77; },
  ];
  const out: Uint8Array[] = [];
  let k = 0;
  for (const d of FINITE_HALF_EDGES) {
    for (const p of patterns) {
      const b = new Uint8Array(f.bytes);
      p(b, 0);
      setHalf(b, 0, d);
      if (f.withMin) setHalf(b, 2, FINITE_HALF_EDGES[k++ % FINITE_HALF_EDGES.length]);
      out.push(b);
    }
  }
  return out;
}
/** activation edge blocks: d_x at the edges × all 127, all -128, all -127, alternating ±127 */
function edgeActBlocks(a: ActFormat, rng: Rng): Uint8Array[] {
  const qsPatterns = [() => 127, () => -128, () => -127, (j: number) => (j % 2 ? 127 : -127), () => randInt(rng, -128, 127)];
  const out: Uint8Array[] = [];
  let k = 3;
  for (const d of [0x0000, 0x0001, 0x0400, 0x3c00, 0x7bff, 0xfbff]) {
    for (const p of qsPatterns) {
      const b = new Uint8Array(actBytes(a));
      setHalf(b, 0, d);
      if (a === 'q8_1') setHalf(b, 2, FINITE_HALF_EDGES[k++ % FINITE_HALF_EDGES.length]);
      for (let j = 0; j < QK; j++) b[actQs(a) + j] = p(j) & 0xff;
      out.push(b);
    }
  }
  return out;
}
const concat = (blocks: Uint8Array[]) => {
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let o = 0;
  for (const b of blocks) { out.set(b, o); o += b.length; }
  return out;
};

/** the integer weight values a format's quants can take, in quant-index order */
function weightValues(f: BlockFormat): number[] {
  switch (f.name) {
    case 'Q4_0': return Array.from({ length: 16 }, (_, q) => q - 8);
    case 'Q4_1': return Array.from({ length: 16 }, (_, q) => q);
    case 'Q5_0': return Array.from({ length: 32 }, (_, q) => q - 16);
    case 'Q5_1': return Array.from({ length: 32 }, (_, q) => q);
    default: return IQ4NL_GRID.slice();
  }
}
/** write the quant indices of weight values `vals` (elements 0..vals.length-1; the rest index 0) into block ib */
function setQuants(f: BlockFormat, w: Uint8Array, ib: number, vals: number[], W: number[]): void {
  const o = ib * f.bytes;
  const qsOff = { Q4_0: 2, Q4_1: 4, Q5_0: 6, Q5_1: 8, IQ4_NL: 2 }[f.name]!;
  const qhOff = { Q5_0: 2, Q5_1: 4 }[f.name as 'Q5_0' | 'Q5_1'];
  w.fill(0, o + qsOff, o + qsOff + 16);
  if (qhOff !== undefined) w.fill(0, o + qhOff, o + qhOff + 4);
  vals.forEach((v, e) => {
    const q = W.indexOf(v);
    if (q < 0) throw new Error(`${v} is no ${f.name} weight`);
    if (e < 16) w[o + qsOff + e] |= q & 15; else w[o + qsOff + e - 16] |= (q & 15) << 4;
    if (qhOff !== undefined && q & 16) w[o + qhOff + (e >> 3)] |= 1 << (e & 7);
  });
}
/** L as a sum of `count` products w·x (w ∈ W, x ∈ −127..127), or undefined */
const productTables = new Map<number[], { prod: Map<number, [number, number]>; values: number[] }>();
function realizeSum(L: number, W: number[], count: number, rng: Rng): Array<[number, number]> | undefined {
  let t = productTables.get(W);
  if (!t) {
    const prod = new Map<number, [number, number]>();
    for (const wv of W) for (let xv = -127; xv <= 127; xv++) if (!prod.has(wv * xv)) prod.set(wv * xv, [wv, xv]);
    t = { prod, values: [...prod.keys()].sort((a, b) => a - b) };
    productTables.set(W, t);
  }
  const { prod, values } = t;
  const lowerBound = (v: number) => { let lo = 0, hi = values.length; while (lo < hi) { const m = (lo + hi) >> 1; if (values[m] < v) lo = m + 1; else hi = m; } return lo; };
  for (let attempt = 0; attempt < 2000; attempt++) {
    const out: Array<[number, number]> = [];
    let rest = L;
    for (let i = 0; i < count - 1; i++) {
      // a product near the even share of what is left
      const target = rest / (count - i), win = Math.max(64, Math.abs(target) * 0.05);
      const i0 = lowerBound(target - win), i1 = lowerBound(target + win);
      const v = i1 > i0 ? values[randInt(rng, i0, i1 - 1)] : 0;
      out.push(prod.get(v)!);
      rest -= v;
    }
    if (prod.has(rest)) return [...out, prod.get(rest)!];
  }
  return undefined;
}
interface TieFactor { j: number; s: number; f1: number; f2: number; L: number }
/** f1·f2·L = 2^j + s (s = ±1), f1 ≤ f2 ≤ 2047 odd (f16 significands), 0 < L ≤ maxL, 30 ≤ j ≤ 40 */
function tieFactorizations(maxL: number): TieFactor[] {
  const out: TieFactor[] = [];
  for (let j = 30; j <= 40; j++) for (const s of [1, -1]) {
    const N = 2 ** j + s;
    for (let f1 = 3; f1 <= 2047; f1 += 2) {
      if (N % f1) continue;
      for (let f2 = f1; f2 <= 2047; f2 += 2) if ((N / f1) % f2 === 0 && N / f1 / f2 <= maxL) out.push({ j, s, f1, f2, L: N / f1 / f2 });
    }
  }
  return out;
}
const isHalf = (v: number) => halfToNumber(numberToHalf(v)) === v && Number.isFinite(halfToNumber(numberToHalf(v)));
/**
 * f16 scales for the base block (d1 = significands baseD times 2^a1, 2^b1, times baseL) and the tie
 * block (2^a2·f1, 2^b2·f2) with (2^j ± 1)·2^(a2+b2) = half an ulp of the base ± a sliver.
 */
function placeTie(fc: TieFactor, baseD: [number, number], baseL: number) {
  for (let a1 = -24; a1 <= 15; a1++) for (let b1 = -24; b1 <= 15; b1++) {
    const dw1 = baseD[0] * 2 ** a1, dx1 = baseD[1] * 2 ** b1;
    if (!isHalf(dw1) || !isHalf(dx1)) continue;
    const base = dw1 * dx1 * baseL;
    if (fr(base) !== base) continue;
    const halfUlp = 2 ** (exponentOf(base) - 24);
    const sum = Math.log2(halfUlp) - fc.j; // a2 + b2
    for (let a2 = -24; a2 <= 15; a2++) {
      const dw2 = fc.f1 * 2 ** a2, dx2 = fc.f2 * 2 ** (sum - a2);
      if (isHalf(dw2) && isHalf(dx2)) return { dw1, dx1, dw2, dx2 };
    }
  }
  return undefined;
}

/** the activation row at xp (nb blocks of the format's block activation) as the format's kernels take it */
function kernelActivation(f: BlockFormat, xp: number, nb: number, misalign: number): { xp: number; bytes: number } {
  const bytes = nb * actBytes(f.act);
  if (fmt(f.type).spec.activation !== 'q8_0x') return { xp, bytes };
  const x = withQ8_0xExtras(getBytes(xp, bytes));
  return { xp: putBytes(x, misalign), bytes: x.length };
}

/**
 * The format's four-row kernel (mul_mat's path for four rows at a time), where it has one: this row
 * in every one of the four slots, so every lane — each with its own copy of the tie path — must give
 * the one-row result. Its generic twin too.
 */
function checkFourRows(f: BlockFormat, w: Uint8Array, xp: number, n: number, want: number, label: string, misalign: number): void {
  const { vecDot4, vecDot4Relaxed } = fmt(f.type).spec;
  if (!vecDot4) return;
  const rows = new Uint8Array(4 * w.length);
  for (let r = 0; r < 4; r++) rows.set(w, r * w.length);
  const wp = putBytes(toRows4(rows, 4, w.length, f.bytes), misalign), out = alloc(16);
  const xk = kernelActivation(f, xp, n / QK, misalign);
  // the relaxed-SIMD form where this engine's module has it (test/relaxed.test.ts runs this file so)
  const kernels = [vecDot4, `${vecDot4}_generic`, ...(vecDot4Relaxed && typeof K[vecDot4Relaxed] === 'function' ? [vecDot4Relaxed] : [])];
  for (const kernel of kernels) {
    arena.f32(out, 4).fill(NaN);
    K[kernel](n, wp, xk.xp, out);
    const got = getF32(out, 4);
    for (let r = 0; r < 4; r++) expect(sameF(got[r], want), `${label}: ${kernel} row ${r} ${got[r]} vs one row ${want}`).toBe(true);
  }
  checkTile(f, wp, xk, n, want, label, misalign);
}

/**
 * The format's tile kernel (four rows by four tokens), where it has one: the group of checkFourRows
 * against four copies of the activation row, 16 bytes between copies beyond the row itself and
 * 8 bytes between output rows beyond their four values, so a mixed-up stride shows; all 16
 * results must be the one-row result. Its generic twin and relaxed form too.
 */
function checkTile(f: BlockFormat, wp: number, x: { xp: number; bytes: number }, n: number, want: number, label: string, misalign: number): void {
  const { vecTile, vecTileRelaxed } = fmt(f.type).spec;
  if (!vecTile) return;
  const xRowBytes = x.bytes + 16, outRowBytes = 24;
  const x4 = new Uint8Array(4 * xRowBytes);
  for (let t = 0; t < 4; t++) x4.set(arena.bytes(x.xp, x.bytes), t * xRowBytes);
  const xs = putBytes(x4, misalign), out = alloc(4 * outRowBytes);
  const kernels = [vecTile, `${vecTile}_generic`, ...(vecTileRelaxed && typeof K[vecTileRelaxed] === 'function' ? [vecTileRelaxed] : [])];
  for (const kernel of kernels) {
    arena.f32(out, 4 * outRowBytes / 4).fill(NaN);
    K[kernel](n, wp, xs, xRowBytes, out, outRowBytes);
    for (let t = 0; t < 4; t++) {
      const got = getF32(out + t * outRowBytes, 4);
      for (let r = 0; r < 4; r++) expect(sameF(got[r], want), `${label}: ${kernel} token ${t} row ${r} ${got[r]} vs one row ${want}`).toBe(true);
    }
  }
}

/** run both twins on a row pair and check them against each other and the references */
function checkDot(f: BlockFormat, w: Uint8Array, x: Uint8Array, label: string, misalign = 0): void {
  const nb = w.length / f.bytes;
  expect(x.length).toBe(nb * actBytes(f.act));
  const n = nb * QK;
  const wp = putBytes(w, misalign), xp = putBytes(x, misalign);
  const simd = f.simd(n, wp, xp);
  const gen = f.generic(n, wp, xp);
  const via = fmt(f.type).vecDotFn(n, wp, xp), viaGen = fmtG(f.type).vecDotFn(n, wp, xp);
  const r = dotRefs(f, w, x, nb);
  expect(sameF(simd, gen), `${label}: SIMD ${simd} vs generic ${gen}`).toBe(true);
  expect(sameF(simd, r.order), `${label}: SIMD ${simd} vs documented order ${r.order}`).toBe(true);
  expect(sameF(via, simd) && sameF(viaGen, gen), `${label}: the kernels formats.ts binds`).toBe(true);
  checkFourRows(f, w, xp, n, simd, label, misalign);
  expect(Math.abs(simd - r.math), `${label}: vs f64 block math ${r.math}`).toBeLessThanOrEqual(r.mathBound);
  expect(Math.abs(simd - r.dequant), `${label}: vs f64 Σ dequant·dequant ${r.dequant}`).toBeLessThanOrEqual(r.dequantBound);
  // the batch product, where llama.cpp sums in another order (IQ4_NL: tinyBLAS) or the same one
  const viaBatch = fmt(f.type).vecDotBatchFn?.(n, wp, xp), viaBatchGen = fmtG(f.type).vecDotBatchFn?.(n, wp, xp);
  if (f.scheme !== 'pairs') {
    if (viaBatch !== undefined) expect(sameF(viaBatch, simd) && sameF(viaBatchGen!, gen), `${label}: batch binding == one-token dot`).toBe(true);
    return;
  }
  const rb = dotRefs(f, w, x, nb, true);
  const tb = callTK('vec_dot_iq4_nl_q8_0_tinyblas', w, x, n, misalign);
  const tbGen = callTK('vec_dot_iq4_nl_q8_0_tinyblas_generic', w, x, n, misalign);
  expect(sameF(tb, tbGen), `${label}: tinyBLAS SIMD ${tb} vs generic ${tbGen}`).toBe(true);
  expect(sameF(tb, rb.order), `${label}: tinyBLAS SIMD ${tb} vs documented order ${rb.order}`).toBe(true);
  expect(Math.abs(tb - rb.math), `${label}: tinyBLAS vs f64 block math ${rb.math}`).toBeLessThanOrEqual(rb.mathBound);
  if (fmt(f.type).vecDotBatch !== fmt(f.type).vecDot) {
    expect(sameF(viaBatch!, tb) && sameF(viaBatchGen!, tbGen), `${label}: the batch kernels formats.ts binds`).toBe(true);
  }
  if (typeof K.vec_dot_iq4_nl_q8_0_tinyblas === 'function') {
    expect(sameF(K.vec_dot_iq4_nl_q8_0_tinyblas(n, wp, xp), tb), `${label}: exported tinyBLAS dot`).toBe(true);
    expect(sameF(K.vec_dot_iq4_nl_q8_0_tinyblas_generic(n, wp, xp), tb), `${label}: exported tinyBLAS generic`).toBe(true);
  }
}

// ------------------------------------------------------------------------------------------------
describe.each(FORMATS.map((f) => [f.name, f] as const))('%s', (_name, f) => {
  it('vec_dot: SIMD == generic == documented order, f64 within γ bound, on ≥ 1000 random blocks (one row and rows of 1..8 blocks)', () => {
    const rng = mulberry32(1000 + f.type);
    const nb = 1024;
    const w = randomBlocks(f, rng, nb);
    const x = randomActBlocks(f.act, rng, nb);
    checkDot(f, w, x, `${nb} random blocks`);
    const wb = f.bytes, xb = actBytes(f.act);
    for (const rowBlocks of [1, 2, 3, 7, 8]) {
      for (let b0 = 0; b0 + rowBlocks <= 64; b0 += rowBlocks) {
        checkDot(f, w.subarray(b0 * wb, (b0 + rowBlocks) * wb), x.subarray(b0 * xb, (b0 + rowBlocks) * xb),
          `rows of ${rowBlocks} from block ${b0}`, b0 % 2);
      }
    }
  });

  it('vec_dot on edge blocks (scales 0, ±tiny, min normal, 1, ±f16 max; all-extreme quants), one block and one long row', () => {
    const rng = mulberry32(2000 + f.type);
    const ws = edgeWeightBlocks(f), xs = edgeActBlocks(f.act, rng);
    for (let i = 0; i < ws.length; i++) for (let j = 0; j < xs.length; j++) checkDot(f, ws[i], xs[j], `edge w${i} x${j}`);
    // all weight edge blocks in one row against activation edge blocks (cycled)
    checkDot(f, concat(ws), concat(ws.map((_, i) => xs[i % xs.length])), 'edge row', 1);
  });

  it('vec_dot with realistic activations from the kernels\' quantizer, random and real weights', async () => {
    const rng = mulberry32(3000 + f.type);
    for (const nb of [1, 4, 8, 24]) {
      for (let t = 0; t < 4; t++) {
        const x = quantizeAct(f.act, randomF32(rng, nb * QK, 2, true));
        checkDot(f, randomBlocks(f, rng, nb), x, `quantized activations, ${nb} blocks, trial ${t}`);
      }
    }
    // rows of a real tensor of this type from the fixture models
    const model = f.name === 'IQ4_NL' ? 'TinyStories-656K-Q2_K.gguf' : `kjv-austen-4l-256d.${f.name}.gguf`;
    const path = join(FIXTURES, 'models', model);
    const gguf = await readGguf(path);
    const info = gguf.tensors.find((t) => t.type === f.type && t.name.startsWith('blk.0.'))!;
    expect(info, `${model}: a ${f.name} tensor`).toBeDefined();
    const n = info.dims[0];
    const rb = rowBytes(f.type, n);
    const fd = openSync(path, 'r');
    try {
      for (const row of [0, 1, 7, info.dims[1] - 1]) {
        const raw = new Uint8Array(rb);
        expect(readSync(fd, raw, 0, rb, info.fileOffset + row * rb)).toBe(rb);
        checkDot(f, raw, quantizeAct(f.act, randomF32(rng, n, 1, true)), `${info.name} row ${row}`);
      }
    } finally {
      closeSync(fd);
    }
  });

  it('the x86 order is told apart from its neighbours: unfused multiply-add, ggml\'s scalar order, the other lane partition', () => {
    // on realistic rows (quantizer activations, random weights with normal scales), each alternative
    // gives another f32 for some rows while the kernels follow the x86 transcription on all of them
    const rng = mulberry32(3500 + f.type);
    const nb = 8, rows = 200;
    const alts: Record<string, (w: Uint8Array, x: Uint8Array) => number> = {
      // the same lanes, but the product rounded before the add (what WASM does without care)
      unfused: (w, x) => {
        const acc = new Array(8).fill(0);
        let sum = 0, summs = 0;
        for (let ib = 0; ib < nb; ib++) {
          const d = fr(wD(w, f, ib) * actD(x, f.act, ib)), L = lanes8(f, w, x, ib);
          if (f.scheme === 'block') sum = fr(sum + fr(L.reduce((a, b) => a + b, 0) * d));
          else for (let k = 0; k < 8; k++) acc[k] = fr(acc[k] + fr(d * L[k]));
          summs = fr(summs + fr(wM(w, f, ib) * actS(x, f.act, ib)));
        }
        return f.scheme === 'block' ? sum : f.withMin ? fr(hsum8(acc) + summs) : hsum8(acc);
      },
      // ggml's scalar reference: one f32 block term per block, added in block order
      scalar: (w, x) => {
        let sum = 0;
        for (let ib = 0; ib < nb; ib++) {
          const d = fr(wD(w, f, ib) * actD(x, f.act, ib)), sumi = lanes8(f, w, x, ib).reduce((a, b) => a + b, 0);
          sum = fr(sum + (f.withMin ? fr(fr(d * sumi) + fr(wM(w, f, ib) * actS(x, f.act, ib))) : fr(d * sumi)));
        }
        return sum;
      },
      // the other x86 partition: 8 lanes for repacked Q4_0 (unrepacked tinyBLAS), one FMA per block otherwise
      other: (w, x) => {
        if (f.scheme === 'block') return x86Order({ ...f, scheme: 'lanes' }, w, x, nb);
        if (f.scheme === 'pairs') return x86Order(f, w, x, nb, true);
        let acc = 0, summs = 0;
        for (let ib = 0; ib < nb; ib++) {
          acc = fmaExact(fr(wD(w, f, ib) * actD(x, f.act, ib)), lanes8(f, w, x, ib).reduce((a, b) => a + b, 0), acc);
          summs = fr(summs + fr(wM(w, f, ib) * actS(x, f.act, ib)));
        }
        return f.withMin ? fr(acc + summs) : acc;
      },
    };
    const differs: Record<string, number> = { unfused: 0, scalar: 0, other: 0 };
    for (let t = 0; t < rows; t++) {
      const w = randomBlocks(f, rng, nb);
      for (let ib = 0; ib < nb; ib++) setHalf(w, ib * f.bytes, numberToHalf((rng() < 0.5 ? -1 : 1) * uniform(rng, 0.001, 0.05)));
      const x = quantizeAct(f.act, randomF32(rng, nb * QK, 2, true));
      const wp = putBytes(w), xp = putBytes(x);
      const got = f.simd(nb * QK, wp, xp);
      expect(sameF(got, x86Order(f, w, x, nb)), `row ${t}`).toBe(true);
      expect(sameF(got, f.generic(nb * QK, wp, xp)), `row ${t} generic`).toBe(true);
      for (const [k, alt] of Object.entries(alts)) if (!sameF(alt(w, x), got)) differs[k]++;
    }
    for (const [k, n] of Object.entries(differs)) expect(n, `rows where the ${k} order gives another f32`).toBeGreaterThan(rows / 50);
  });

  it('the fused multiply-adds are correctly rounded where float64 lands exactly on an f32 tie (double-rounding cases)', () => {
    // acc = base (block A, lane 0), then block B adds d·L = half an ulp of base times (1 ± 2^-j), j ≥ 30:
    // float64 rounds base + d·L onto the f32 tie, which ties-to-even would send the wrong way. d·L =
    // (2^j ± 1)·2^(a+b) with f1·f2·L = 2^j ± 1 (f1, f2 significands of the two f16 scales 2^a·f1,
    // 2^b·f2), found by factoring. All other products are 0 (activations 0), so the result is that
    // one lane's accumulator, exactly.
    const W = weightValues(f);
    const maxL = f.scheme === 'block' ? QK * Math.max(...W.map(Math.abs)) * 127 : 4 * Math.max(...W.map(Math.abs)) * 127;
    const perLane = f.scheme === 'block' ? QK : 4;
    const rng = mulberry32(3600 + f.type);
    const facts = tieFactorizations(maxL).slice(0, 24);
    expect(facts.length).toBeGreaterThan(5);
    const nb = f.scheme === 'pairs' ? 4 : 2;
    const blockB = f.scheme === 'pairs' ? 2 : 1; // the same accumulator as block 0
    let cases = 0, naiveWrong = 0;
    for (const fc of facts) {
      // base: 2^E (even significand) for s = +1; an odd 24-bit significand M·2^e for s = -1
      for (const oddBase of fc.s === 1 ? [false, true] : [true]) {
        let baseD: [number, number], baseL: number;
        if (!oddBase) { baseD = [1, 1]; baseL = 1; } else {
          let m1: number, m2: number, l: number;
          do { m1 = 2 * randInt(rng, 512, 1023) + 1; m2 = 2 * randInt(rng, 512, 1023) + 1; l = 2 * randInt(rng, 1, 3) + 1; }
          while (m1 * m2 * l < 2 ** 23 || m1 * m2 * l >= 2 ** 24 || m1 * m2 * l > 2 ** 24);
          baseD = [m1, m2]; baseL = l;
        }
        const placed = placeTie(fc, baseD, baseL);
        const prodsB = realizeSum(fc.L, W, perLane, rng), prodsA = realizeSum(baseL, W, perLane, rng);
        if (!placed || !prodsA || !prodsB) continue;
        const w = new Uint8Array(nb * f.bytes), x = new Uint8Array(nb * actBytes(f.act));
        const fill = (ib: number, dw: number, dx: number, prods: Array<[number, number]>) => {
          setHalf(w, ib * f.bytes, numberToHalf(dw));
          setHalf(x, ib * actBytes(f.act), numberToHalf(dx));
          setQuants(f, w, ib, prods.map((p) => p[0]), W);
          prods.forEach(([, xv], e) => { x[ib * actBytes(f.act) + actQs(f.act) + e] = xv & 0xff; });
        };
        for (let ib = 0; ib < nb; ib++) setQuants(f, w, ib, [], W); // any weights: their activations are 0
        fill(0, placed.dw1, placed.dx1, prodsA);
        fill(blockB, placed.dw2, placed.dx2, prodsB);
        const base = fr(placed.dw1 * placed.dx1 * baseL);
        const d2 = fr(placed.dw2 * placed.dx2);
        const want = fmaExact(d2, fc.L, base);
        const naive = fr(d2 * fc.L + base);
        if (!sameF(naive, want)) naiveWrong++;
        checkDot(f, w, x, `tie case j ${fc.j} s ${fc.s} odd base ${oddBase}`);
        const wp = putBytes(w), xp = putBytes(x);
        expect(sameF(f.simd(nb * QK, wp, xp), want), `tie case j ${fc.j}: SIMD == exact fma ${want}`).toBe(true);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(5);
    expect(naiveWrong, 'cases where f32(f64 a·b + c) is wrong').toBeGreaterThan(2);
  });

  it('dequantize_row == independent JS reading of the layout, exactly, on 2000 random blocks (any 16-bit scales, incl. Inf/NaN)', () => {
    const rng = mulberry32(4000 + f.type);
    const nb = 2000;
    const w = randomBlocks(f, rng, nb, true);
    const want = dequantJs(f, w, nb);
    const wp = putBytes(w, 1), y1 = alloc(nb * QK * 4), y2 = alloc(nb * QK * 4);
    f.dequant(wp, y1, nb * QK);
    fmt(f.type).dequantize(wp, y2, nb * QK);
    for (const [label, got] of [['dequantize_row_*', getF32(y1, nb * QK)], ['formats.ts binding', getF32(y2, nb * QK)]] as const) {
      const bad: string[] = [];
      for (let i = 0; i < want.length && bad.length < 5; i++) if (!sameF(got[i], want[i])) bad.push(`[${i}] ${got[i]} vs ${want[i]}`);
      expect(bad, label).toEqual([]);
    }
  });

  it('element order: element i is the low nibble of qs[i] (i < 16) or the high nibble of qs[i - 16], its bit 4 is bit i of qh', () => {
    // block layout offsets and value rule, written out per format (independent of FORMATS[].quants)
    const layout: Record<string, { qs: number; qh: number; value: (q: number) => number }> = {
      Q4_0: { qs: 2, qh: -1, value: (q) => q - 8 },
      Q4_1: { qs: 4, qh: -1, value: (q) => 2 * q + 0.5 }, // d = 2, m = 0.5
      Q5_0: { qs: 6, qh: 2, value: (q) => q - 16 },
      Q5_1: { qs: 8, qh: 4, value: (q) => 2 * q + 0.5 },
      IQ4_NL: { qs: 2, qh: -1, value: (q) => IQ4NL_GRID[q] },
    };
    const L = layout[f.name];
    for (let i = 0; i < QK; i++) {
      // every element has quant 0 except element i, which gets nibble 5 (and bit 4 set, for Q5_*)
      const b = new Uint8Array(f.bytes);
      setHalf(b, 0, f.withMin ? 0x4000 : 0x3c00); // d = 2 or 1
      if (f.withMin) setHalf(b, 2, 0x3800);       // m = 0.5
      if (i < 16) b[L.qs + i] = 0x05;
      else b[L.qs + i - 16] = 0x50;
      if (L.qh >= 0) b[L.qh + (i >> 3)] = 1 << (i & 7);
      const qi = L.qh >= 0 ? 5 + 16 : 5;
      const y = alloc(QK * 4);
      f.dequant(putBytes(b), y, QK);
      const got = Array.from(getF32(y, QK));
      const want = Array.from({ length: QK }, (_, k) => (k === i ? L.value(qi) : L.value(0)));
      expect(got, `element ${i}`).toEqual(want);
      expect(Array.from(dequantJs(f, b, 1)), `element ${i}: JS reader`).toEqual(want);
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('dequantization against llama.cpp (gguf-py reference values)', () => {
  interface DequantFixture {
    model: string;
    tensors: Array<{ name: string; type: string; ne: number[]; rows: Record<string, number[]> }>;
  }
  const MINE = new Set(['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'IQ4_NL', 'BF16']);
  const cases: Array<[file: string, types: string[]]> = [
    ['kjv-austen-4l-256d.Q4_0', ['Q4_0']],
    ['kjv-austen-4l-256d.Q4_1', ['Q4_1']],
    ['kjv-austen-4l-256d.Q5_0', ['Q5_0']],
    ['kjv-austen-4l-256d.Q5_1', ['Q5_1']],
    ['TinyStories-656K-Q2_K', ['IQ4_NL']],
    ['TinyStories-656K.bf16', ['BF16']],
  ];

  it.each(cases)('%s: dequantize_row equals llama.cpp row values exactly (%j tensors)', async (file, types) => {
    const fx = readJsonFixture<DequantFixture>(join(FIXTURES, 'dequant', `${file}.json.gz`));
    const path = join(FIXTURES, 'models', fx.model);
    const gguf = await readGguf(path);
    const fd = openSync(path, 'r');
    const tested = new Set<string>();
    try {
      for (const t of fx.tensors) {
        if (!MINE.has(t.type)) continue; // other formats (Q6_K, Q8_0) are other files' tests
        const type = [...GGML_TYPES.values()].find((g) => g.name === t.type)!;
        expect(runnableFormat(type.id), t.type).toBeDefined();
        const info = gguf.tensors.find((g) => g.name === t.name);
        expect(info, `${t.name} missing from ${fx.model}`).toBeDefined();
        expect(info!.type, t.name).toBe(type.id);
        expect([...info!.dims], t.name).toEqual(t.ne);
        const n = t.ne[0];
        const rb = rowBytes(type.id, n);
        expect(Object.keys(t.rows).length).toBeGreaterThan(0);
        for (const [rowKey, values] of Object.entries(t.rows)) {
          const row = Number(rowKey);
          expect(values.length).toBe(n);
          expect(values.every((v) => fr(v) === v), `${t.name} row ${row}: JSON values are f32`).toBe(true);
          const raw = new Uint8Array(rb);
          expect(readSync(fd, raw, 0, rb, info!.fileOffset + row * rb)).toBe(rb);
          const y = alloc(n * 4);
          fmt(type.id).dequantize(putBytes(raw), y, n);
          const got = getF32(y, n);
          const bad = values.map((v, i) => (sameF(got[i], v) ? '' : `[${i}] ${got[i]} vs ${v}`)).filter(Boolean);
          expect(bad.slice(0, 5), `${t.name} row ${row}`).toEqual([]);
          // and the independent JS reading agrees with llama.cpp too
          const js = t.type === 'BF16'
            ? Array.from({ length: n }, (_, i) => bitsF32((raw[2 * i] | (raw[2 * i + 1] << 8)) << 16))
            : Array.from(dequantJs(byName(t.type), raw, n / QK));
          expect(values.findIndex((v, i) => !sameF(js[i], v)), `${t.name} row ${row}: JS reader`).toBe(-1);
        }
        tested.add(t.type);
      }
    } finally {
      closeSync(fd);
    }
    expect([...tested].sort()).toEqual(types);
  });
});

// ------------------------------------------------------------------------------------------------
describe('formats.ts binds these kernels; mul_mat runs them', () => {
  const all = [...FORMATS.map((f) => [f.name, f.type] as const), ['BF16', 30] as const];
  const names: Record<string, [string, string, string]> = {
    Q4_0: ['q8_0x', 'vec_dot_q4_0_q8_0', 'dequantize_row_q4_0'],
    Q4_1: ['q8_1', 'vec_dot_q4_1_q8_1', 'dequantize_row_q4_1'],
    Q5_0: ['q8_0', 'vec_dot_q5_0_q8_0', 'dequantize_row_q5_0'],
    Q5_1: ['q8_1', 'vec_dot_q5_1_q8_1', 'dequantize_row_q5_1'],
    IQ4_NL: ['q8_0', 'vec_dot_iq4_nl_q8_0', 'dequantize_row_iq4_nl'],
    BF16: ['bf16', 'vec_dot_bf16', 'dequantize_row_bf16'],
  };
  it.each(all)('%s: activation format and kernel names; the activation converter; mul_mat == the dot, SIMD == generic', (name, type) => {
    const rng = mulberry32(5000 + type);
    const cols = 256, rows = 5, nTok = 3;
    const spec = runnableFormat(type)!;
    expect([spec.activation, spec.vecDot, spec.dequantize]).toEqual(names[name]);
    if (name !== 'BF16') expect(spec.activation === 'q8_0x' ? 'q8_0' : spec.activation).toBe(byName(name).act); // q8_0x: q8_0 blocks + extras
    const acts = randomF32(rng, nTok * cols, 2, true);
    const ap = putF32(acts);
    const xRowBytes = activationRowBytes(spec.activation, cols);
    const xs = alloc(nTok * xRowBytes), xg = alloc(nTok * xRowBytes), xr = alloc(nTok * xRowBytes);
    for (let t = 0; t < nTok; t++) {
      quantizeActivation(fmt(type), ap + t * cols * 4, xs + t * xRowBytes, cols);
      quantizeActivation(fmtG(type), ap + t * cols * 4, xg + t * xRowBytes, cols);
      const src = ap + t * cols * 4, dst = xr + t * xRowBytes;
      if (spec.activation === 'bf16') K.round_row_bf16(src, dst, cols);
      else if (spec.activation === 'q8_0') K.quantize_row_q8_0(src, dst, cols);
      else if (spec.activation === 'q8_0x') {
        K.quantize_row_q8_0(src, dst, cols);
        arena.bytes(dst, xRowBytes).set(withQ8_0xExtras(getBytes(dst, (cols / QK) * Q8_0_BYTES)));
      } else K.quantize_row_q8_1(src, dst, cols);
    }
    const want = getBytes(xr, nTok * xRowBytes);
    expect(getBytes(xs, want.length)).toEqual(want);
    expect(getBytes(xg, want.length)).toEqual(want);
    const wRowBytes = rowBytes(type, cols);
    const w = new Uint8Array(rows * wRowBytes);
    if (name === 'BF16') {
      for (let i = 0; i < rows * cols; i++) {
        const b = f32Bits(roundToBf16(fr(uniform(rng, -1, 1)))) >>> 16;
        w[2 * i] = b & 0xff;
        w[2 * i + 1] = b >> 8;
      }
    } else w.set(randomBlocks(byName(name), rng, rows * cols / QK));
    // the SIMD engine reads a format with a four-row kernel in the four-row layout, the generic one as in the file
    const wp = putBytes(w), wpS = putBytes(forMulMat(fmt(type), w, rows, wRowBytes));
    expect(fmt(type).rows4).toBe(RUNNABLE.get(type)!.vecDot4 !== undefined);
    expect(fmtG(type).rows4).toBe(false);
    const oS = alloc(nTok * rows * 4), oG = alloc(nTok * rows * 4);
    K.mul_mat(fmt(type).vecDot, fmt(type).vecDotBatch, wpS, wRowBytes, xs, xRowBytes, oS, rows, 0, rows, cols, nTok);
    K.mul_mat(fmtG(type).vecDot, fmtG(type).vecDotBatch, wp, wRowBytes, xs, xRowBytes, oG, rows, 0, rows, cols, nTok);
    const simd = getF32(oS, nTok * rows), gen = getF32(oG, nTok * rows);
    expect(bitDiffs(simd, gen)).toEqual([]);
    for (let t = 0; t < nTok; t++) {
      for (let r = 0; r < rows; r++) {
        // nTok ≥ 2: the batch product (IQ4_NL: tinyBLAS once bound; the one-token dot otherwise)
        const direct = (fmt(type).vecDotBatchFn ?? fmt(type).vecDotFn)(cols, wp + r * wRowBytes, xs + t * xRowBytes);
        expect(sameF(simd[t * rows + r], direct), `[${t}][${r}]`).toBe(true);
        if (name !== 'BF16' && fmt(type).vecDotBatch === fmt(type).vecDot) {
          expect(sameF(direct, byName(name).simd(cols, wp + r * wRowBytes, xs + t * xRowBytes)), `[${t}][${r}] export`).toBe(true);
        }
      }
    }
    // one token: the one-token product
    const o1 = alloc(rows * 4);
    K.mul_mat(fmt(type).vecDot, fmt(type).vecDotBatch, wpS, wRowBytes, xs, xRowBytes, o1, rows, 0, rows, cols, 1);
    const one = getF32(o1, rows);
    for (let r = 0; r < rows; r++) expect(sameF(one[r], fmt(type).vecDotFn(cols, wp + r * wRowBytes, xs)), `one token [${r}]`).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------
/** _mm512_reduce_add_ps over 16 lanes starting at `off`, each add rounded to f32 */
function reduceAdd16(L: Float64Array, off = 0): number {
  const a = Array.from(L.subarray(off, off + 16));
  for (const h of [8, 4, 2, 1]) for (let j = 0; j < h; j++) a[j] = fr(a[j] + a[j + h]);
  return a[0];
}
/**
 * The BF16 order bf16.ts documents: n % 16 == 0 → 16 f32 lanes (tinyBLAS), reduceAdd16; otherwise
 * two 16-lane f32 accumulators over steps of 32 (ggml_vec_dot_bf16, AVX512F), both reduced and summed
 * in double with the tail products, rounded to f32 at the end.
 */
function bf16DotOrder(w: ArrayLike<number>, x: ArrayLike<number>): number {
  const n = w.length;
  const p = (i: number) => fr(w[i] * x[i]);
  if (n % 16 === 0) {
    const L = new Float64Array(16);
    for (let i = 0; i < n; i++) L[i % 16] = fr(L[i % 16] + p(i));
    return reduceAdd16(L);
  }
  const m = n & ~31;
  const L = new Float64Array(32);
  for (let i = 0; i < m; i++) L[i % 32] = fr(L[i % 32] + p(i));
  let s = 0;
  s += reduceAdd16(L, 0);
  s += reduceAdd16(L, 16);
  for (let i = m; i < n; i++) s += p(i);
  return fr(s);
}
/**
 * Bound on |kernel - Σ w·x| for bf16 values: products of two 8-bit significands are exact in f32
 * unless they fall below 2^-126 (absolute error ≤ 2^-150 each). n % 16 == 0: a product passes at
 * most n/16 - 1 lane additions and 4 reduction levels (γ_{n/16+3}); otherwise at most n/32 - 1 lane
 * additions, 4 reduction levels and the final f32 rounding (γ_{⌊n/32⌋+4}), plus the double sums
 * (2 + n % 32 additions, γ^64).
 */
function bf16Bound(n: number, sumAbs: number): number {
  const under = n * 2 ** -150;
  if (n % 16 === 0) return gamma(n / 16 + 3) * sumAbs + under;
  return (gamma(Math.floor(n / 32) + 4) + 2 * gamma((n % 32) + 2, U64)) * sumAbs + 2 * under;
}
const bf16Bits = (v: number) => f32Bits(v) >>> 16;

describe('BF16', () => {
  it('dequantize_row_bf16 (and the formats.ts binding) gives bits << 16 for all 65536 patterns, NaN payloads included', () => {
    const all = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) { all[2 * h] = h & 0xff; all[2 * h + 1] = h >> 8; }
    const src = putBytes(all, 2), y1 = alloc(65536 * 4), y2 = alloc(65536 * 4);
    K.dequantize_row_bf16(src, y1, 65536);
    fmt(30).dequantize(src, y2, 65536);
    for (const y of [y1, y2]) {
      const bits = new Uint32Array(arena.memory.buffer.slice(y, y + 65536 * 4));
      const bad: string[] = [];
      for (let h = 0; h < 65536 && bad.length < 5; h++) if (bits[h] !== ((h << 16) >>> 0)) bad.push(`0x${h.toString(16)} → 0x${bits[h].toString(16)}`);
      expect(bad).toEqual([]);
    }
  });

  /** round_row_bf16 on f32 bit patterns, compared with roundToBf16 (finite) or the NaN rule */
  function checkRound(inputBits: Uint32Array): string[] {
    const n = inputBits.length;
    const p = alloc(n * 4), y = alloc(n * 4);
    new Uint32Array(arena.memory.buffer, p, n).set(inputBits);
    K.round_row_bf16(p, y, n);
    const out = new Uint32Array(arena.memory.buffer.slice(y, y + n * 4));
    const bad: string[] = [];
    for (let i = 0; i < n && bad.length < 5; i++) {
      const b = inputBits[i];
      const x = bitsF32(b);
      let want: number;
      if ((b & 0x7fffffff) > 0x7f800000) want = (((b >>> 16) | 64) << 16) >>> 0; // GGML_FP32_TO_BF16's NaN rule
      else want = f32Bits(roundToBf16(x));
      if (Number.isNaN(x) === false && (want & 0xffff) !== 0) throw new Error('reference not a bf16');
      if (out[i] !== want) bad.push(`0x${b.toString(16)} (${x}) → 0x${out[i].toString(16)}, want 0x${want.toString(16)}`);
    }
    return bad;
  }

  it('round_row_bf16: round to nearest even at every tie and its neighbours, for every bf16 (both signs)', () => {
    const bits: number[] = [];
    for (let h = 0; h < 0x7f80; h++) {
      const lo = h << 16;
      const mid = lo + 0x8000; // exactly half-way to the next bf16 (for h = 0x7f7f: half-way to 2^128, which rounds to Inf)
      bits.push(lo, mid - 1, mid, mid + 1, lo + 0xffff);
    }
    const withSigns = Uint32Array.from([...bits, ...bits.map((b) => (b | 0x80000000) >>> 0)]);
    expect(checkRound(withSigns)).toEqual([]);
    // spot checks of the rule itself
    const one = (b: number) => checkRound(Uint32Array.of(b));
    expect(f32Bits(roundToBf16(bitsF32(0x3f808000)))).toBe(0x3f800000); // tie, even below
    expect(f32Bits(roundToBf16(bitsF32(0x3f818000)))).toBe(0x3f820000); // tie, even above
    expect(roundToBf16(bitsF32(0x7f7f8000))).toBe(Infinity);            // max bf16 + half ulp → Inf
    expect(roundToBf16(bitsF32(0x7f7f7fff))).toBe(bitsF32(0x7f7f0000)); // just below → max bf16
    expect(roundToBf16(bitsF32(0x00008000))).toBe(0);                   // subnormal tie → even (0)
    expect(roundToBf16(bitsF32(0x00018000))).toBe(bitsF32(0x00020000)); // subnormal tie → even
    for (const b of [0x3f808000, 0x7f7f8000, 0x00008000, 0x80008001, 0x7f800000, 0xff800000, 0, 0x80000000]) expect(one(b)).toEqual([]);
  });

  it('round_row_bf16: NaNs stay NaN, keep their sign and top payload and become quiet; random bit patterns round as the definition', () => {
    const nans = Uint32Array.from([0x7f800001, 0x7fc00000, 0x7fffffff, 0xff800001, 0xffc12345, 0x7f810000, 0x7fbfffff, 0xff80ffff]);
    expect(checkRound(nans)).toEqual([]);
    const p = alloc(nans.length * 4), y = alloc(nans.length * 4);
    new Uint32Array(arena.memory.buffer, p, nans.length).set(nans);
    K.round_row_bf16(p, y, nans.length);
    const out = new Uint32Array(arena.memory.buffer.slice(y, y + nans.length * 4));
    for (let i = 0; i < nans.length; i++) {
      expect(Number.isNaN(bitsF32(out[i]))).toBe(true);
      expect(out[i] >>> 31).toBe(nans[i] >>> 31);
      expect(out[i] & 0x00400000).toBe(0x00400000); // quiet bit
    }
    const rng = mulberry32(6000);
    const rand = new Uint32Array(200000);
    for (let i = 0; i < rand.length; i++) rand[i] = Math.floor(rng() * 2 ** 32) >>> 0;
    expect(checkRound(rand)).toEqual([]);
  });

  it('the BF16 activation converter (SIMD and generic binding) == round_row_bf16, and rounding is idempotent on dequantized bf16', () => {
    const rng = mulberry32(6100);
    const x = randomF32(rng, 1000, 3, true);
    const xp = putF32(x), a = alloc(4000), b = alloc(4000), c = alloc(4000);
    K.round_row_bf16(xp, a, 1000);
    quantizeActivation(fmt(30), xp, b, 1000);
    quantizeActivation(fmtG(30), xp, c, 1000);
    const want = getF32(a, 1000);
    expect(bitDiffs(getF32(b, 1000), want)).toEqual([]);
    expect(bitDiffs(getF32(c, 1000), want)).toEqual([]);
    const again = alloc(4000);
    K.round_row_bf16(a, again, 1000);
    expect(bitDiffs(getF32(again, 1000), want)).toEqual([]);
  });

  const SIZES = [1, 2, 3, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 128, 129, 172, 256, 384, 768, 1000];
  const datasets = (rng: Rng, n: number) => [
    { name: 'uniform', w: randomF32(rng, n), x: randomF32(rng, n) },
    { name: 'mixed magnitudes', w: randomF32(rng, n, 1, true), x: randomF32(rng, n, 1, true) },
    { name: 'positive', w: randomF32(rng, n).map(Math.abs), x: randomF32(rng, n, 100).map(Math.abs) },
    { name: 'cancelling', w: randomF32(rng, n, 1000).map((v, i) => (i % 2 ? -Math.abs(v) : Math.abs(v))), x: randomF32(rng, n).map(Math.abs) },
    { name: 'wide exponents', w: Float32Array.from({ length: n }, () => (rng() < 0.5 ? -1 : 1) * 2 ** uniform(rng, -60, 60)), x: Float32Array.from({ length: n }, () => (rng() < 0.5 ? -1 : 1) * 2 ** uniform(rng, -60, 60)) },
    { name: 'subnormal products', w: Float32Array.from({ length: n }, () => (2 * rng() - 1) * 2 ** -70), x: Float32Array.from({ length: n }, () => (2 * rng() - 1) * 2 ** -65) },
  ];

  it.each(SIZES)('vec_dot_bf16, n = %i: SIMD == generic == documented order, f64 within the derived bound', (n) => {
    const rng = mulberry32(6200 + n);
    for (const { name, w, x } of datasets(rng, n)) {
      const wv = Array.from(w, (v) => roundToBf16(v));      // bf16 weights (values)
      const xv = Array.from(x, (v) => roundToBf16(v));      // activations as round_row_bf16 leaves them
      const wBytes = new Uint8Array(n * 2);
      wv.forEach((v, i) => { const b = bf16Bits(v); wBytes[2 * i] = b & 0xff; wBytes[2 * i + 1] = b >> 8; });
      // the activation row through the kernel's own rounding, which must give the same values
      const xr = alloc(n * 4);
      K.round_row_bf16(putF32(x), xr, n);
      expect(bitDiffs(getF32(xr, n), Float32Array.from(xv)), `${name}: round_row_bf16`).toEqual([]);
      for (const misalign of [0, 2]) {
        const wp = putBytes(wBytes, misalign), xp = putF32(xv, misalign * 2);
        const simd = K.vec_dot_bf16(n, wp, xp), gen = K.vec_dot_bf16_generic(n, wp, xp);
        const label = `${name}, n = ${n}, misalign ${misalign}`;
        expect(sameF(simd, gen), `${label}: SIMD ${simd} vs generic ${gen}`).toBe(true);
        const order = bf16DotOrder(wv, xv);
        expect(sameF(simd, order), `${label}: SIMD ${simd} vs documented order ${order}`).toBe(true);
        expect(sameF(fmt(30).vecDotFn(n, wp, xp), simd) && sameF(fmtG(30).vecDotFn(n, wp, xp), gen), `${label}: formats.ts binding`).toBe(true);
        let dot = 0, sumAbs = 0;
        for (let i = 0; i < n; i++) { dot += wv[i] * xv[i]; sumAbs += Math.abs(wv[i] * xv[i]); }
        const bound = bf16Bound(n, sumAbs) + gamma(n + 1, U64) * sumAbs;
        expect(Math.abs(simd - dot), `${label}: vs f64 ${dot}`).toBeLessThanOrEqual(bound);
      }
    }
  });
});
