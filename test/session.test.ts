import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadModel, type Model, QuantscopeError, ContextOverflowError, UnsupportedTensorTypeError, AbortError,
  defaultModelPath,
} from '../src/index.js';
import { parseGguf } from '../src/gguf/reader.js';
import { writeGguf } from '../src/gguf/writer.js';
import { modelPath } from './helpers/fixtures.js';
import { createEngine } from '../src/wasm/instance.js';
import { RunState } from '../src/model/run-state.js';
import type { LlamaConfig } from '../src/model/config.js';

const argmax = (v: Float32Array) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);

describe('Session on stories260K', () => {
  let model: Model;
  beforeAll(async () => { model = await loadModel(defaultModelPath()); });
  afterAll(() => model.dispose());

  it('loads the embedded default model with its hyper-parameters', () => {
    expect(model.config).toMatchObject({ nEmbd: 64, nLayer: 5, nHead: 8, nHeadKv: 4, nFf: 172, nVocab: 512 });
    expect(model.tensorTypes).toEqual({ F32: 48 });
  });

  /**
   * Like llama.cpp, a product over a batch of tokens sums in tinyBLAS's order and a single token in
   * ggml_vec_dot's, so how a prompt is split into batches moves logits by f32 rounding only: on this
   * F32 model, |Δ| of a few 1e-6 (llama.cpp's own logits agree with ours to 5e-6). 1e-4 leaves a 20×
   * margin while any real error (a wrong position, cache row or mask) moves logits by O(1).
   */
  const SPLIT_TOLERANCE = 1e-4;
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

  it('gives the same logits whatever the prompt batch size, and token by token', () => {
    const prompt = model.tokenize('Once upon a time, there was a little girl named Lily who loved to play');
    expect(prompt.length).toBeGreaterThan(8);
    const ref = model.createSession({ batchSize: 64 }).evaluate(prompt);
    expect(Array.from(model.createSession({ batchSize: 64 }).evaluate(prompt))).toEqual(Array.from(ref)); // deterministic
    for (const batchSize of [1, 3, 8]) {
      const s = model.createSession({ batchSize });
      const logits = s.evaluate(prompt);
      expect(maxDiff(logits, ref), `batch ${batchSize}`).toBeLessThanOrEqual(SPLIT_TOLERANCE);
      expect(argmax(logits)).toBe(argmax(ref));
      s.dispose();
    }
    const s = model.createSession();
    let last: Float32Array = new Float32Array();
    for (const t of prompt) last = s.evaluate([t]);
    expect(maxDiff(last, ref)).toBeLessThanOrEqual(SPLIT_TOLERANCE);
    expect(s.position).toBe(prompt.length);
  });

  it("returns every position's logits with logits: 'all', matching prefixes evaluated alone", () => {
    const prompt = model.tokenize('One day, Timmy went to');
    const s = model.createSession({ batchSize: 3 });
    const all = s.evaluate(prompt, { logits: 'all' });
    const n = model.config.nVocab;
    expect(all.length).toBe(prompt.length * n);
    for (const k of [1, 4, prompt.length]) {
      const prefix = model.createSession({ batchSize: 3 }).evaluate(prompt.slice(0, k));
      expect(maxDiff(all.subarray((k - 1) * n, k * n), prefix), `prefix ${k}`).toBeLessThanOrEqual(SPLIT_TOLERANCE);
      expect(argmax(all.subarray((k - 1) * n, k * n))).toBe(argmax(prefix));
    }
  });

  it('streams a greedy continuation that equals step-by-step argmax, with logprobs', async () => {
    const s = model.createSession();
    const tokens: number[] = [];
    let text = '';
    for await (const t of s.generate('Once upon a time', { temperature: 0, maxTokens: 20 })) {
      tokens.push(t.id);
      text += t.text;
      expect(t.logprob).toBeLessThanOrEqual(0);
    }
    expect(tokens).toHaveLength(20);
    expect(model.detokenize(tokens)).toBe(text);

    const check = model.createSession();
    let logits = check.evaluate(model.tokenize('Once upon a time'));
    for (const t of tokens) {
      expect(argmax(logits)).toBe(t);
      logits = check.evaluate([t]);
    }
  });

  it('reproduces a sampled run exactly from its seed, and differs with another seed', async () => {
    const run = async (seed: number) =>
      (await model.createSession().complete('Once upon a time', { temperature: 0.9, seed, maxTokens: 40 })).tokens;
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it('continues across calls from where it stopped (the KV cache is reused)', async () => {
    const one = model.createSession();
    const whole = await one.complete('Once upon a time', { temperature: 0, maxTokens: 16 });
    const two = model.createSession();
    const first = await two.complete('Once upon a time', { temperature: 0, maxTokens: 8 });
    const second = await two.complete([], { temperature: 0, maxTokens: 8 });
    expect([...first.tokens, ...second.tokens]).toEqual(whole.tokens);
    expect(two.tokens).toEqual(one.tokens);
  });

  it('stops at a stop string without emitting it', async () => {
    const s = model.createSession();
    const free = await s.complete('Once upon a time', { temperature: 0, maxTokens: 40 });
    const stop = free.text.slice(10, 14);
    const stopped = await model.createSession().complete('Once upon a time', { temperature: 0, maxTokens: 40, stop: [stop] });
    expect(stopped.stopReason).toBe('stop');
    expect(stopped.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
  });

  it('honours an AbortSignal and keeps what was generated', async () => {
    const s = model.createSession();
    const ctl = new AbortController();
    const got: number[] = [];
    await expect((async () => {
      for await (const t of s.generate('Once upon a time', { temperature: 0, maxTokens: 100, signal: ctl.signal })) {
        got.push(t.id);
        if (got.length === 5) ctl.abort();
      }
    })()).rejects.toBeInstanceOf(AbortError);
    expect(got).toHaveLength(5);
    expect(s.tokens.slice(-5)).toEqual(got);
  });

  it('rejects a prompt longer than the context with a typed error, losing nothing', () => {
    const s = model.createSession({ contextSize: 8 });
    s.evaluate(model.tokenize('Once upon'));
    const before = s.tokens;
    const e = (() => { try { s.evaluate(model.tokenize('a long time ago there was a girl', { addSpecial: false })); } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(ContextOverflowError);
    expect((e as ContextOverflowError).kind).toBe('context_overflow');
    expect((e as Error).message).toMatch(/holds 8/);
    expect(s.tokens).toEqual(before);
  });

  it('ends generation when the context is full', async () => {
    const s = model.createSession({ contextSize: 12 });
    const r = await s.complete('Once upon a time', { temperature: 0, maxTokens: 100 });
    expect(r.stopReason).toBe('context_full');
    expect(s.position).toBe(12);
  });

  it('rejects bad token ids and options with invalid_argument errors', async () => {
    const s = model.createSession();
    expect(() => s.evaluate([1, 99999])).toThrow(/outside the vocabulary/);
    expect(() => model.createSession({ contextSize: 0 })).toThrow(QuantscopeError);
    await expect(s.complete('x', { topP: 2 })).rejects.toMatchObject({ kind: 'invalid_argument' });
    s.dispose();
    expect(() => s.evaluate([1])).toThrow(/disposed/);
  });
});

describe('model loading errors', () => {
  it('names the tensor and type it cannot run', async () => {
    const src = parseGguf(new Uint8Array(readFileSync(defaultModelPath())));
    const bytes = readFileSync(defaultModelPath());
    const tensors = src.tensors.map((t) => {
      const data = new Uint8Array(bytes.buffer, bytes.byteOffset + t.fileOffset, t.nBytes);
      if (t.name !== 'blk.0.attn_q.weight') return { name: t.name, dims: [...t.dims], type: t.type, data };
      return { name: t.name, dims: [...t.dims], type: 39, data: new Uint8Array((t.dims[0] / 32) * t.dims[1] * 17) }; // MXFP4
    });
    const metadata = [...src.metadata.values()].map((e) => ({ key: e.key, type: e.type, value: e.value, arrayType: e.arrayType }));
    const file = join(tmpdir(), `quantscope-q4_0-${process.pid}.gguf`);
    writeFileSync(file, writeGguf({ metadata, tensors }));
    const err = await loadModel(file).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedTensorTypeError);
    expect(err.message).toMatch(/blk\.0\.attn_q\.weight/);
    expect(err.message).toMatch(/MXFP4/);
  });

  it('refuses architectures it does not implement', async () => {
    const file = join(tmpdir(), `quantscope-arch-${process.pid}.gguf`);
    writeFileSync(file, writeGguf({ metadata: [{ key: 'general.architecture', type: 8, value: 'mamba' }], tensors: [] }));
    await expect(loadModel(file)).rejects.toMatchObject({ kind: 'unsupported_model', message: expect.stringMatching(/mamba/) });
  });

  it('runs a model with tied embeddings (no output.weight)', async () => {
    const m = await loadModel(modelPath('TinyStories-656K.f16.gguf'));
    expect(m.gguf.tensors.some((t) => t.name === 'output.weight')).toBe(false);
    expect(m.loaded.weights.tiedOutput).toBe(true);
    m.dispose();
  });
});

describe('RunState: an allocation that fails releases what was allocated before it', () => {
  const cfg = { nEmbd: 64, nHead: 8, headDim: 8, nHeadKv: 4, nFf: 172, nRot: 8, nVocab: 512 } as LlamaConfig;
  it.each([
    ['the logits (the last buffer)', { ...cfg, nVocab: 2 ** 30 }, 64],
    ['the attention scratch (the job arguments, after every buffer)', cfg, 2 ** 31],
  ] as const)('%s', (_what, c, contextSize) => {
    const { arena } = createEngine();
    const before = arena.bytesInUse;
    expect(() => new RunState(arena, c, 4, contextSize)).toThrow(QuantscopeError);
    expect(arena.bytesInUse).toBe(before);
    // and a RunState that fits still allocates and releases cleanly
    const ok = new RunState(arena, cfg, 4, 64);
    expect(arena.bytesInUse).toBeGreaterThan(before);
    ok.dispose();
    expect(arena.bytesInUse).toBe(before);
  });
});
