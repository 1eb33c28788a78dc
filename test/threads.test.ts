// Kernel worker threads (src/wasm/threads.ts): the matrix products split by rows across threads over
// one shared memory give exactly the single-thread numbers — every output row is computed whole by
// one thread with the same kernel — for every kernel family, in batches and single tokens.
import { describe, it, expect } from 'vitest';
import { availableParallelism } from 'node:os';
import { loadModel, type Model } from '../src/index.js';
import { partRows } from '../src/wasm/thread-control.js';
import { modelPath } from './helpers/fixtures.js';

const FILES = [
  'kjv-austen-4l-256d.F16.gguf', 'kjv-austen-4l-256d.Q8_0.gguf', 'kjv-austen-4l-256d.Q4_0.gguf', 'kjv-austen-4l-256d.Q4_1.gguf',
  'kjv-austen-4l-256d.Q5_0.gguf', 'kjv-austen-4l-256d.Q4_K_M.gguf', 'kjv-austen-4l-256d.Q3_K_M.gguf', 'kjv-austen-4l-256d.Q2_K.gguf',
  'kjv-austen-4l-256d.Q6_K.gguf', 'kjv-austen-4l-256d.IQ4_XS.gguf', 'TinyStories-656K.bf16.gguf', 'TinyStories-656K-Q2_K.gguf',
];
const PROMPT = 'And it came to pass, when the people were come to the king, that they took';

async function run(file: string, threads: number) {
  const model: Model = await loadModel(modelPath(file), { threads });
  try {
    expect(model.threads).toBe(threads);
    const session = model.createSession({ contextSize: 64 });
    const all = session.evaluate(model.tokenize(PROMPT), { logits: 'all' });
    const gen = await session.complete([], { maxTokens: 12, temperature: 0 });
    return { all, tokens: gen.tokens, last: session.evaluate([]) };
  } finally {
    model.dispose();
  }
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

  it('splits rows into contiguous parts that cover every row once', () => {
    for (const [rows, parts] of [[4096, 2], [256, 3], [5, 4], [1, 2], [32000, 7]]) {
      const seen: number[] = [];
      for (let p = 0; p < parts; p++) {
        const [r0, r1] = partRows(rows, p, parts);
        for (let r = r0; r < r1; r++) seen.push(r);
      }
      expect(seen).toEqual(Array.from({ length: rows }, (_, i) => i));
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
});
