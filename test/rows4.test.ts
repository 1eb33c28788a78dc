// mul_mat's four-row path: where a format registers a four-row kernel (src/quant/formats.ts
// `vecDot4`), the SIMD engines keep its matrices in the four-row layout (assembly/ops/rows4.ts) and
// mul_mat runs rows four at a time through the kernel and the leftover rows through the one-row
// dot. Every output must be bit for bit the one-row SIMD dot product of its row in the file's
// layout — which the per-format tests prove equal to the `_generic` twin and to llama.cpp's order —
// whatever the row range (whole groups, leftovers), the token count, and the row contents (every
// row here is different, so a lane mixing up rows shows). The per-format test files add the tie
// cases (quant-legacy's checkDot, kernels' Q8_0 tie test). The layout itself: the kernel module's
// interleave_rows4 against the definition (helpers/rows4.ts), and rows read back from it.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/wasm/instance.js';
import { FORMATS, activationRowBytes, rowBytes } from '../src/quant/formats.js';
import { dequantizeRow, type QTensor } from '../src/model/weights.js';
import { mulberry32 } from './helpers/rng.js';
import { toRows4 } from './helpers/rows4.js';

const simdEngine = createEngine({ generic: false });
const genericEngine = createEngine({ generic: true });
const SENTINEL = 0x7fc0dead; // a NaN pattern no kernel produces

/**
 * Random weight rows: random bytes, where `normal` rows have every 16-bit word given an exponent of
 * 1..12 as an f16 (so every f16 scale is a normal number below 2^-2 and the results finite), the
 * others keep any bits (subnormal, Inf and NaN scales included).
 */
function randomRows(rng: () => number, bytes: number, normal: boolean): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (rng() * 256) | 0;
  if (normal) {
    const h = new Uint16Array(b.buffer, 0, bytes >> 1);
    for (let i = 0; i < h.length; i++) h[i] = (h[i] & 0x83ff) | ((1 + ((h[i] >> 10) % 12)) << 10);
  }
  return b;
}

const withFourRows = [...FORMATS].filter(([, f]) => f.vecDot4 !== undefined);

describe('mul_mat through four-row kernels', () => {
  it('runs on the kernel module asked for (QUANTSCOPE_EXPECT_KERNELS, set by test/relaxed.test.ts)', () => {
    expect(simdEngine.kind).toBe(process.env.QUANTSCOPE_EXPECT_KERNELS || simdEngine.kind);
    expect(['relaxed', 'simd128']).toContain(simdEngine.kind);
  });

  it('the registrations hold after kernel workers start (each instantiation rewrites the static data they live in)', async () => {
    const e = createEngine({ generic: false });
    const registered = () => withFourRows.map(([id, f]) => {
      const dot = e.formats.get(id)!.vecDot;
      return [e.exports.rows4_kernel_of(dot), f.vecTile ? e.exports.tile_kernel_of(dot) : 0];
    });
    const want = registered();
    expect(want.every(([rows4, tile]) => rows4 >= 0 && tile >= 0)).toBe(true);
    await e.startThreads(3);
    try {
      expect(registered()).toEqual(want);
    } finally {
      e.dispose();
    }
  });

  it('formats with a four-row kernel include the decode-heavy Q4_0 and Q8_0; Q4_0 has a tile kernel', () => {
    const names = withFourRows.map(([, f]) => f.type.name);
    expect(names).toContain('Q4_0');
    expect(names).toContain('Q8_0');
    expect(withFourRows.filter(([, f]) => f.vecTile).map(([, f]) => f.type.name)).toContain('Q4_0');
    expect([...FORMATS.values()].filter((f) => f.vecTile && !f.vecDot4)).toEqual([]);
  });

  it.each(withFourRows.map(([id, f]) => [f.type.name, id] as const))('%s: every output == the one-row dot of its row, any row range and token count', (_name, typeId) => {
    const fS = simdEngine.formats.get(typeId)!, fG = genericEngine.formats.get(typeId)!;
    const block = fS.spec.type.blockSize;
    const cols = block * (block === 256 ? 3 : 9);
    const rows = 11, outRowFloats = rows + 2;
    const wRowBytes = rowBytes(typeId, cols);
    const xRowBytes = activationRowBytes(fS.spec.activation, cols);
    const rng = mulberry32(4242 + typeId);
    let checked = 0;
    for (const normal of [true, false]) {
      const w = randomRows(rng, rows * wRowBytes, normal);
      // 9 tokens: two tiles of four and one more, where the format has a tile kernel (vecTile)
      for (const nTok of [1, 3, 9]) {
        const acts = Float32Array.from({ length: nTok * cols }, () => (2 * rng() - 1) * 2 ** (8 * rng() - 4));
        // the same bytes in both engines' memories
        const held: Array<[typeof simdEngine, number]> = [];
        const alloc = (e: typeof simdEngine, bytes: number) => { const p = e.arena.alloc(bytes); held.push([e, p]); return p; };
        const place = (e: typeof simdEngine, misalign: number) => {
          // the rows as this engine's mul_mat reads them (wp), and as in the file (plain)
          const laidOut = e.formats.get(typeId)!.rows4 ? toRows4(w, rows, wRowBytes, fS.spec.type.typeSize) : w;
          const wp = alloc(e, w.length + 16) + misalign, plain = alloc(e, w.length);
          e.arena.bytes(wp, w.length).set(laidOut);
          e.arena.bytes(plain, w.length).set(w);
          const ap = alloc(e, acts.length * 4);
          e.arena.f32(ap, acts.length).set(acts);
          const xp = alloc(e, nTok * xRowBytes + 16) + misalign;
          const f = e.formats.get(typeId)!;
          for (let t = 0; t < nTok; t++) f.quantize!(ap + t * cols * 4, xp + t * xRowBytes, cols);
          const out = alloc(e, nTok * outRowFloats * 4);
          return { wp, plain, xp, out };
        };
        const S = place(simdEngine, 1), G = place(genericEngine, 3);
        expect(simdEngine.arena.bytes(S.xp, nTok * xRowBytes)).toEqual(genericEngine.arena.bytes(G.xp, nTok * xRowBytes));
        // ranges that cut no group of four rows (mul_mat's contract; groups 0…3, 4…7, rows 8…10 after them)
        for (const [r0, r1] of [[0, rows], [4, rows], [4, 9], [8, 10], [9, rows], [8, 8]]) {
          new Uint32Array(simdEngine.memory.buffer, S.out, nTok * outRowFloats).fill(SENTINEL);
          new Uint32Array(genericEngine.memory.buffer, G.out, nTok * outRowFloats).fill(SENTINEL);
          simdEngine.exports.mul_mat(fS.vecDot, fS.vecDotBatch, S.wp, wRowBytes, S.xp, xRowBytes, S.out, outRowFloats, r0, r1, cols, nTok);
          genericEngine.exports.mul_mat(fG.vecDot, fG.vecDotBatch, G.wp, wRowBytes, G.xp, xRowBytes, G.out, outRowFloats, r0, r1, cols, nTok);
          const s = new Float32Array(simdEngine.memory.buffer.slice(S.out, S.out + nTok * outRowFloats * 4));
          const g = new Float32Array(genericEngine.memory.buffer.slice(G.out, G.out + nTok * outRowFloats * 4));
          const sBits = new Uint32Array(s.buffer);
          for (let t = 0; t < nTok; t++) {
            for (let r = 0; r < outRowFloats; r++) {
              const i = t * outRowFloats + r;
              const at = `${normal ? 'normal' : 'any'} scales, nTok ${nTok}, rows ${r0}..${r1}, out[${t}][${r}]`;
              if (r < r0 || r >= r1) {
                expect(sBits[i], `${at} untouched`).toBe(SENTINEL);
                continue;
              }
              const one = fS.vecDotFn(cols, S.plain + r * wRowBytes, S.xp + t * xRowBytes);
              expect(Object.is(s[i], one), `${at}: ${s[i]} vs one-row dot ${one}`).toBe(true);
              expect(Object.is(s[i], g[i]), `${at}: ${s[i]} vs generic ${g[i]}`).toBe(true);
              if (normal) expect(Number.isFinite(s[i]), at).toBe(true);
              checked++;
            }
          }
        }
        for (const [e, p] of held) e.arena.release(p);
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  // The legacy formats' four-row and tile kernels convert the rows' f16 scales four at a time by a
  // fast path for finite halves (util/fp16.ts halves4_to_f32x4) and the full one for Inf / NaN.
  it.each(['Q4_0', 'Q8_0'])('%s: every one of the 65536 f16 weight scales gives the one-row result (one token and a tile of four + one)', (name) => {
    const [typeId] = withFourRows.find(([, f]) => f.type.name === name)!;
    const fS = simdEngine.formats.get(typeId)!, fG = genericEngine.formats.get(typeId)!;
    const { typeSize } = fS.spec.type;
    const rows = 65536, cols = 32, wRowBytes = rowBytes(typeId, cols), xRowBytes = activationRowBytes(fS.spec.activation, cols);
    const rng = mulberry32(90210 + typeId);
    const w = randomRows(rng, rows * wRowBytes, true);
    for (let r = 0; r < rows; r++) { w[r * wRowBytes] = r & 0xff; w[r * wRowBytes + 1] = r >> 8; } // row r's scale: the half r
    const nTok = 5;
    const acts = Float32Array.from({ length: nTok * cols }, () => 2 * rng() - 1);
    const run = (e: typeof simdEngine, f: typeof fS, laid: Uint8Array, tokens: number): Float32Array => {
      const wp = e.arena.alloc(laid.length), ap = e.arena.alloc(acts.length * 4), xp = e.arena.alloc(nTok * xRowBytes), out = e.arena.alloc(tokens * rows * 4);
      try {
        e.arena.bytes(wp, laid.length).set(laid);
        e.arena.f32(ap, acts.length).set(acts);
        for (let t = 0; t < nTok; t++) f.quantize!(ap + t * cols * 4, xp + t * xRowBytes, cols);
        e.exports.mul_mat(f.vecDot, f.vecDotBatch, wp, wRowBytes, xp, xRowBytes, out, rows, 0, rows, cols, tokens);
        return new Float32Array(e.memory.buffer.slice(out, out + tokens * rows * 4));
      } finally {
        for (const p of [wp, ap, xp, out]) e.arena.release(p);
      }
    };
    const laid = toRows4(w, rows, wRowBytes, typeSize);
    for (const tokens of [1, nTok]) {
      const s = run(simdEngine, fS, laid, tokens), g = run(genericEngine, fG, w, tokens);
      let bad = 0, nonFinite = 0;
      for (let i = 0; i < s.length; i++) {
        if (!Object.is(s[i], g[i]) && !(Number.isNaN(s[i]) && Number.isNaN(g[i]))) bad++;
        if (!Number.isFinite(g[i])) nonFinite++;
      }
      expect(bad, `${tokens} token(s): outputs that differ from the generic engine's`).toBe(0);
      expect(nonFinite, 'the Inf / NaN scales are among them').toBeGreaterThan(0);
    }
  });

  it.each(withFourRows.map(([id, f]) => [f.type.name, id] as const))('%s: interleave_rows4 == the layout\'s definition; every row reads back as in the file', (_name, typeId) => {
    const e = simdEngine, f = e.formats.get(typeId)!;
    expect(f.rows4).toBe(true);
    expect(genericEngine.formats.get(typeId)!.rows4).toBe(false);
    const { blockSize, typeSize } = f.spec.type;
    const rng = mulberry32(77 + typeId);
    for (const [rows, blocks] of [[1, 1], [3, 2], [4, 1], [4, 3], [5, 2], [8, 1], [9, 3], [12, 2]]) {
      const cols = blocks * blockSize, rb = rowBytes(typeId, cols);
      const w = randomRows(rng, rows * rb, true);
      const wp = e.arena.alloc(w.length), scratch = e.arena.alloc(4 * rb), y = e.arena.alloc(cols * 4), yWant = e.arena.alloc(cols * 4);
      const plain = e.arena.alloc(w.length);
      try {
        e.arena.bytes(wp, w.length).set(w);
        e.arena.bytes(plain, w.length).set(w);
        e.exports.interleave_rows4(wp, rows, rb, typeSize, scratch);
        expect(e.arena.bytes(wp, w.length), `${rows} rows of ${blocks} blocks`).toEqual(toRows4(w, rows, rb, typeSize));
        const t: QTensor = { name: 'w', type: typeId, rows, cols, rowBytes: rb, activation: f.spec.activation, format: f, ptr: wp, rows4: true };
        for (let r = 0; r < rows; r++) {
          dequantizeRow(t, r, y);
          f.dequantize(plain + r * rb, yWant, cols);
          expect(e.arena.bytes(y, cols * 4), `${rows} rows of ${blocks} blocks: row ${r}`).toEqual(e.arena.bytes(yWant, cols * 4));
        }
      } finally {
        for (const p of [wp, scratch, y, yWant, plain]) e.arena.release(p);
      }
    }
    // the definition by hand: five rows of two one-byte blocks (one group, one row after it)
    expect([...toRows4(Uint8Array.from([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]), 5, 2, 1)]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 5, 5]);
  });
});
