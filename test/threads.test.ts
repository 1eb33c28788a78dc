// Kernel worker threads (src/wasm/threads.ts): the matrix products split by rows across threads over
// one shared memory give exactly the single-thread numbers — every output row is computed whole by
// one thread with the same kernel — for every kernel family, in batches and single tokens.
import { describe, it, expect } from 'vitest';
import { availableParallelism } from 'node:os';
import { loadModel } from '../src/index.js';
import { greedyRun } from './helpers/greedy-run.js';
import { chunkRows } from '../src/wasm/thread-control.js';
import { createEngine } from '../src/wasm/instance.js';
import { JobArgs } from '../src/model/jobs.js';
import type { QTensor } from '../src/model/weights.js';
import { activationRowBytes, rowBytes as rowBytesOf } from '../src/quant/formats.js';

const Q4_K = 12, Q6_K = 14;
import { mulberry32 } from './helpers/rng.js';
import { modelPath } from './helpers/fixtures.js';

const FILES = [
  'kjv-austen-4l-256d.F16.gguf', 'kjv-austen-4l-256d.Q8_0.gguf', 'kjv-austen-4l-256d.Q4_0.gguf', 'kjv-austen-4l-256d.Q4_1.gguf',
  'kjv-austen-4l-256d.Q5_0.gguf', 'kjv-austen-4l-256d.Q4_K_M.gguf', 'kjv-austen-4l-256d.Q3_K_M.gguf', 'kjv-austen-4l-256d.Q2_K.gguf',
  'kjv-austen-4l-256d.Q6_K.gguf', 'kjv-austen-4l-256d.IQ4_XS.gguf', 'TinyStories-656K.bf16.gguf', 'TinyStories-656K-Q2_K.gguf',
];
async function run(file: string, threads: number) {
  const r = await greedyRun(file, { threads });
  expect(r.threads).toBe(threads);
  return r;
}

describe('threads: the same numbers as one thread, bit for bit', () => {
  it.each(FILES)('%s: every prompt position\'s logits and 12 greedy tokens, 2 and 3 threads', async (file) => {
    const one = await run(file, 1);
    for (const threads of [2, 3]) {
      const many = await run(file, threads);
      expect(Buffer.from(many.all.buffer).equals(Buffer.from(one.all.buffer)), `${threads} threads: prompt logits`).toBe(true);
      expect(many.tokens).toEqual(one.tokens);
      expect(Buffer.from(many.last.buffer).equals(Buffer.from(one.last.buffer)), `${threads} threads: last logits`).toBe(true);
    }
  }, 60_000);

  it('chunks: 64 rows for one token, 16 for a batch, at least four per thread on average, a multiple of four', () => {
    expect(chunkRows(2048, 1, 2)).toBe(64);
    expect(chunkRows(32000, 1, 2)).toBe(64);
    expect(chunkRows(2048, 128, 2)).toBe(16);
    expect(chunkRows(256, 1, 2)).toBe(32);   // 256 / 8
    expect(chunkRows(256, 7, 3)).toBe(16);
    expect(chunkRows(100, 1, 2)).toBe(16);   // ⌈100 / 8⌉ = 13, up to a multiple of four
    expect(chunkRows(5, 1, 4)).toBe(4);
    for (const [rows, nTok, threads] of [[4096, 1, 2], [256, 3, 3], [5, 1, 4], [1, 2, 2], [32000, 1, 7], [5632, 64, 2]]) {
      const chunk = chunkRows(rows, nTok, threads);
      expect(chunk % 4).toBe(0);
      expect(chunk).toBeGreaterThanOrEqual(4);
      expect(chunk).toBeLessThanOrEqual(nTok === 1 ? 64 : 16);
      if (rows >= 4 * 4 * threads) expect(Math.ceil(rows / chunk)).toBeGreaterThanOrEqual(4 * threads);
    }
  });

  it('mul_mat_chunks covers every row exactly once, whatever the chunk size', async () => {
    // a one-thread engine run through the chunked loop directly: out[r] = the F32 dot product of row r
    const engine = createEngine({ kernels: 'simd128' });
    try {
      const { arena, exports } = engine;
      const cols = 8;
      const f32 = engine.formats.get(0)!;
      for (const [rows, chunk] of [[37, 4], [64, 64], [5, 16], [130, 12]]) {
        const w = arena.alloc(rows * cols * 4, 'w'), x = arena.alloc(cols * 4, 'x'), out = arena.alloc(rows * 4, 'out');
        const next = arena.alloc(4, 'next');
        const wv = arena.f32(w, rows * cols), xv = arena.f32(x, cols), ov = arena.f32(out, rows);
        for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) wv[r * cols + k] = k === 0 ? r + 1 : 0;
        xv.fill(1);
        ov.fill(-1);
        new Int32Array(arena.memory.buffer, next, 1)[0] = 0;
        exports.mul_mat_chunks(f32.vecDot, f32.vecDotBatch, w, cols * 4, x, cols * 4, out, rows, rows, cols, 1, next, chunk);
        expect(Array.from(ov)).toEqual(Array.from({ length: rows }, (_, r) => r + 1));
        expect(new Int32Array(arena.memory.buffer, next, 1)[0]).toBe(Math.ceil(rows / chunk) * chunk + chunk); // one add past the end
      }
    } finally {
      engine.dispose();
    }
  });

  it('without `threads`: one per core (os.availableParallelism()), or QUANTSCOPE_THREADS', async () => {
    const saved = process.env.QUANTSCOPE_THREADS;
    try {
      delete process.env.QUANTSCOPE_THREADS;
      const all = await loadModel(modelPath('stories260K.gguf'));
      expect(all.threads).toBe(availableParallelism());
      all.dispose();
      process.env.QUANTSCOPE_THREADS = '3';
      const three = await loadModel(modelPath('stories260K.gguf'));
      expect(three.threads).toBe(3);
      three.dispose();
      process.env.QUANTSCOPE_THREADS = 'many';
      await expect(loadModel(modelPath('stories260K.gguf'))).rejects.toThrow(/QUANTSCOPE_THREADS must be a positive integer, got 'many'/);
    } finally {
      if (saved === undefined) delete process.env.QUANTSCOPE_THREADS;
      else process.env.QUANTSCOPE_THREADS = saved;
    }
  });

  it('the generic kernels stay on one thread; bad thread counts are refused', async () => {
    const m = await loadModel(modelPath('stories260K.gguf'), { threads: 2, generic: true });
    expect(m.threads).toBe(1);
    m.dispose();
    await expect(loadModel(modelPath('stories260K.gguf'), { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });

  it('attention and SwiGLU as jobs over 2 threads: bit for bit the single-call kernels, F32 and F16 caches', async () => {
    const engine = createEngine({ kernels: 'simd128' });
    try {
      await engine.startThreads(2);
      const { arena, exports } = engine;
      const rnd = mulberry32(7);
      const nHead = 8, nHeadKv = 2, headDim = 64, nTok = 3, nKv0 = 100, kvDim = nHeadKv * headDim, vStride = 128;
      const qDim = nHead * headDim, scale = 1 / 8;
      const jobs = new JobArgs(arena, headDim, vStride, 2);
      const q = arena.alloc(4 * nTok * qDim), out = arena.alloc(4 * nTok * qDim), ref = arena.alloc(4 * nTok * qDim);
      const scratch = arena.alloc(4 * (vStride + headDim));
      const fill = (p: number, n: number) => { const v = arena.f32(p, n); for (let i = 0; i < n; i++) v[i] = rnd() * 2 - 1; };
      fill(q, nTok * qDim);
      for (const f16 of [false, true]) {
        const bytes = f16 ? 2 : 4;
        const kc = arena.alloc(bytes * vStride * kvDim), vt = arena.alloc(bytes * kvDim * vStride);
        if (f16) {
          // halves of random values in ±1 (exponent 14, 15 or below): any bit pattern with a small exponent
          for (const p of [kc, vt]) { const h = new Uint16Array(arena.memory.buffer, p, vStride * kvDim); for (let i = 0; i < h.length; i++) h[i] = Math.floor(rnd() * 0x3bff) | (rnd() < 0.5 ? 0x8000 : 0); }
        } else {
          fill(kc, vStride * kvDim); fill(vt, kvDim * vStride);
        }
        for (let t = 0; t < nTok; t++) {
          const qt = q + 4 * t * qDim, rt = ref + 4 * t * qDim;
          if (f16) exports.attention_f16(qt, kc, vt, rt, scratch + 4 * headDim, scratch, nHead, nHeadKv, headDim, nKv0 + t, kvDim, vStride, scale, true);
          else exports.attention(qt, kc, vt, rt, scratch, nHead, nHeadKv, headDim, nKv0 + t, kvDim, vStride, scale, true);
        }
        arena.f32(out, nTok * qDim).fill(NaN);
        jobs.attention(engine, { q, kc, vt, out, nHead, nHeadKv, headDim, nKv0, kvRow: kvDim, vtStride: vStride, scale, nTok, f16 });
        expect(Buffer.from(arena.bytes(out, 4 * nTok * qDim)).equals(Buffer.from(arena.bytes(ref, 4 * nTok * qDim))), f16 ? 'F16' : 'F32').toBe(true);
      }
      const nFf = 1000, rows = 5; // rows not a multiple of 16: libm's expf for the tails
      const gate = arena.alloc(4 * nFf * rows), up = arena.alloc(4 * nFf * rows), o1 = arena.alloc(4 * nFf * rows), o2 = arena.alloc(4 * nFf * rows);
      fill(gate, nFf * rows); fill(up, nFf * rows);
      exports.silu_mul(gate, up, o1, nFf, rows);
      jobs.siluMul(engine, gate, up, o2, nFf, rows);
      expect(Buffer.from(arena.bytes(o2, 4 * nFf * rows)).equals(Buffer.from(arena.bytes(o1, 4 * nFf * rows)))).toBe(true);
    } finally {
      engine.dispose();
    }
  });

  it('several matrices on one activation as one job (Q, K, V; gate, up): bit for bit mul_mat of each, 2 threads and 1', async () => {
    for (const threads of [2, 1]) {
      const engine = createEngine({ kernels: 'simd128' });
      try {
        if (threads > 1) await engine.startThreads(threads);
        const { arena, exports } = engine;
        const rnd = mulberry32(11 + threads);
        const cols = 1024, jobs = new JobArgs(arena, 64, 64, threads);
        // Q4_K, Q6_K, Q4_K: row counts not multiples of four, so the job's padding items and the
        // matrices' leftover rows both occur; ≥ 2^18 multiply-adds at 3 and 4 tokens (on the threads)
        const mats = ([[Q4_K, 61], [Q6_K, 30], [Q4_K, 37]] as const).map(([type, rows]) => {
          const format = engine.formats.get(type)!, rowBytes = rowBytesOf(type, cols);
          const ptr = arena.alloc(rows * rowBytes), b = arena.bytes(ptr, rows * rowBytes);
          for (let i = 0; i < b.length; i++) b[i] = (rnd() * 256) | 0;
          // every f16 field a normal number below 2^-2 (finite results)
          const h = new Uint16Array(arena.memory.buffer, ptr, b.length >> 1);
          for (let i = 0; i < h.length; i++) h[i] = (h[i] & 0x83ff) | ((1 + ((h[i] >> 10) % 12)) << 10);
          const wt: QTensor = { name: `m${type}`, type, rows, cols, rowBytes, activation: format.spec.activation, format, ptr, rows4: format.rows4 };
          return wt;
        });
        for (const nTok of [1, 3, 4]) {
          const xRowBytes = activationRowBytes('q8_K', cols);
          const src = arena.alloc(4 * cols * nTok), x = arena.alloc(xRowBytes * nTok);
          const sv = arena.f32(src, cols * nTok);
          for (let i = 0; i < sv.length; i++) sv[i] = (rnd() * 2 - 1) * 4;
          for (let t = 0; t < nTok; t++) mats[0].format.quantize!(src + 4 * t * cols, x + t * xRowBytes, cols);
          const outs = mats.map((m) => arena.alloc(4 * (m.rows + 2) * nTok)), refs = mats.map((m) => arena.alloc(4 * (m.rows + 2) * nTok));
          mats.forEach((m, i) => {
            arena.f32(outs[i], (m.rows + 2) * nTok).fill(NaN);
            arena.f32(refs[i], (m.rows + 2) * nTok).fill(NaN);
            exports.mul_mat(m.format.vecDot, m.format.vecDotBatch, m.ptr, m.rowBytes, x, xRowBytes, refs[i], m.rows + 2, 0, m.rows, cols, nTok);
          });
          jobs.mulMats(engine, x, xRowBytes, nTok, mats.map((m, i) => [m, outs[i], m.rows + 2] as const));
          mats.forEach((m, i) => {
            const n = 4 * (m.rows + 2) * nTok;
            expect(Buffer.from(arena.bytes(outs[i], n)).equals(Buffer.from(arena.bytes(refs[i], n))), `${threads} threads, ${nTok} tokens, matrix ${i}`).toBe(true);
          });
          for (const p of [src, x, ...outs, ...refs]) arena.release(p);
        }
      } finally {
        engine.dispose();
      }
    }
  });
});
