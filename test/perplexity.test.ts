/**
 * Perplexity and KL divergence the llama-perplexity way (src/eval/perplexity.ts):
 *
 * - the chunking and scoring arithmetic on synthetic logit sources, where every number can be
 *   worked out by hand;
 * - the kjv-austen fixture files against llama.cpp's own `llama-perplexity -c 128` numbers on
 *   test/fixtures/text/kjv-austen-4l-256d.valid.txt (../shared/models/MODELS.md), on all 342 chunks —
 *   the chunks llama.cpp scored, are in perplexity-full.test.ts;
 * - the `quantscope perplexity` command (spawns the built dist/src/cli/main.js: run `npm run build`
 *   first; `npm test` does).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, type Model } from '../src/model.js';
import { AbortError, QuantscopeError } from '../src/errors.js';
import {
  perplexity, scorePerplexity, sessionLogitSource, planChunks, chunkTokens, readTextFile, vocabularyMismatch,
  type ChunkLogitSource, type PerplexityProgress,
} from '../src/eval/perplexity.js';
import { FIXTURES, ROOT } from './helpers/fixtures.js';

const TEXT = join(FIXTURES, 'text', 'kjv-austen-4l-256d.valid.txt');
const kjv = (type: string) => join(FIXTURES, 'models', `kjv-austen-4l-256d.${type}.gguf`);
const CLI = join(ROOT, 'dist/src/cli/main.js');

import { LLAMA_CPP_CHUNKS, LLAMA_CPP_SCORED } from './helpers/llamacpp-ppl.js';

/** a few chunks of a small model: about a second alone, more on a busy 2-core machine */
const SESSION_TIMEOUT = 60_000;

// ---------------------------------------------------------------- synthetic sources

/** A source that logs the chunks it is given and answers with `rows(chunk, first)`. */
function fakeSource(nVocab: number, rows: (chunk: readonly number[], first: number) => number[][]) {
  const seen: number[][] = [];
  const source: ChunkLogitSource = {
    nVocab,
    chunkLogits(chunk, first) {
      seen.push([...chunk]);
      const r = rows(chunk, first);
      expect(r).toHaveLength(chunk.length - first);
      return Float32Array.from(r.flat());
    },
  };
  return { source, seen };
}

const row = (nVocab: number, f: (v: number) => number) => Array.from({ length: nVocab }, (_, v) => f(v));

describe('chunk plan (llama-perplexity: n_chunk = ⌊n_tokens/n_ctx⌋, scored positions n_ctx/2 … n_ctx−2)', () => {
  it('cuts the kjv text like llama.cpp: 43,820 tokens at -c 128 → 342 chunks × 63 scored = 21,546', () => {
    const p = planChunks(43_820, 128);
    expect(p).toEqual({ contextSize: 128, nChunks: 342, first: 64, scoredPerChunk: 63 });
    expect(p.nChunks * p.scoredPerChunk).toBe(LLAMA_CPP_SCORED);
    expect(planChunks(43_820, 128, 4).nChunks).toBe(4);
    expect(planChunks(43_820, 128, 1000).nChunks).toBe(342);
    // odd contexts: first = ⌊n_ctx/2⌋
    expect(planChunks(10, 5)).toEqual({ contextSize: 5, nChunks: 2, first: 2, scoredPerChunk: 2 });
    expect(planChunks(3, 3)).toEqual({ contextSize: 3, nChunks: 1, first: 1, scoredPerChunk: 1 });
  });

  it('rejects a context that scores nothing, too few tokens for one chunk, and bad chunk counts', () => {
    expect(() => planChunks(100, 2)).toThrow(/at least 3/);
    expect(() => planChunks(100, 0)).toThrow(QuantscopeError);
    expect(() => planChunks(100, 12.5)).toThrow(QuantscopeError);
    expect(() => planChunks(127, 128)).toThrow(/only 127 tokens, fewer than one chunk of 128/);
    expect(() => planChunks(1000, 128, 0)).toThrow(/positive integer/);
  });

  it('puts BOS at the start of every chunk (when the vocabulary adds BOS) without touching the text', () => {
    const tokens = Array.from({ length: 20 }, (_, i) => 100 + i);
    const plan = planChunks(tokens.length, 8);
    expect(chunkTokens(tokens, plan, 0, 1)).toEqual([1, 101, 102, 103, 104, 105, 106, 107]);
    expect(chunkTokens(tokens, plan, 1, 1)).toEqual([1, 109, 110, 111, 112, 113, 114, 115]);
    expect(chunkTokens(tokens, plan, 1, null)).toEqual([108, 109, 110, 111, 112, 113, 114, 115]);
    expect(tokens[8]).toBe(108);
  });
});

describe('scoring on synthetic logits', () => {
  it('a 2-chunk case by hand: PPL and its ± as llama.cpp computes them', async () => {
    // n_ctx 4: first = 2, so each chunk scores one token, the one at position 3, from the logits
    // at position 2. Those logits are [0, ln 2, ln 3]: p = 1/6, 2/6, 3/6.
    const tokens = [1, 0, 0, 2, 0, 0, 1, 0, 2];
    const { source, seen } = fakeSource(3, (chunk, first) =>
      chunk.slice(first).map((_, r) => (r === 0 ? [0, Math.log(2), Math.log(3)] : [5, 5, 5])));
    const r = await scorePerplexity(tokens, source, { contextSize: 4, bosId: 1 });
    expect(seen).toEqual([[1, 0, 0, 2], [1, 0, 1, 0]]); // token 4 (a 0) replaced by BOS; the 9th token dropped
    // scored: chunk 0 position 3 = token 2 (p 1/2), chunk 1 position 7 = token 0 (p 1/6)
    const v = [Math.log(2), Math.log(6)];
    const mean = (v[0]! + v[1]!) / 2;
    expect(r.nChunks).toBe(2);
    expect(r.nTokensScored).toBe(2);
    expect(r.nTokens).toBe(9);
    expect(r.nll).toBeCloseTo(mean, 6);
    expect(r.ppl).toBeCloseTo(Math.sqrt(12), 5);
    const variance = (v[0]! ** 2 + v[1]! ** 2) / 2 - mean ** 2;
    expect(r.pplError).toBeCloseTo(Math.sqrt(variance / 1) * Math.sqrt(12), 5);
    expect(r.kl).toBeUndefined();
  });

  it('scores exactly positions first … n_ctx−2 of every chunk against the next token', async () => {
    // The source gives, at position j, logit a·(j+1) to the token that really comes next in the chunk
    // and 0 to every other: if the scorer read another row or another target, p would differ.
    const V = 11, ctx = 10, a = 0.25;
    const tokens = Array.from({ length: 47 }, (_, i) => (i * 7 + 3) % V);
    tokens[0] = 1;
    const { source, seen } = fakeSource(V, (chunk, first) => chunk.slice(first).map((_, r) => {
      const j = first + r;
      const next = chunk[j + 1];
      return row(V, (v) => (v === next ? a * (j + 1) : 0));
    }));
    const progress: PerplexityProgress[] = [];
    const r = await scorePerplexity(tokens, source, { contextSize: ctx, bosId: 1, perChunk: true, onProgress: (p) => progress.push(p) });
    expect(r.nChunks).toBe(4);
    expect(seen.map((c) => c.length)).toEqual([10, 10, 10, 10]);
    for (const [i, c] of seen.entries()) expect(c).toEqual([1, ...tokens.slice(i * ctx + 1, (i + 1) * ctx)]);
    let expected = 0;
    for (let j = 5; j <= 8; j++) expected += -Math.log(Math.exp(a * (j + 1)) / (Math.exp(a * (j + 1)) + V - 1));
    expect(r.nTokensScored).toBe(4 * 4);
    expect(r.nll).toBeCloseTo(expected / 4, 10);
    expect(r.perChunk!.map((c) => c.chunk)).toEqual([1, 2, 3, 4]);
    for (const c of r.perChunk!) {
      expect(c.nll).toBeCloseTo(expected / 4, 10);
      expect(c.ppl).toBeCloseTo(Math.exp(expected / 4), 8);
    }
    expect(progress.map((p) => [p.chunk, p.nChunks])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(progress.at(-1)!.ppl).toBeCloseTo(r.ppl, 10);
  });

  it('does not replace the first token when the vocabulary adds no BOS', async () => {
    const tokens = [5, 1, 2, 3, 4, 0, 1, 2];
    const { source, seen } = fakeSource(6, (chunk, first) => chunk.slice(first).map(() => row(6, () => 0)));
    const r = await scorePerplexity(tokens, source, { contextSize: 4, bosId: null });
    expect(seen).toEqual([[5, 1, 2, 3], [4, 0, 1, 2]]);
    expect(r.ppl).toBeCloseTo(6, 10); // uniform over 6 tokens
    expect(r.pplError).toBe(0);
  });

  it('KL mode: KL(base‖model), same top token, Δp, and the base PPL, on a hand-worked case', async () => {
    // one scored position per chunk; model p = (1/2, 1/2), base p = (3/4, 1/4); the next token is 1.
    const tokens = [1, 0, 0, 1, 1, 0, 0, 1];
    const model = fakeSource(2, (c, f) => c.slice(f).map(() => [0, 0])).source;
    const base = fakeSource(2, (c, f) => c.slice(f).map(() => [Math.log(3), 0])).source;
    const r = await scorePerplexity(tokens, model, { contextSize: 4, bosId: 1, base });
    const kl = 0.75 * Math.log(0.75 / 0.5) + 0.25 * Math.log(0.25 / 0.5);
    expect(r.ppl).toBeCloseTo(2, 10);
    expect(r.kl!.basePpl).toBeCloseTo(4, 6);
    expect(r.kl!.pplRatio).toBeCloseTo(0.5, 6);
    expect(r.kl!.kld).toBeCloseTo(kl, 7);
    expect(r.kl!.maxKld).toBeCloseTo(kl, 7);
    expect(r.kl!.sameTop).toBe(1); // model's tie goes to the first token, as the base's argmax
    expect(r.kl!.meanDp).toBeCloseTo(0.25, 7);
    expect(r.kl!.rmsDp).toBeCloseTo(0.25, 7);
    expect(r.kl!.maxAbsDp).toBeCloseTo(0.25, 7);
  });

  it('KL mode against itself: KL 0, every top token the same, Δp 0, ratio 1', async () => {
    const V = 17;
    const tokens = Array.from({ length: 64 }, (_, i) => (i * 5) % V);
    const rows = (c: readonly number[], f: number) => c.slice(f).map((_, r) => row(V, (v) => Math.sin(v * 1.3 + r + c[r]!)));
    const r = await scorePerplexity(tokens, fakeSource(V, rows).source, { contextSize: 16, bosId: 1, base: fakeSource(V, rows).source });
    expect(r.nTokensScored).toBe(4 * 7);
    expect(r.kl!.kld).toBeLessThan(1e-12);
    expect(r.kl!.sameTop).toBe(1);
    expect(r.kl!.rmsDp).toBe(0);
    expect(r.kl!.pplRatio).toBeCloseTo(1, 12);
    expect(r.kl!.basePpl).toBeCloseTo(r.ppl, 10);
  });

  it('rejects wrong row counts, mismatched vocabularies and out-of-range tokens; honours an AbortSignal', async () => {
    const tokens = [1, 2, 3, 4, 5, 6, 7, 0];
    const short = fakeSource(8, () => [[0, 0, 0, 0, 0, 0, 0, 0]]);
    short.source.chunkLogits = () => new Float32Array(8);
    await expect(scorePerplexity(tokens, short.source, { contextSize: 4, bosId: 1 })).rejects.toThrow(/expected 16/);
    const ok = fakeSource(8, (c, f) => c.slice(f).map(() => row(8, () => 0))).source;
    const other = fakeSource(9, (c, f) => c.slice(f).map(() => row(9, () => 0))).source;
    await expect(scorePerplexity(tokens, ok, { contextSize: 4, bosId: 1, base: other })).rejects.toThrow(/8 logits .* 9/);
    await expect(scorePerplexity([1, 2, 8, 0], ok, { contextSize: 4, bosId: 1 })).rejects.toThrow(/outside the vocabulary/);

    const abort = new AbortController();
    const long = Array.from({ length: 400 }, (_, i) => i % 8);
    const done: number[] = [];
    const run = scorePerplexity(long, ok, {
      contextSize: 4, bosId: 1, signal: abort.signal,
      onProgress: (p) => { done.push(p.chunk); if (p.chunk === 3) abort.abort(); },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(done).toEqual([1, 2, 3]);
  });
});

// ---------------------------------------------------------------- real models

describe('sessions', () => {
  let q4: Model;
  beforeAll(async () => { q4 = await loadModel(kjv('Q4_0')); }, SESSION_TIMEOUT);
  afterAll(() => q4?.dispose());

  it('sessionLogitSource gives the rows of evaluating the whole chunk with logits: all', async () => {
    const text = await readTextFile(TEXT);
    const tokens = q4.tokenize(text).slice(0, 128);
    const V = q4.config.nVocab;
    const s = q4.createSession({ contextSize: 128 });
    const whole = s.evaluate(tokens, { logits: 'all' }).subarray(64 * V);
    const rows = sessionLogitSource(s).chunkLogits(tokens, 64);
    expect(rows.length).toBe(64 * V);
    expect(Array.from(rows)).toEqual(Array.from(whole));
    s.dispose();
  }, SESSION_TIMEOUT);

  it('the text reads like llama.cpp -f (one trailing newline dropped): 43,820 tokens with BOS', async () => {
    const text = await readTextFile(TEXT);
    expect(text.endsWith('autumn.')).toBe(true);
    const tokens = q4.tokenize(text);
    // llama-tokenize, which keeps the file's last newline (<0x0A>), gives 43,821 (MODELS.md);
    // llama-perplexity's -f drops it. Both cut into 342 chunks of 128.
    expect(tokens.length).toBe(43_820);
    expect(q4.tokenize(text + '\n').length).toBe(43_821);
    expect(tokens[0]).toBe(1);
    await expect(readTextFile(join(FIXTURES, 'text', 'missing.txt'))).rejects.toThrow(/cannot read the text file .*missing\.txt: no such file/);
  }, SESSION_TIMEOUT);

  it('perplexity(): --chunks 4 on Q4_0, the first chunks of the full run; running PPL per chunk', async () => {
    const text = await readTextFile(TEXT);
    const r = await perplexity(q4, text, { contextSize: 128, maxChunks: 4, perChunk: true });
    expect(r.nChunks).toBe(4);
    expect(r.nTokensScored).toBe(4 * 63);
    expect(r.nTokens).toBe(43_820);
    expect(r.perChunk).toHaveLength(4);
    expect(r.perChunk!.at(-1)!.ppl).toBeCloseTo(r.ppl, 10);
    const two = await perplexity(q4, text, { contextSize: 128, maxChunks: 2 });
    expect(two.ppl).toBeCloseTo(r.perChunk![1]!.ppl, 10);
    expect(r.ppl).toBeGreaterThan(5);
    expect(r.ppl).toBeLessThan(200);
  }, SESSION_TIMEOUT);

  it('refuses to compare models with different vocabularies, and a text shorter than one chunk', async () => {
    const tiny = await loadModel(join(FIXTURES, 'models', 'TinyStories-656K.f16.gguf'));
    try {
      expect(vocabularyMismatch(q4, tiny)).toMatch(/4096 vs 2048 tokens/);
      expect(vocabularyMismatch(q4, q4)).toBeNull();
      await expect(perplexity(q4, 'And it came to pass', { contextSize: 4, klBase: tiny })).rejects.toThrow(/different vocabularies/);
    } finally {
      tiny.dispose();
    }
    await expect(perplexity(q4, 'And it came to pass', { contextSize: 128 })).rejects.toThrow(/only 6 tokens, fewer than one chunk of 128/);
  }, SESSION_TIMEOUT);
});

// ---------------------------------------------------------------- CLI

describe('quantscope perplexity (CLI)', () => {
  let tempDir = '';
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    tempDir = mkdtempSync(join(tmpdir(), 'quantscope-ppl-'));
  });
  afterAll(() => { if (tempDir) rmSync(tempDir, { recursive: true, force: true }); });

  const cli = (args: readonly string[]) => {
    const r = spawnSync(process.execPath, [CLI, 'perplexity', ...args], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    if (r.error) throw r.error;
    return r;
  };
  const TEXT_REL = 'test/fixtures/text/kjv-austen-4l-256d.valid.txt';
  const Q4_REL = 'test/fixtures/models/kjv-austen-4l-256d.Q4_0.gguf';

  it('prints the running PPL per chunk on stderr and `PPL = x +/- y` on stdout', () => {
    const r = cli(['-m', Q4_REL, '-f', TEXT_REL, '--ctx', '128', '--chunks', '4']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^PPL = \d+\.\d{4} \+\/- \d+\.\d{5}\n$/);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^loaded kjv-austen-4l-256d\.Q4_0\.gguf: [\d.]+ MiB of weights in \d+ ms$/);
    expect(lines[1]).toMatch(/^perplexity: 4 chunks of 128 tokens, [\d.]+ s per chunk, ETA \d+ s$/);
    expect(lines[2]).toMatch(/^\[1\]\d+\.\d{4},\[2\]\d+\.\d{4},\[3\]\d+\.\d{4},\[4\]\d+\.\d{4},$/);
    expect(lines[3]).toMatch(/^252 of 43820 tokens scored in 4 chunks; /);
    // the last running value is the final PPL
    expect(lines[2]!.match(/\[4\](\d+\.\d{4}),$/)![1]).toBe(r.stdout.match(/^PPL = (\d+\.\d{4})/)![1]);
  }, 120_000);

  it('--json: the result as JSON, with the per-chunk running PPL', () => {
    const r = cli(['-m', Q4_REL, '-f', TEXT_REL, '-c', '128', '--chunks', '2', '--batch', '16', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ nChunks: 2, nTokensScored: 126, nTokens: 43_820, contextSize: 128, batchSize: 16, file: TEXT_REL, model: Q4_REL });
    expect(j.perChunk).toHaveLength(2);
    expect(j.perChunk[1].ppl).toBeCloseTo(j.ppl, 10);
    expect(j.ppl).toBeCloseTo(Math.exp(j.nll), 10);
    expect(j.pplError).toBeGreaterThan(0);
    expect(j.kl).toBeUndefined();
  }, 120_000);

  it('--kl-base: the KL statistics after the PPL', () => {
    const r = cli(['-m', 'test/fixtures/models/kjv-austen-4l-256d.Q8_0.gguf', '-f', TEXT_REL, '-c', '128', '--chunks', '2',
      '--kl-base', 'test/fixtures/models/kjv-austen-4l-256d.Q4_0.gguf']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[0]).toMatch(/^PPL = \d+\.\d{4} \+\/- \d+\.\d{5}$/);
    expect(lines[1]).toMatch(/^PPL\(base\) = \d+\.\d{4} \+\/- \d+\.\d{5}$/);
    expect(lines[2]).toMatch(/^PPL\(Q\)\/PPL\(base\) = \d+\.\d{6} \+\/- \d+\.\d{6}$/);
    expect(lines[3]).toMatch(/^Mean KLD = \d+\.\d{6} \+\/- \d+\.\d{6}$/);
    expect(lines[4]).toMatch(/^Maximum KLD = \d+\.\d{6}$/);
    expect(lines[5]).toMatch(/^Mean Δp = -?\d+\.\d{3} \+\/- \d+\.\d{3} %$/);
    expect(lines[6]).toMatch(/^RMS Δp = \d+\.\d{3} \+\/- \d+\.\d{3} %$/);
    expect(lines[7]).toMatch(/^Same top p = \d+\.\d{3} \+\/- \d+\.\d{3} %$/);
    expect(r.stderr).toMatch(/^loaded kjv-austen-4l-256d\.Q8_0\.gguf: .*\nloaded kjv-austen-4l-256d\.Q4_0\.gguf: /);
  }, 120_000);

  const expectError = (r: ReturnType<typeof cli>, message: RegExp) => {
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at\s/m); // no stack trace
  };

  it('errors exit 1 with a clear message: missing text, short text, small ctx, different vocabularies, missing model', () => {
    expectError(cli(['-m', Q4_REL, '-f', 'no/such/text.txt']), /^quantscope: cannot read the text file no\/such\/text\.txt: no such file\n$/);
    const short = join(tempDir, 'short.txt');
    writeFileSync(short, 'And it came to pass\n');
    expectError(cli(['-m', Q4_REL, '-f', short, '--ctx', '128']), /^quantscope: the text tokenizes to only 6 tokens, fewer than one chunk of 128/m);
    expectError(cli(['-m', Q4_REL, '-f', TEXT_REL, '--ctx', '2']), /^quantscope: the perplexity context must be an integer of at least 3 tokens/m);
    expectError(cli(['-m', Q4_REL, '-f', TEXT_REL, '--ctx', '128', '--kl-base', 'test/fixtures/models/TinyStories-656K.f16.gguf']),
      /^quantscope: .*Q4_0\.gguf and the KL base .*TinyStories-656K\.f16\.gguf have different vocabularies \(4096 vs 2048 tokens\)/m);
    expectError(cli(['-m', 'no/such/model.gguf', '-f', TEXT_REL]), /^quantscope: .*no\/such\/model\.gguf/m);
    expectError(cli(['-m', Q4_REL]), /required option '-f, --file <file>' not specified/);
  }, 120_000);
});
