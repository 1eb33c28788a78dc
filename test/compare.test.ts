// `compare` (src/compare, `quantscope compare`): the report's numbers against llama.cpp's reference
// outputs for the same files and prompt, against the engine's own independent measurements, the
// metrics on hand-made vectors, and the CLI's terminal, JSON and Markdown outputs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, QuantscopeError } from '../src/index.js';
import {
  compareFiles, compareModels, cosineSimilarity, relativeRmsError, klDivergence, logSoftmax, topK, overlapFraction,
  findAnomalies, type CompareReport,
} from '../src/compare/index.js';
import { formatCompareMarkdown, formatCompareText } from '../src/compare/render-text.js';
import { llamaCppProvider } from '../src/compare/llamacpp-provider.js';
import { collectStats } from '../src/stats/index.js';
import { ROOT, modelPath, readJsonFixture, FIXTURES, type ReferenceCase } from './helpers/fixtures.js';

const FORMATS = ['F16', 'Q8_0', 'Q4_K_M', 'Q4_0', 'Q2_K'] as const;
const kjv = (f: string) => modelPath(`kjv-austen-4l-256d.${f}.gguf`);
const refCase = (f: string, c: string) => readJsonFixture<ReferenceCase>(join(FIXTURES, 'reference', `kjv-austen-4l-256d.${f}`, `${c}.json`));
const PROMPT = 'And it came to pass';
const N_PREDICT = 12;

/**
 * Bounds against llama.cpp's reference JSONs (../shared/reference, copied to test/fixtures). The
 * engine reproduces these files' logits to ≤ 1e-4 (test/reference.test.ts) and their tensors' rms
 * and mean to f32 rounding: rms 0.5% relative and mean 1e-4 absolute are the bounds for the
 * tables. Logits: 1e-3 absolute; KL of two distributions built from logits that each sit within
 * 1e-4 of llama.cpp's moves by at most ~2·1e-4 times the mean |Δlog p| — 1e-5 relative to the KL
 * plus 1e-7 absolute covers it (measured: see the test's message).
 */
const RMS_REL = 5e-3;
const MEAN_ABS = 1e-4;
const LOGIT_ABS = 1e-3;

function refStat(ref: ReferenceCase, name: string) {
  const t = ref.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no ${name} in ${ref.model}`);
  return t;
}

describe('compare on kjv F16 / Q8_0 / Q4_K_M / Q4_0 / Q2_K, "And it came to pass"', () => {
  let report: CompareReport;
  const refs = FORMATS.map((f) => refCase(f, 'came'));
  beforeAll(async () => {
    report = await compareFiles(FORMATS.map(kjv), { prompt: PROMPT, nPredict: N_PREDICT });
  }, 60_000);

  it('uses the prompt tokens llama.cpp used and picks F16 as the base', () => {
    expect(report.tokens.map((t) => t.id)).toEqual(refs[0].tokens);
    report.files.forEach((f) => expect(f.promptTokens).toEqual(refs[0].tokens));
    expect(report.baseIndex).toBe(0);
    expect(report.files.map((f) => f.file.format)).toEqual([...FORMATS]);
    expect(report.files[0].file.bitsPerWeight).toBeGreaterThan(16);
    expect(report.files[1].file.bitsPerWeight).toBeCloseTo(8.51, 2);
  });

  it('next token per file: llama.cpp\'s argmax, logit and rank in every file\'s distribution', () => {
    report.files.forEach((f, i) => {
      const ref = refs[i];
      expect(f.next.id, f.file.name).toBe(ref.logits_argmax);
      expect(Math.abs(f.next.logit - ref.logits[f.next.id])).toBeLessThanOrEqual(LOGIT_ABS);
      f.next.rankIn.forEach((rank, j) => {
        const l = refs[j].logits;
        const x = l[f.next.id];
        expect(rank, `rank of ${f.next.id} in ${FORMATS[j]}`).toBe(1 + l.filter((v) => v > x).length);
      });
      expect(f.next.top[0].id).toBe(f.next.id);
      expect(f.next.top.map((t) => t.id)).toEqual(topK(ref.logits, report.topK));
    });
  });

  it('per-layer tables: llama.cpp\'s l_out and ffn_gate_par rms and mean for every file', () => {
    expect(report.layers).toEqual([0, 1, 2, 3]);
    report.files.forEach((f, i) => {
      f.layers.forEach((row) => {
        const out = refStat(refs[i], `l_out-${row.layer}`);
        const glu = refStat(refs[i], `ffn_gate_par-${row.layer}`);
        expect(Math.abs(row.outputRms / out.rms - 1), `${FORMATS[i]} l_out-${row.layer}`).toBeLessThanOrEqual(RMS_REL);
        expect(Math.abs(row.mean - out.mean)).toBeLessThanOrEqual(MEAN_ABS);
        expect(Math.abs(row.swigluRms / glu.rms - 1)).toBeLessThanOrEqual(RMS_REL);
        expect(Math.abs(row.swigluMean - glu.mean)).toBeLessThanOrEqual(MEAN_ABS);
        if (row.layer > 0) expect(Math.abs(row.inputRms / refStat(refs[i], `l_out-${row.layer - 1}`).rms - 1)).toBeLessThanOrEqual(RMS_REL);
      });
    });
  });

  it('next-token KL and top-k overlap against the base equal those of llama.cpp\'s logits', () => {
    const base = logSoftmax(refs[0].logits);
    report.files.forEach((f, i) => {
      if (i === 0) { expect(f.agreement).toBeNull(); return; }
      const kl = klDivergence(base, logSoftmax(refs[i].logits));
      expect(Math.abs(f.agreement!.kl - kl), `${FORMATS[i]} KL ${f.agreement!.kl} vs llama.cpp's ${kl}`).toBeLessThanOrEqual(1e-5 * kl + 1e-7);
      expect(f.agreement!.topKOverlap).toBe(overlapFraction(topK(refs[0].logits, 10), topK(refs[i].logits, 10)));
      expect(f.agreement!.sameTop1).toBe(refs[i].logits_argmax === refs[0].logits_argmax);
    });
    // quantization noise orders the files as their bits per weight do
    const kls = report.files.slice(1).map((f) => f.agreement!.kl);
    expect(kls[0]).toBeLessThan(kls[1]);
    expect(kls[3]).toBeGreaterThan(kls[1]);
  });

  it('greedy continuations are llama.cpp\'s, and partsAt is where they leave the base\'s', () => {
    report.files.forEach((f, i) => {
      expect(f.continuation!.ids, FORMATS[i]).toEqual(refs[i].greedy.tokens.slice(0, N_PREDICT));
      const base = refs[0].greedy.tokens.slice(0, N_PREDICT);
      const j = f.continuation!.ids.findIndex((id, k) => id !== base[k]);
      expect(f.continuation!.partsAt).toBe(j < 0 ? null : j);
    });
    expect(report.files[0].continuation!.text).toBe(", when the people were come to the king, that they");
  });

  it('divergence per layer equals cosine and relative RMS of l_out collected independently', async () => {
    const hidden = async (path: string) => {
      const m = await loadModel(path);
      try {
        const r = collectStats(m.createSession({ contextSize: 16 }), refs[0].tokens, { taps: ['l_out'], keepValues: true });
        return [0, 1, 2, 3].map((l) => r.get('l_out', l)!.values!);
      } finally { m.dispose(); }
    };
    const base = await hidden(kjv('F16'));
    for (const i of [1, 4]) {
      const h = await hidden(kjv(FORMATS[i]));
      report.files[i].divergence.forEach((d, l) => {
        expect(d.layer).toBe(l);
        expect(d.relRms).toBeCloseTo(relativeRmsError(h[l], base[l]), 12);
        expect(d.cosine).toBeCloseTo(cosineSimilarity(h[l], base[l]), 12);
      });
    }
    expect(report.files[0].divergence).toEqual([]);
    // more bits, less divergence: Q8_0 < Q4_K_M < Q2_K at every layer
    for (let l = 0; l < 4; l++) {
      const rel = [1, 2, 4].map((i) => report.files[i].divergence[l].relRms);
      expect(rel[0]).toBeLessThan(rel[1]);
      expect(rel[1]).toBeLessThan(rel[2]);
    }
  }, 30_000);

  it('is plain JSON: a round trip keeps it whole', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('terminal and Markdown reports show the numbers and the ⚠ legend', () => {
    const text = formatCompareText(report);
    const md = formatCompareMarkdown(report);
    for (const out of [text, md]) {
      expect(out).toContain('Output RMS (l_out)');
      expect(out).toContain('SwiGLU mean (ffn_gate_par)');
      expect(out).toContain(report.files[2].layers[3].outputRms.toFixed(6));
      expect(out).toContain(report.files[3].layers[1].swigluMean.toFixed(6));
      expect(out).toContain('divergence-jump');
      expect(out).toContain('", when the people were come to the king, that they"');
      for (const f of FORMATS) expect(out).toContain(`kjv-austen-4l-256d.${f}.gguf`);
    }
    expect(md).toMatch(/^# quantscope compare: F16 vs Q8_0 vs Q4_K_M vs Q4_0 vs Q2_K/);
    expect(md).toMatch(/\| layer \| F16 \| Q8_0 \| Q4_K_M \| Q4_0 \| Q2_K \|\n\| --- \| ---: \| ---: \| ---: \| ---: \| ---: \|/);
  });
});

describe('compare: choices and errors', () => {
  it('comparing a file with itself gives zero divergence, zero KL, full overlap', async () => {
    const m = await loadModel(kjv('Q4_0'));
    try {
      const r = await compareModels([m, m], { prompt: 'Hello', topK: 5 });
      const d = r.files[1].divergence;
      expect(d.every((x) => x.relRms === 0 && Math.abs(x.cosine - 1) < 1e-12)).toBe(true);
      expect(r.files[1].agreement).toEqual({ kl: 0, topKOverlap: 1, sameTop1: true });
      expect(r.files[1].next.top).toHaveLength(5);
      expect(r.anomalies.filter((a) => a.rule === 'next-token' || a.rule === 'divergence-jump')).toEqual([]);
    } finally { m.dispose(); }
  });

  it('--base and layer selection', async () => {
    const r = await compareFiles([kjv('Q4_0'), kjv('Q8_0')], { prompt: 'Hello', base: 0, layers: [1, 3] });
    expect(r.baseIndex).toBe(0);
    expect(r.layers).toEqual([1, 3]);
    expect(r.files[1].divergence.map((d) => d.layer)).toEqual([1, 3]);
    expect(r.files[1].continuation).toBeNull();
  });

  it('refuses files with different vocabularies, one file, bad layers and bad base', async () => {
    const err = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(QuantscopeError);
    await expect(compareFiles([kjv('Q4_0'), modelPath('stories260K.gguf')], { prompt: 'Hi' })).rejects.toThrow(/different vocabularies/);
    await expect(compareFiles([kjv('Q4_0')], { prompt: 'Hi' })).rejects.toThrow(/at least two/);
    await expect(compareFiles([kjv('Q4_0'), kjv('Q8_0')], { prompt: 'Hi', layers: [7] })).rejects.toThrow(/layer 7 does not exist/);
    await err(compareFiles([kjv('Q4_0'), kjv('Q8_0')], { prompt: 'Hi', base: 2 }));
  });
});

describe('anomaly rules of the comparison', () => {
  const row = (layer: number) => ({ layer, pos: 0, inputRms: 1, outputRms: 1.2, mean: 0, swigluRms: 0.2, swigluMean: 0, anomalies: [] });
  const file = (rel: number[], nextId = 5) => ({
    file: { path: 'x', name: 'x', format: 'Q4_0', tensorTypes: {}, weightBytes: 1, bitsPerWeight: 4.5 },
    promptTokens: [1], next: { id: nextId, text: 't', logit: 1, prob: 0.5, rank: 1, rankIn: [1, 1], top: [] },
    layers: rel.map((_, l) => row(l)), divergence: rel.map((relRms, layer) => ({ layer, relRms, cosine: 1 })),
    agreement: { kl: 0, topKOverlap: 1, sameTop1: nextId === 5 }, continuation: null,
  });
  it('divergence-jump: > 2× the previous layer and above 5%', () => {
    const base = file([]);
    const a = findAnomalies([base, file([0.01, 0.03, 0.04, 0.2])], 0);
    expect(a.map((x) => [x.layer, x.rule])).toEqual([[3, 'divergence-jump']]); // 0.01→0.03 is 3× but under 5%
    expect(findAnomalies([base, file([0.1, 0.19, 0.3])], 0)).toEqual([]);
  });
  it('next-token: the file\'s greedy token is not the base\'s', () => {
    const a = findAnomalies([file([]), file([0.01], 7)], 0);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ file: 1, layer: null, rule: 'next-token' });
  });
});

describe('metrics on hand-made vectors', () => {
  it('cosine, relative RMS error, KL, top-k', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2], [2, 4])).toBeCloseTo(1, 15);
    expect(relativeRmsError([1, 1], [1, 0])).toBe(1);
    expect(relativeRmsError([3, 4], [3, 4])).toBe(0);
    const p = logSoftmax([0, Math.log(3)]); // [1/4, 3/4]
    const q = logSoftmax([0, 0]);
    expect(klDivergence(p, q)).toBeCloseTo(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), 14);
    expect(topK([3, 9, 1, 9, 5], 3)).toEqual([1, 3, 4]);
    expect(overlapFraction([1, 2, 3], [3, 4, 1])).toBeCloseTo(2 / 3, 15);
  });
});

// ---------------------------------------------------------------- CLI (spawns dist/; `npm test` builds it first)

describe('quantscope compare (CLI)', () => {
  const CLI = join(ROOT, 'dist/src/cli/main.js');
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'qs-compare-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'compare', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

  it('writes JSON, Markdown and HTML files and prints the terminal tables', async () => {
    const files = ['F16', 'Q4_K_M', 'Q4_0'].map((f) => `test/fixtures/models/kjv-austen-4l-256d.${f}.gguf`);
    const out = { json: join(dir, 'r.json'), md: join(dir, 'r.md'), html: join(dir, 'r.html') };
    const r = run([...files.flatMap((f) => ['-m', f]), '-p', PROMPT, '-n', '8', '--layers', '0,3',
      '--json', out.json, '--markdown', out.md, '--html', out.html]);
    expect(r.stderr).not.toMatch(/^\s+at\s/m);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('== Next token ==');
    expect(r.stderr).toContain(`wrote the JSON report to ${out.json}`);

    const json = JSON.parse(readFileSync(out.json, 'utf8')) as CompareReport;
    const api = await compareFiles(files.map((f) => join(ROOT, f)), { prompt: PROMPT, nPredict: 8, layers: [0, 3] });
    expect(json.layers).toEqual([0, 3]);
    expect(json.files.map((f) => f.next)).toEqual(api.files.map((f) => f.next));
    expect(json.files.map((f) => f.divergence)).toEqual(api.files.map((f) => f.divergence));
    expect(json.files.map((f) => f.layers)).toEqual(api.files.map((f) => f.layers));
    expect(json.files[0].continuation!.ids).toEqual(refCase('F16', 'came').greedy.tokens.slice(0, 8));

    const md = readFileSync(out.md, 'utf8');
    expect(md).toContain('## Output RMS (l_out)');
    expect(md).toContain(`| 3 | ${api.files[0].layers[1].outputRms.toFixed(6)} |`);
    const html = readFileSync(out.html, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).toContain('kjv-austen-4l-256d.Q4_K_M.gguf');
  }, 90_000);

  it('--json without a file goes to stdout; errors are one clear line', () => {
    const r = run(['-m', 'test/fixtures/models/kjv-austen-4l-256d.Q8_0.gguf', '-m', 'test/fixtures/models/kjv-austen-4l-256d.Q4_0.gguf', '-p', 'Hello', '-n', '0', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as CompareReport;
    expect(j.baseIndex).toBe(0);
    expect(j.files[1].file.format).toBe('Q4_0');

    const one = run(['-m', 'test/fixtures/models/kjv-austen-4l-256d.Q8_0.gguf', '-p', 'Hello']);
    expect(one.status).toBe(1);
    expect(one.stderr).toBe('quantscope: compare needs at least two models (-m a.gguf -m b.gguf), got 1\n');
    const ref = run(['-m', 'test/fixtures/models/kjv-austen-4l-256d.Q8_0.gguf', '-m', 'test/fixtures/models/kjv-austen-4l-256d.Q4_0.gguf', '--reference', 'vllm']);
    expect(ref.status).toBe(1);
    expect(ref.stderr).toMatch(/^quantscope: --reference: unknown engine 'vllm'/);
  }, 60_000);
});

// ---------------------------------------------------------------- --reference llama.cpp (node-llama-cpp in a child process)

describe('compare with llama.cpp as reference (node-llama-cpp 3.21.1)', () => {
  it('puts llama.cpp\'s next token, distribution and greedy tokens beside ours, and they agree', async () => {
    const formats = ['F16', 'Q8_0', 'Q4_0'];
    const report = await compareFiles(formats.map(kjv), {
      prompt: PROMPT, nPredict: N_PREDICT, reference: llamaCppProvider({ threads: 1 }),
    });
    report.files.forEach((f, i) => {
      const ref = f.reference!;
      expect('error' in ref, formats[i]).toBe(false);
      if ('error' in ref) return;
      expect(ref.engine).toMatch(/^node-llama-cpp 3\.21\.1/);
      expect(ref.top[0].id).toBe(f.next.id);
      expect(ref.nextAgrees).toBe(true);
      expect(ref.greedy).toEqual(f.continuation!.ids);
      expect(ref.greedyPartsAt).toBeNull();
      // the bound test/reference.test.ts holds the engine to against llama.cpp's JSON logits
      expect(ref.kl!).toBeLessThan(1e-4);
      expect(Math.abs(ref.top[0].prob - f.next.prob)).toBeLessThan(1e-3);
    });
    expect(report.anomalies.filter((a) => a.rule === 'reference')).toEqual([]);
    expect(formatCompareText(report)).toMatch(/llama\.cpp/);
  }, 120_000);

  it('with an F16 KV cache (--kv-type f16) llama.cpp runs one too, and the two agree as closely', async () => {
    const formats = ['Q8_0', 'Q4_0'];
    const report = await compareFiles(formats.map(kjv), {
      prompt: PROMPT, nPredict: N_PREDICT, kvType: 'f16', reference: llamaCppProvider({ threads: 1 }),
    });
    report.files.forEach((f, i) => {
      const ref = f.reference!;
      expect('error' in ref, formats[i]).toBe(false);
      if ('error' in ref) return;
      expect(ref.greedy).toEqual(f.continuation!.ids);
      // an F32 reference against our F16 cache would differ by KL ~1e-4 (test/kv-f16.test.ts)
      expect(ref.kl!, formats[i]).toBeLessThan(1e-6);
    });
  }, 120_000);

  it('a file llama.cpp cannot run gets its error in its own column; the others still get answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-ref-'));
    try {
      const broken = join(dir, 'truncated.gguf');
      writeFileSync(broken, readFileSync(kjv('Q4_0')).subarray(0, 200_000));
      const job = (modelPath: string) => ({ modelPath, tokens: [1, 342, 333], prompt: PROMPT, nPredict: 2, topK: 3 });
      const answers = await llamaCppProvider({ threads: 1 })([job(kjv('Q8_0')), job(broken), job(kjv('Q4_0'))]);
      expect(answers).toHaveLength(3);
      expect('error' in answers[0]).toBe(false);
      expect('error' in answers[1] && answers[1].error).toMatch(/truncated\.gguf/);
      expect('error' in answers[2]).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the CLI says how to install node-llama-cpp when it is missing, before measuring anything', () => {
    const CLI = join(ROOT, 'dist/src/cli/main.js');
    const r = spawnSync(process.execPath, [CLI, 'compare', '-m', `test/fixtures/models/kjv-austen-4l-256d.Q8_0.gguf`,
      '-m', 'test/fixtures/models/kjv-austen-4l-256d.Q4_0.gguf', '-p', 'Hello', '--reference', 'llama.cpp'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, QUANTSCOPE_LLAMACPP_MODULE: 'no-such-module-xyz' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('quantscope: --reference llama.cpp needs node-llama-cpp, which is not installed; install it next to quantscope with `npm i -E node-llama-cpp@3.21.1`\n');
    expect(r.stdout).toBe('');
  }, 60_000);
});
