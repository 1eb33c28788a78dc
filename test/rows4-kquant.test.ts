// The four-row K-quant kernels (assembly/quant/q4_k.ts and q6_k.ts, `vec_dot4_q4_K_q8_K` and
// `vec_dot4_q6_K_q8_K`) and mul_mat running Q4_K / Q6_K rows through them:
//
// - out[r] of the four-row SIMD kernel on a group of the four-row layout (assembly/ops/rows4.ts)
//   == the one-row SIMD kernel (vec_dot_*_q8_K) of row r in the file's layout == its
//   `_generic` twin == out[r] of the four-row generic twin (== the relaxed-SIMD form, on the relaxed
//   module: test/relaxed.test.ts runs this file there), bit for bit, on random super-blocks spread
//   over rows (random bytes; the f16 fields with normal exponents, or any 16 bits: subnormals, zeros,
//   Inf and NaN), activations quantized by quantize_row_q8_K from random floats of many magnitudes
//   (down to where d8·d is an f32 subnormal, so the FMAs' small-result test fires) and raw Q8_K bytes
//   (any int8 quants, −128 included, any bsums), at misaligned addresses. quant-k.test.ts proves the
//   one-row kernels equal to llama.cpp's x86 order, so this carries over to the four-row kernels;
// - a row whose FMA lands on an f32 tie in float64 (the exact path) gives the fused result in every
//   slot of the four-row kernel;
// - mul_mat over rows r0..r1 of a matrix in the four-row layout (whole groups, leftovers of 1..3
//   rows, 1 and 2 tokens) writes exactly the one-row dot of each row and nothing outside.
// - the four-row kernels read only their group: one that ends where WASM memory ends.
import { describe, expect, it } from 'vitest';
import { createEngine, type KernelExports } from '../src/wasm/instance.js';
import { activationRowBytes, rowBytes } from '../src/quant/formats.js';
import { mulberry32, randInt, type Rng } from './helpers/rng.js';
import { halfToNumber, numberToHalf } from './helpers/half.js';
import { toRows4 } from './helpers/rows4.js';
import { testMemory } from './helpers/test-memory.js';

type Ptr = number;
type Dot = (n: number, w: Ptr, x: Ptr) => number;
type Dot4 = (n: number, w: Ptr, x: Ptr, out: Ptr) => void;
interface KExports extends KernelExports {
  quantize_row_q8_K(x: Ptr, y: Ptr, n: number): void;
}

const QK_K = 256;
const Q8K_BYTES = 292;
const SENTINEL = 0x7fc0dead; // a NaN pattern no kernel produces
const fr = Math.fround;
const sameF = (a: number, b: number) => Object.is(a, b);

const engine = createEngine({ generic: false });
const K = engine.exports as KExports;
const arena = engine.arena;
const { alloc, putBytes, putF32, getF32 } = testMemory(arena);
const kernel = <T>(name: string): T => (K as unknown as Record<string, T>)[name];

interface KFormat {
  name: string;
  typeId: number;
  bytes: number;
  /** byte offsets of the f16 fields of a super-block */
  halves: number[];
  dot: string;
}
const FORMATS: KFormat[] = [
  { name: 'Q4_K', typeId: 12, bytes: 144, halves: [0, 2], dot: 'vec_dot_q4_K_q8_K' },
  { name: 'Q6_K', typeId: 14, bytes: 210, halves: [208], dot: 'vec_dot_q6_K_q8_K' },
];
const dot4Name = (f: KFormat) => f.dot.replace('vec_dot_', 'vec_dot4_');

/** An f16 bit pattern: `normal` gives a normal exponent (1..30), else any 16 bits, with the special
 *  values (±0, subnormals, ±Inf, NaN) made common. */
function randomHalf(rng: Rng, normal: boolean): number {
  const sign = rng() < 0.5 ? 0x8000 : 0;
  if (normal) return sign | (randInt(rng, 1, 30) << 10) | randInt(rng, 0, 1023);
  const r = rng();
  if (r < 0.1) return sign;
  if (r < 0.3) return sign | randInt(rng, 1, 1023);
  if (r < 0.35) return sign | 0x7c00;
  if (r < 0.4) return sign | 0x7c00 | randInt(rng, 1, 1023);
  return randInt(rng, 0, 0xffff);
}

/** `rows` weight rows of `nb` super-blocks: random bytes, the f16 fields from randomHalf */
function randomWeights(rng: Rng, f: KFormat, rows: number, nb: number, normal: boolean): Uint8Array {
  const b = new Uint8Array(rows * nb * f.bytes);
  for (let i = 0; i < b.length; i++) b[i] = randInt(rng, 0, 255);
  for (let s = 0; s < rows * nb; s++) {
    for (const o of f.halves) {
      const h = randomHalf(rng, normal);
      b[s * f.bytes + o] = h & 0xff;
      b[s * f.bytes + o + 1] = h >> 8;
    }
  }
  return b;
}

/** an activation row of nb super-blocks quantized by quantize_row_q8_K: random floats whose scale
 *  per super-block spans 2^-125 … 2^20 (some all zero, some sparse) */
function quantizedActivations(rng: Rng, nb: number): Uint8Array {
  const x = new Float32Array(nb * QK_K);
  for (let s = 0; s < nb; s++) {
    const kind = rng();
    const scale = 2 ** randInt(rng, -125, 20);
    for (let i = 0; i < QK_K; i++) {
      if (kind < 0.05) x[s * QK_K + i] = 0;
      else if (kind < 0.15) x[s * QK_K + i] = rng() < 0.1 ? (2 * rng() - 1) * scale : 0;
      else x[s * QK_K + i] = (2 * rng() - 1) * scale;
    }
  }
  const xp = putF32(x), yp = alloc(nb * Q8K_BYTES);
  K.quantize_row_q8_K(xp, yp, nb * QK_K);
  return arena.bytes(yp, nb * Q8K_BYTES).slice();
}

/** raw Q8_K bytes: any f32 scale d (finite, of any magnitude), any int8 quants (−128 included), any bsums */
function rawActivations(rng: Rng, nb: number): Uint8Array {
  const b = new Uint8Array(nb * Q8K_BYTES);
  const dv = new DataView(b.buffer);
  for (let s = 0; s < nb; s++) {
    const o = s * Q8K_BYTES;
    for (let i = 4; i < Q8K_BYTES; i++) b[o + i] = randInt(rng, 0, 255);
    dv.setFloat32(o, fr((rng() < 0.5 ? -1 : 1) * 2 ** (-149 + 270 * rng())), true);
  }
  return b;
}

/** Checks one group of four rows (wBytes, four rows of nb super-blocks in the file's layout) against
 *  x: four-row SIMD (on the group in the four-row layout) == one-row SIMD == one-row generic ==
 *  four-row generic, bit for bit, per row; returns the results */
function checkFour(f: KFormat, wBytes: Uint8Array, xBytes: Uint8Array, nb: number, label: string, misalign = 0): Float32Array {
  const n = nb * QK_K, rb = nb * f.bytes;
  const wp = putBytes(wBytes, misalign), xp = putBytes(xBytes, (misalign * 7) % 16);
  const group = putBytes(toRows4(wBytes, 4, rb, f.bytes), misalign);
  const out = alloc(16 + 3) + 3, outG = alloc(16);
  kernel<Dot4>(dot4Name(f))(n, group, xp, out);
  kernel<Dot4>(dot4Name(f) + '_generic')(n, group, xp, outG);
  const four = getF32(out, 4), fourG = getF32(outG, 4);
  if (engine.kind === 'relaxed') {
    // the relaxed-SIMD module's form (x86_fma_relaxed in place of the f64 emulation)
    const outR = alloc(16);
    kernel<Dot4>(dot4Name(f) + '_relaxed')(n, group, xp, outR);
    const fourR = getF32(outR, 4);
    for (let r = 0; r < 4; r++) expect(sameF(fourR[r], four[r]), `${f.name} ${label}, row ${r}: relaxed ${fourR[r]} vs SIMD128 ${four[r]}`).toBe(true);
  }
  for (let r = 0; r < 4; r++) {
    const one = kernel<Dot>(f.dot)(n, wp + r * rb, xp), oneG = kernel<Dot>(f.dot + '_generic')(n, wp + r * rb, xp);
    const at = `${f.name} ${label}, row ${r}`;
    expect(sameF(four[r], one), `${at}: four-row ${four[r]} vs one-row ${one}`).toBe(true);
    expect(sameF(one, oneG), `${at}: one-row ${one} vs generic ${oneG}`).toBe(true);
    expect(sameF(fourG[r], oneG), `${at}: four-row generic ${fourG[r]} vs generic ${oneG}`).toBe(true);
  }
  return four;
}

it('runs on the kernel module asked for (QUANTSCOPE_EXPECT_KERNELS, set by test/relaxed.test.ts)', () => {
  expect(engine.kind).toBe(process.env.QUANTSCOPE_EXPECT_KERNELS || engine.kind);
});

describe.each(FORMATS)('$name four-row kernel', (f) => {
  it('is the format\'s registered four-row kernel', () => {
    if (engine.kind === 'relaxed') expect(engine.formats.get(f.typeId)!.spec.vecDot4Relaxed).toBe(dot4Name(f) + '_relaxed');
    expect(engine.formats.get(f.typeId)!.spec.vecDot4).toBe(dot4Name(f));
    expect(typeof kernel<unknown>(dot4Name(f))).toBe('function');
    expect(typeof kernel<unknown>(dot4Name(f) + '_generic')).toBe('function');
  });

  it('== the one-row kernel == the generic twins, bit for bit, on ≥ 500 random super-blocks spread over the four row slots', () => {
    const rng = mulberry32(7100 + f.typeId);
    let superBlocks = 0, finite = 0, tinyD = 0;
    for (let c = 0; c < 72; c++) {
      const nb = 1 + (c % 5);
      const normal = c % 3 !== 2;
      const raw = c % 8 === 7;
      const w = randomWeights(rng, f, 4, nb, normal);
      const x = raw ? rawActivations(rng, nb) : quantizedActivations(rng, nb);
      // how many super-blocks have D = d8·d (the FMAs' multiplier) in f32's subnormal range
      const xv = new DataView(x.buffer), wv = new DataView(w.buffer);
      for (let r = 0; r < 4; r++) {
        for (let s = 0; s < nb; s++) {
          const D = fr(xv.getFloat32(s * Q8K_BYTES, true) * halfToNumber(wv.getUint16((r * nb + s) * f.bytes + f.halves[0], true)));
          if (D !== 0 && Math.abs(D) < 2 ** -126) tinyD++;
        }
      }
      const four = checkFour(f, w, x, nb, `case ${c} (nb ${nb}, ${normal ? 'normal' : 'any'} f16, ${raw ? 'raw' : 'quantized'} x)`, c % 16);
      superBlocks += 4 * nb;
      finite += four.filter(Number.isFinite).length;
    }
    expect(superBlocks).toBeGreaterThanOrEqual(500);
    expect(finite).toBeGreaterThan(150); // most results are numbers, not NaN
    expect(tinyD, 'super-blocks with a subnormal d8·d').toBeGreaterThan(5);
  });

  it('gives the fused result where float64 lands on an f32 tie, in every row slot', () => {
    // super-block 0: lane 0 gets D·L = 1·64; super-block 1: D·L = (325·2^-24)(61·2^-24)·54161 =
    // (2^30 + 1)·2^-48 = 2^-18 + 2^-48, half an ulp of 64 plus a sliver. float64 rounds 64 + 2^-18 +
    // 2^-48 to the tie 64 + 2^-18, which rounds to even (64); the fused result is 64 + 2^-17. Every
    // other lane is 0 (and Q4_K's mins too: dmin = 0), so the horizontal sums return lane 0 exactly.
    // L = 54161 = 41·1321 = 41·(15·88 + 1·1) (Q4_K: scale 41, quants 15 and 1) = 41·(31·42 + 19·1)
    // (Q6_K: scale 41, quants − 32 = 31 and 19).
    const w = new Uint8Array(2 * f.bytes), x = new Uint8Array(2 * Q8K_BYTES);
    const xv = new DataView(x.buffer), wv = new DataView(w.buffer);
    const dOffset = f.halves[0];
    wv.setUint16(dOffset, numberToHalf(1), true);
    wv.setUint16(f.bytes + dOffset, numberToHalf(325 * 2 ** -24), true);
    xv.setFloat32(0, 1, true);
    xv.setFloat32(Q8K_BYTES, 61 * 2 ** -24, true);
    const setX = (sb: number, i: number, v: number) => { x[sb * Q8K_BYTES + 4 + i] = v & 0xff; };
    setX(0, 0, 8);
    setX(1, 0, f.name === 'Q4_K' ? 88 : 42);
    setX(1, 1, 1);
    for (let sb = 0; sb < 2; sb++) {
      for (let g = 0; g < 16; g++) {
        let sum = 0;
        for (let i = 0; i < 16; i++) sum += (x[sb * Q8K_BYTES + 4 + 16 * g + i] << 24) >> 24;
        xv.setInt16(sb * Q8K_BYTES + 260 + 2 * g, sum, true);
      }
    }
    if (f.name === 'Q4_K') {
      // sc[0] (6 bits of byte 4), all other scales and mins 0; quants of sub-block 0 in the low nibbles of qs
      w[4] = 1; w[16] = 8;
      w[f.bytes + 4] = 41; w[f.bytes + 16] = 15; w[f.bytes + 17] = 1;
    } else {
      // every quant 32 (low nibble 0, high bits 2: qh = 0b10101010), scales[0] and the first two quants set
      for (let sb = 0; sb < 2; sb++) for (let i = 128; i < 192; i++) w[sb * f.bytes + i] = 0xaa;
      const setQ = (sb: number, l: number, q: number) => {
        w[sb * f.bytes + l] = q & 15;
        w[sb * f.bytes + 128 + l] = (0xaa & ~3) | (q >> 4);
      };
      w[192] = 1; setQ(0, 0, 32 + 8);
      w[f.bytes + 192] = 41; setQ(1, 0, 32 + 31); setQ(1, 1, 32 + 19);
    }
    const want = 64 + 2 ** -17;
    expect(fr(fr(325 * 61 * 2 ** -48) * 54161 + 64), 'f32(f64 a·b + c) misses it').toBe(64);
    const n = 2 * QK_K, wp = putBytes(w), xp = putBytes(x);
    expect(kernel<Dot>(f.dot)(n, wp, xp)).toBe(want);
    expect(kernel<Dot>(f.dot + '_generic')(n, wp, xp)).toBe(want);
    // the tie row in every slot, and alone among zero rows (zero quants and scales)
    const four = new Uint8Array(4 * w.length);
    for (let r = 0; r < 4; r++) four.set(w, r * w.length);
    expect([...checkFour(f, four, x, 2, 'tie rows')]).toEqual([want, want, want, want]);
    for (let slot = 0; slot < 4; slot++) {
      const one = new Uint8Array(4 * w.length);
      one.set(w, slot * w.length);
      const got = checkFour(f, one, x, 2, `tie row in slot ${slot}`, slot + 1);
      expect([...got]).toEqual([0, 1, 2, 3].map((r) => (r === slot ? want : 0)));
    }
  });

  it('reads only its group: four rows that end exactly where WASM memory ends', () => {
    // a read past the group's last byte would trap here
    const e = createEngine({ generic: false });
    const k = e.exports as KExports;
    const rng = mulberry32(7200 + f.typeId);
    const nb = 2, n = nb * QK_K, rb = nb * f.bytes;
    const xp = e.arena.alloc(nb * Q8K_BYTES), out = e.arena.alloc(16);
    e.arena.bytes(xp, nb * Q8K_BYTES).set(rawActivations(rng, nb));
    const probe = e.arena.alloc(64);
    const end = e.memory.buffer.byteLength, wBytes = 4 * rb;
    expect(end - (probe + 64)).toBeGreaterThan(wBytes + 64);
    const filler = e.arena.alloc(end - (probe + 64) - Math.ceil(wBytes / 64) * 64);
    const wp = e.arena.alloc(wBytes) + (Math.ceil(wBytes / 64) * 64 - wBytes);
    expect(wp + wBytes).toBe(end);
    expect(e.memory.buffer.byteLength).toBe(end);
    const w = randomWeights(rng, f, 4, nb, true);
    e.arena.bytes(wp, wBytes).set(toRows4(w, 4, rb, f.bytes));
    (k as unknown as Record<string, Dot4>)[dot4Name(f)](n, wp, xp, out);
    const four = new Float32Array(e.memory.buffer.slice(out, out + 16));
    e.arena.release(filler);
    const plain = e.arena.alloc(wBytes);
    e.arena.bytes(plain, wBytes).set(w);
    for (let r = 0; r < 4; r++) {
      const one = (k as unknown as Record<string, Dot>)[f.dot](n, plain + r * rb, xp);
      expect(sameF(four[r], one), `${f.name} row ${r} at the end of memory: ${four[r]} vs ${one}`).toBe(true);
    }
    e.dispose();
  });

  it('mul_mat: rows r0..r1 of the four-row layout (whole groups, leftovers) == the one-row dot of each row', () => {
    expect(engine.formats.get(f.typeId)!.rows4).toBe(true);
    const fmt = engine.formats.get(f.typeId)!;
    expect(fmt.vecDotBatch).toBe(fmt.vecDot);
    const rng = mulberry32(7300 + f.typeId);
    const nb = 3, cols = nb * QK_K, rows = 14, outRowFloats = rows + 3;
    const wRowBytes = rowBytes(f.typeId, cols);
    expect(wRowBytes).toBe(nb * f.bytes);
    const xRowBytes = activationRowBytes(fmt.spec.activation, cols);
    let checked = 0;
    for (const normal of [true, false]) {
      const w = randomWeights(rng, f, rows, nb, normal);
      for (const nTok of [1, 2]) {
        const x = new Uint8Array(nTok * xRowBytes);
        for (let t = 0; t < nTok; t++) x.set(quantizedActivations(rng, nb), t * xRowBytes);
        const wp = putBytes(toRows4(w, rows, wRowBytes, f.bytes), 5), plain = putBytes(w, 1);
        const xp = putBytes(x, 2), out = alloc(nTok * outRowFloats * 4);
        // ranges that cut no group (mul_mat's contract): groups 0…3, 4…7, 8…11, then rows 12 and 13
        for (const [r0, r1] of [[0, 14], [4, 14], [8, 13], [12, 14], [13, 14], [4, 8], [0, 12], [0, 4], [12, 12]]) {
          new Uint32Array(arena.memory.buffer, out, nTok * outRowFloats).fill(SENTINEL);
          K.mul_mat(fmt.vecDot, fmt.vecDotBatch, wp, wRowBytes, xp, xRowBytes, out, outRowFloats, r0, r1, cols, nTok);
          const got = getF32(out, nTok * outRowFloats), bits = new Uint32Array(got.buffer);
          for (let t = 0; t < nTok; t++) {
            for (let r = 0; r < outRowFloats; r++) {
              const i = t * outRowFloats + r;
              const at = `${f.name} ${normal ? 'normal' : 'any'} f16, nTok ${nTok}, rows ${r0}..${r1}, out[${t}][${r}]`;
              if (r < r0 || r >= r1) {
                expect(bits[i], `${at} untouched`).toBe(SENTINEL);
                continue;
              }
              const one = fmt.vecDotFn(cols, plain + r * wRowBytes, xp + t * xRowBytes);
              expect(sameF(got[i], one), `${at}: ${got[i]} vs one-row dot ${one}`).toBe(true);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});
