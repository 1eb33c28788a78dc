// The bench's building blocks (tensor mixes, synthesized weights, the model cache, the bandwidth
// kernel) and a `--quick` smoke run of the e2e bench: the report must be well formed — every format
// row with positive numbers for both quantscope kernel sets, sizes that match the files, the text and
// Markdown tables a line per format and kernel set. Speed itself is not asserted.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGguf } from '../src/gguf/reader.js';
import { ggmlTypeName } from '../src/quant/ggml-types.js';
import { createEngine, relaxedSimdUsable } from '../src/wasm/instance.js';
import { BENCH_FTYPES, BENCH_FTYPE_NAMES, QUICK, TINYLLAMA, planTensors, useMoreBits, type BenchFtype } from '../bench/format-mix.js';
import { cacheFileName, ensureBenchModel } from '../bench/model-cache.js';
import { WEIGHT_STD, f16Bits, tensorData } from '../bench/synth-weights.js';
import type { E2eReport, EngineOutcome } from '../bench/e2e.bench.js';
import { formatE2eMarkdown, formatE2eText } from '../bench/e2e-report.js';
import { RELAXED_SIMD_FLAG, runtimeHasRelaxedSimd } from '../bench/speed-run.js';
import { FIXTURES, ROOT } from './helpers/fixtures.js';
import { parseE2eOptions } from '../bench/e2e-options.js';
import { probeBandwidth } from '../bench/bandwidth.bench.js';

const run = promisify(execFile);
const cacheDir = mkdtempSync(join(tmpdir(), 'quantscope-bench-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('llama-quantize tensor mixes', () => {
  it('use_more_bits picks 10 of 22 layers, as llama.cpp does for TinyLlama', () => {
    const picked = Array.from({ length: 22 }, (_, i) => i).filter((i) => useMoreBits(i, 22));
    expect(picked).toEqual([0, 1, 4, 7, 10, 13, 16, 19, 20, 21]);
    const q4km = planTensors(TINYLLAMA, 'Q4_K_M');
    const type = (name: string) => ggmlTypeName(q4km.find((t) => t.name === name)!.type);
    for (let l = 0; l < 22; l++) {
      const want = picked.includes(l) ? 'Q6_K' : 'Q4_K';
      expect([type(`blk.${l}.attn_v.weight`), type(`blk.${l}.ffn_down.weight`)]).toEqual([want, want]);
      expect(type(`blk.${l}.attn_q.weight`)).toBe('Q4_K');
    }
    expect([type('token_embd.weight'), type('output.weight'), type('output_norm.weight')]).toEqual(['Q4_K', 'Q6_K', 'F32']);
  });

  // the kjv fixtures were made by llama-quantize: the plan for their shape must give their tensor types
  for (const ftype of BENCH_FTYPE_NAMES) {
    it(`matches llama-quantize's ${ftype} file of the kjv fixture`, async () => {
      const file = await readGguf(join(FIXTURES, 'models', `kjv-austen-4l-256d.${ftype}.gguf`));
      expect(file.metadata.get('general.file_type')?.value).toBe(BENCH_FTYPES[ftype].fileType);
      const shape = { ...QUICK, nLayer: 4, nEmbd: 256, nFf: 768, nHead: 8, nHeadKv: 4, nVocab: 4096 };
      const planned = new Map(planTensors(shape, ftype).map((t) => [t.name, ggmlTypeName(t.type)]));
      expect(new Map(file.tensors.map((t) => [t.name, ggmlTypeName(t.type)]))).toEqual(planned);
    });
  }
});

describe('synthesized weights', () => {
  it('f16Bits rounds to nearest even, subnormals included', () => {
    expect([f16Bits(1), f16Bits(-2), f16Bits(65504), f16Bits(1e6), f16Bits(2 ** -24), f16Bits(2 ** -26), f16Bits(1 + 2 ** -11)])
      .toEqual([0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x3c00]);
    expect(f16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f16Bits(6.1e-5 / 4)).toBe(0x0100);
  });

  for (const name of ['F16', 'Q8_0', 'Q6_K', 'Q5_K', 'Q4_K', 'Q4_0']) {
    it(`${name} matrices dequantize to values of std ≈ ${WEIGHT_STD}, finite, reproducibly`, () => {
      const typeId = [0, 1, 2, 8, 12, 13, 14].find((id) => ggmlTypeName(id) === name)!;
      const cols = 1024;
      const rows = 64;
      const chunks = [...tensorData(typeId, rows * cols, 7)].map((c) => c.slice());
      const again = Buffer.concat([...tensorData(typeId, rows * cols, 7)].map((c) => c.slice()));
      const bytes = Buffer.concat(chunks);
      expect(Buffer.compare(bytes, again)).toBe(0);
      const engine = createEngine();
      const w = engine.arena.alloc(bytes.byteLength);
      engine.arena.bytes(w, bytes.byteLength).set(bytes);
      const out = engine.arena.alloc(rows * cols * 4);
      const fmt = engine.formats.get(typeId)!;
      const rowBytes = bytes.byteLength / rows;
      for (let r = 0; r < rows; r++) fmt.dequantize(w + r * rowBytes, out + r * cols * 4, cols);
      const v = engine.arena.f32(out, rows * cols);
      let s = 0, s2 = 0;
      let bad = 0;
      for (const x of v) { if (!Number.isFinite(x)) bad++; s += x; s2 += x * x; }
      expect(bad).toBe(0);
      const std = Math.sqrt(s2 / v.length - (s / v.length) ** 2);
      expect(std).toBeGreaterThan(WEIGHT_STD * 0.85);
      expect(std).toBeLessThan(WEIGHT_STD * 1.15);
    });
  }

  it('norm vectors (F32) are ≈ 1', () => {
    const [chunk] = [...tensorData(0, 2048, 3)];
    const v = new Float32Array(chunk.buffer, chunk.byteOffset, 2048);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...v)).toBeLessThan(1.1);
  });
});

describe('model cache', () => {
  it('refuses to start a file the disk has no room for, and says what to do', async () => {
    // ~21 TB of F16 layers: more than any test machine's free space, so nothing is written
    const huge = { ...TINYLLAMA, name: 'huge', nLayer: 2500, nEmbd: 16384, nFf: 65536, nHead: 128, nHeadKv: 16 };
    const dir = join(cacheDir, 'huge');
    await expect(ensureBenchModel(huge, 'F16', dir)).rejects.toThrow(/not enough disk space in .*huge.*needs .* GB.*free.*--cache-dir/s);
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
  });
});

describe('bandwidth probe kernel', () => {
  it('the probe reads on the threads asked for', async () => {
    for (const threads of [1, 2]) {
      const r = await probeBandwidth({ bytes: 8 * 2 ** 20, passes: 2, threads });
      expect(r.threads).toBe(threads);
      expect(r.runs).toHaveLength(2);
      expect(Math.min(...r.runs)).toBeGreaterThan(0);
    }
  });

  it('stream_sum and its scalar twin agree, for any length and offset', () => {
    const { exports: k, arena } = createEngine();
    const n = 1 << 16;
    const p = arena.alloc(n + 64);
    const b = arena.bytes(p, n + 64);
    for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
    const simd = k.stream_sum as (p: number, n: number) => number;
    const generic = k.stream_sum_generic as (p: number, n: number) => number;
    for (const [off, len] of [[0, n], [3, n - 5], [1, 63], [0, 0], [17, 1000]]) {
      expect(simd(p + off, len)).toBe(generic(p + off, len));
    }
    let words = 0;
    for (let i = 0; i < 64; i += 4) words = (words + (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24))) | 0;
    expect(simd(p, 66)).toBe((words + b[64] + b[65]) | 0);
  });
});

describe('e2e bench options', () => {
  it('threads default to one per core, for both engines; --threads sets them', () => {
    expect(parseE2eOptions(['--e2e']).threads).toBe(availableParallelism());
    expect(parseE2eOptions(['--e2e', '--threads', '3']).threads).toBe(3);
  });
});

describe('npm run bench -- --e2e --quick', () => {
  let report: E2eReport;
  // the bench's process is a plain `node` like this one: its auto is this process's, the other set the second child's
  const auto = relaxedSimdUsable() ? 'relaxed' : 'simd128';
  const other = auto === 'relaxed' ? 'simd128' : 'relaxed';
  // one thread for both engines: the suite runs other files on the other core, and llama.cpp's threads
  // wait for each other on a busy machine (the bench's default is one per core: e2e-options.ts)
  const threads = 1;
  const engineName = { relaxed: 'WASM relaxed SIMD', simd128: 'WASM SIMD128' };

  beforeAll(async () => {
    // a stale temporary file of a killed run (pid 2^22 + 1 is above Linux's pid_max): the cache removes it
    writeFileSync(join(cacheDir, `${cacheFileName(QUICK, 'Q4_0')}.tmp-4194305`), 'partial');
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist', 'bench', 'main.js'), '--e2e', '--quick', '--threads', String(threads), '--json', '--cache-dir', cacheDir],
      { cwd: ROOT, maxBuffer: 64 << 20 });
    report = JSON.parse(stdout) as E2eReport;
  }, 180_000); // ~40 s on an idle 2-core machine before the second kernel set's child (2-4 s a format);
  // more on a busy one, where llama.cpp's threads wait for each other

  /** a quantscope measurement with `kernels`: positive numbers of every timed run, on the threads asked for */
  function expectMeasured(o: EngineOutcome, kernels: 'relaxed' | 'simd128', format: string, tensorBytes: number): void {
    if (!o.ok) throw new Error(`${format} (${kernels}): ${o.error}`);
    const s = o.speed;
    expect(s.kernels).toBe(kernels);
    expect(s.engine).toMatch(new RegExp(`^quantscope .* \\(${engineName[kernels]}, ${threads} threads?\\)$`));
    expect(s.ppRuns).toHaveLength(3);
    expect(s.tgRuns).toHaveLength(3);
    expect(Math.min(s.ppTokS, s.tgTokS, s.loadSeconds, s.maxRssBytes, ...s.ppRuns, ...s.tgRuns)).toBeGreaterThan(0);
    expect(s.threads).toBe(threads);
    expect(s.otherCores === null || s.otherCores >= 0).toBe(true);
    // the weights must be in memory, so the peak RSS is at least the tensor data
    expect(s.maxRssBytes).toBeGreaterThan(tensorBytes);
  }

  it('has a row per format with positive numbers and file sizes that match the files', async () => {
    expect(report.rows.map((r) => r.format)).toEqual(BENCH_FTYPE_NAMES);
    expect(report.model).toMatchObject({ source: 'synthesized', shape: QUICK });
    expect(report.timing).toMatchObject({ promptTokens: 128, genTokens: 64, warmup: 1, reps: 3 });
    expect(report.threads).toMatchObject({ requested: threads, quantscope: threads, llamaCpp: report.llamaCpp.status === 'ok' ? threads : null });
    expect(report.bandwidth.median).toBeGreaterThan(0);
    // the probe at the threads asked for; with more than one, also on one
    expect(report.bandwidth.threads).toBe(threads);
    if (threads > 1) expect(report.bandwidthOneThread!.threads).toBe(1);
    else expect(report.bandwidthOneThread).toBeNull();
    for (const row of report.rows) {
      expect(statSync(row.file).size).toBe(row.fileBytes);
      const file = await readGguf(row.file);
      expect(file.metadata.get('general.file_type')?.value).toBe(BENCH_FTYPES[row.format as BenchFtype].fileType);
      const tensorBytes = Object.values(row.tensorBytes).reduce((a, b) => a + b, 0);
      expect(tensorBytes).toBeLessThan(row.fileBytes);
      expect(row.kernelType).toBe(BENCH_FTYPES[row.format as BenchFtype].main);
      expect(row.kernel!.simdGBs).toBeGreaterThan(0);
      expect(row.kernel!.genericGBs).toBeGreaterThan(0);
      expectMeasured(row.ours, auto, row.format, tensorBytes);
      expect(row.decode.bytesPerToken).toBeGreaterThan(0);
      expect(row.decode.bytesPerToken).toBeLessThan(row.fileBytes);
      expect(row.decode.gbs).toBeGreaterThan(0);
      expect(row.decode.ofBandwidth).toBeGreaterThan(0);
      expect(row.wallSeconds.ours).toBeGreaterThan(0);
    }
  });

  it('measures the other kernel set in a child of its own, or says why it cannot run', () => {
    // --kernels both by default: auto's set, then the other one (relaxed with its flag where node has it only behind one)
    expect(report.quantscope).toMatchObject({
      option: 'both', auto,
      sets: [{ kernels: 'auto', execArgv: [] }, { kernels: other, execArgv: other === 'relaxed' && !runtimeHasRelaxedSimd() ? [RELAXED_SIMD_FLAG] : [] }],
    });
    // the kernel micro-bench runs in this process: the default set
    expect(report.kernels!.simd).toBe(auto);
    expect(report.quantscope.sets[0].engine).toMatch(engineName[auto]);
    for (const row of report.rows) {
      const alt = row.alt!;
      expect(alt.kernels).toBe(other);
      expect(row.wallSeconds.alt).toBeGreaterThan(0);
      if (!alt.ours.ok) {
        // only relaxed may fail, for the reason the engine gives (an unfused relaxed_madd), the same for every file
        expect(other).toBe('relaxed');
        expect(alt.ours.error).toMatch(/relaxed-SIMD kernels asked for, but this runtime cannot run them/);
        expect([alt.decode.gbs, alt.ratio, report.quantscope.sets[1].engine]).toEqual([null, null, null]);
        continue;
      }
      expectMeasured(alt.ours, other, row.format, Object.values(row.tensorBytes).reduce((a, b) => a + b, 0));
      expect(report.quantscope.sets[1].engine).toMatch(engineName[other]);
      expect(alt.decode.gbs).toBeCloseTo((row.decode.bytesPerToken * alt.ours.speed.tgTokS) / 1e9, 10);
      expect(alt.decode.ofBandwidth).toBeCloseTo(alt.decode.gbs! / report.bandwidth.median, 10);
    }
  });

  it('renders a text and a Markdown line per format and kernel set, the failures and the kernel sets noted', () => {
    const text = formatE2eText(report).split('\n');
    const md = formatE2eMarkdown(report).split('\n');
    const simd = auto === 'relaxed' ? 'relaxed SIMD GB/s' : 'SIMD128 GB/s';
    expect(text[1]).toMatch(new RegExp(`^format .* ${simd} .* quantscope .* pp128 t/s`));
    expect(md[2]).toMatch(new RegExp(`^\\| format \\|.*\\| ${simd} \\|.*\\| quantscope \\| pp128 t/s \\|`));
    const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());
    const header = cells(md[2]);
    const tableRows = md.slice(4, 4 + 2 * report.rows.length).map(cells);
    expect(md[4 + 2 * report.rows.length]).toBe('');
    const at = (row: string[], name: string) => row[header.indexOf(name)];
    report.rows.forEach((row, i) => {
      const [first, second] = [tableRows[2 * i], tableRows[2 * i + 1]];
      expect([at(first, 'format'), at(second, 'format')]).toEqual([row.format, row.format]);
      expect([at(first, 'quantscope'), at(second, 'quantscope')]).toEqual([`${auto} (auto)`, other]);
      // the file's columns on the first line only
      expect([at(first, 'file MB'), at(second, 'file MB')]).toEqual([(row.fileBytes / 1e6).toFixed(0), '']);
      expect(at(first, 'pp128 t/s')).toBe(row.ours.ok ? row.ours.speed.ppTokS.toFixed(2) : 'failed');
      expect(at(second, 'tg64 t/s')).toBe(row.alt!.ours.ok ? row.alt!.ours.speed.tgTokS.toFixed(2) : 'failed');
      if (report.llamaCpp.status === 'ok') {
        expect(at(second, 'llama pp128')).toBe('');
        expect(at(second, 'tg64 ours/llama')).toBe(row.alt!.ratio ? `${row.alt!.ratio.tg.toFixed(2)}×` : '-');
      }
      // the text table has the same lines
      expect(text[3 + 2 * i]).toMatch(new RegExp(`^${row.format} +\\d+ +${row.kernelType} .* ${auto} \\(auto\\) `));
      expect(text[4 + 2 * i]).toMatch(new RegExp(`^${row.format} +${other} `));
      if (!row.alt!.ours.ok) expect(md).toContain(`- ${row.format}: quantscope (${other}) failed: ${row.alt!.ours.error.replace(/\|/g, '\\|')}`);
    });
    expect(text.some((l) => l.includes(`quantscope (--kernels both`) && l.includes(`${auto} (auto) = `) && l.includes(`${other} = `))).toBe(true);
  });

  it("has llama.cpp's numbers on the same files, or says why not", () => {
    if (report.llamaCpp.status !== 'ok') {
      expect(report.llamaCpp.reason).toMatch(/node-llama-cpp/);
      return;
    }
    expect(report.llamaCpp.engine).toMatch(new RegExp(`^node-llama-cpp .*${threads} threads?\\)$`));
    expect(report.threads.llamaCpp).toBe(threads);
    for (const row of report.rows) {
      if (!row.llamaCpp?.ok) throw new Error(`${row.format}: llama.cpp ${row.llamaCpp?.error}`);
      const s = row.llamaCpp.speed;
      expect(s.kernels).toBeNull();
      expect(Math.min(s.ppTokS, s.tgTokS, s.maxRssBytes, ...s.ppRuns, ...s.tgRuns)).toBeGreaterThan(0);
      expect(row.ratio!.pp).toBeCloseTo(row.ours.ok ? row.ours.speed.ppTokS / s.ppTokS : NaN, 10);
      expect(row.ratio!.tg).toBeGreaterThan(0);
      // the second kernel set's ratios to the same llama.cpp numbers
      const alt = row.alt!;
      if (alt.ours.ok) {
        expect(alt.ratio!.pp).toBeCloseTo(alt.ours.speed.ppTokS / s.ppTokS, 10);
        expect(alt.ratio!.tg).toBeCloseTo(alt.ours.speed.tgTokS / s.tgTokS, 10);
      }
    }
  });

  it('reuses the cached files and leaves no temporary file behind', async () => {
    const names = readdirSync(cacheDir);
    expect(names.filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(names.sort()).toEqual(BENCH_FTYPE_NAMES.map((f) => cacheFileName(QUICK, f)).sort());
    const before = statSync(join(cacheDir, cacheFileName(QUICK, 'Q4_0'))).mtimeMs;
    const again = await ensureBenchModel(QUICK, 'Q4_0', cacheDir);
    expect(again).toMatchObject({ created: false, bytes: report.rows.find((r) => r.format === 'Q4_0')!.fileBytes });
    expect(statSync(again.path).mtimeMs).toBe(before);
    expect(existsSync(again.path)).toBe(true);
  });
});
