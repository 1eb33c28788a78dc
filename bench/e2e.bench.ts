// End-to-end speed per weight format on a TinyLlama-1.1B-shaped model (or a user's file): file size,
// kernel throughput, prefill (pp) and decode (tg) tokens/s, peak RSS, decode's share of the memory
// bandwidth — and llama.cpp's pp/tg on the same file, same token ids, same batch, side by side.
// Formats are measured one after another, each in fresh child processes (speed-run.ts), never two
// at once. `npm run bench -- --e2e` (options: e2e-options.ts; rendering: e2e-report.ts).
import { cpus } from 'node:os';
import { readGguf } from '../src/gguf/reader.js';
import { median } from './args.js';
import { probeBandwidth, type BandwidthResult } from './bandwidth.bench.js';
import type { E2eOptions } from './e2e-options.js';
import type { ModelShape } from './format-mix.js';
import { benchKernels, type KernelResult } from './kernels.bench.js';
import { ensureBenchModel } from './model-cache.js';
import { rng } from './random.js';
import { busyCores } from './machine-load.js';
import { decodeBytesPerToken, fileFormatName, mainMatrixType, tensorBytes } from './model-info.js';
import { findNodeLlamaCpp, measureLlamaCpp, measureOurs, type SpeedOutcome } from './speed-run.js';
import type { SpeedRequest } from './speed-protocol.js';

/** One engine's numbers on one file (medians over the timed runs). */
export interface SpeedSummary {
  engine: string;
  threads: number;
  loadSeconds: number;
  ppTokS: number;
  tgTokS: number;
  /** tokens/s of each timed run */
  ppRuns: number[];
  tgRuns: number[];
  maxRssBytes: number;
  /** cores other processes used on average meanwhile (null where it cannot be measured) */
  otherCores: number | null;
}
export type EngineOutcome = { ok: true; speed: SpeedSummary } | { ok: false; error: string };

export interface E2eRow {
  /** llama.cpp file type name, e.g. Q4_K_M */
  format: string;
  file: string;
  fileBytes: number;
  /** seconds spent synthesizing the file in this run; 0 when it came from the cache, null for a user's file */
  synthSeconds: number | null;
  /** bytes of tensor data per ggml type */
  tensorBytes: Record<string, number>;
  /** the type holding most of the weights: the kernel columns measure it */
  kernelType: string;
  kernel: { simdGBs: number; genericGBs: number } | null;
  ours: EngineOutcome;
  /** null when llama.cpp is not run (see report.llamaCpp) */
  llamaCpp: EngineOutcome | null;
  /** quantscope / llama.cpp tokens/s */
  ratio: { pp: number; tg: number } | null;
  /** weights read per decoded token (every tensor except the embedding table, of which one row), and
   *  the rate decode reads them at, alone and as a fraction of the bandwidth probe's median */
  decode: { bytesPerToken: number; gbs: number | null; ofBandwidth: number | null };
  /** wall-clock seconds of this row's steps (model file, quantscope's child, llama.cpp's child) */
  wallSeconds: { file: number; ours: number; llamaCpp: number | null };
}

export interface E2eReport {
  version: 1;
  date: string;
  node: string;
  cpu: { model: string; cores: number };
  /** cores other processes kept busy (1 s samples before and after the bench): other work skews the numbers */
  otherLoad: { before: number; after: number };
  model: { source: 'synthesized'; shape: ModelShape; cacheDir: string } | { source: 'file'; path: string };
  /** threads asked for, and what each engine ran (null: no measurement succeeded) */
  threads: { requested: number; quantscope: number | null; llamaCpp: number | null };
  timing: { promptTokens: number; genTokens: number; warmup: number; reps: number; statistic: 'median' };
  bandwidth: BandwidthResult;
  kernels: KernelResult | null;
  llamaCpp: { status: 'ok' | 'unavailable' | 'disabled'; engine: string | null; reason: string | null };
  rows: E2eRow[];
  notes: string[];
}

/** The same deterministic token ids for both engines: a prompt batch and the tokens decoded after it. */
export function benchTokens(nVocab: number, promptTokens: number, genTokens: number): { prompt: number[]; gen: number[] } {
  const r = rng(128064);
  // ids from 3 up: 0-2 are <unk>, <s>, </s> in Llama's vocabulary
  const id = () => 3 + Math.floor(r() * (nVocab - 3));
  return { prompt: Array.from({ length: promptTokens }, id), gen: Array.from({ length: genTokens }, id) };
}

function summarize(outcome: SpeedOutcome, req: SpeedRequest): EngineOutcome {
  if (!outcome.ok) return outcome;
  const r = outcome.result;
  const ppRuns = r.ppSeconds.map((s) => req.prompt.length / s);
  const tgRuns = r.tgSeconds.map((s) => req.gen.length / s);
  return {
    ok: true,
    speed: {
      engine: r.engine, threads: r.threads, loadSeconds: r.loadSeconds, ppTokS: median(ppRuns), tgTokS: median(tgRuns),
      ppRuns, tgRuns, maxRssBytes: r.maxRssBytes, otherCores: outcome.otherCores,
    },
  };
}

/** The thread count an engine ran with (the same for every file), or null when it never ran. */
function ranThreads(rows: readonly E2eRow[], who: 'ours' | 'llamaCpp'): number | null {
  for (const row of rows) {
    const o = row[who];
    if (o?.ok) return o.speed.threads;
  }
  return null;
}

/** Run the whole e2e bench; `log` gets progress lines (the CLI sends them to stderr). */
export async function runE2e(opts: E2eOptions, log: (line: string) => void = () => {}): Promise<E2eReport> {
  const loadBefore = await busyCores();
  const notes: string[] = [];

  log(`memory bandwidth probe (${opts.bandwidthBytes / 2 ** 20} MiB)…`);
  const bandwidth = probeBandwidth({ bytes: opts.bandwidthBytes, passes: opts.quick ? 3 : 7 });

  // the files: a user's, or the synthesized ones (types known before any is written)
  type Target = { format: string; ensure: () => Promise<{ path: string; synthSeconds: number | null }> };
  const targets: Target[] = opts.model
    ? [{ format: '', ensure: async () => ({ path: opts.model!, synthSeconds: null }) }]
    : opts.formats.map((format) => ({
        format,
        ensure: async () => {
          log(`${format}: model file…`);
          const m = await ensureBenchModel(opts.shape, format, opts.cacheDir);
          log(`${format}: ${m.created ? `wrote ${m.path} in ${m.seconds.toFixed(1)} s` : `cached ${m.path}`}`);
          return { path: m.path, synthSeconds: m.seconds };
        },
      }));

  const llama = opts.reference ? findNodeLlamaCpp() : { error: 'not run (--no-reference)' };
  const llamaStatus: E2eReport['llamaCpp'] = 'error' in llama
    ? { status: opts.reference ? 'unavailable' : 'disabled', engine: null, reason: llama.error }
    : { status: 'ok', engine: null, reason: null };

  const rows: E2eRow[] = [];
  const since = (t: number) => (performance.now() - t) / 1000;
  for (const target of targets) {
    const t0 = performance.now();
    const { path, synthSeconds } = await target.ensure();
    const fileSeconds = since(t0);
    const file = await readGguf(path);
    const nVocab = (file.tensors.find((t) => t.name === 'token_embd.weight')?.dims[1]) ?? 32000;
    const { prompt, gen } = benchTokens(nVocab, opts.promptTokens, opts.genTokens);
    const req: SpeedRequest = { modelPath: path, prompt, gen, warmup: opts.warmup, reps: opts.reps, threads: opts.threads };
    const format = target.format || fileFormatName(file);

    log(`${format}: quantscope pp${prompt.length}/tg${gen.length}, ${opts.warmup} warm-up + ${opts.reps} runs…`);
    const t1 = performance.now();
    const ours = summarize(await measureOurs(req, opts.timeoutMs), req);
    const oursSeconds = since(t1);
    let llamaCpp: EngineOutcome | null = null;
    let llamaSeconds: number | null = null;
    if (!('error' in llama)) {
      const t2 = performance.now();
      log(`${format}: llama.cpp pp${prompt.length}/tg${gen.length}, ${opts.threads} thread(s)…`);
      llamaCpp = summarize(await measureLlamaCpp({ ...req, moduleEntry: llama.entry, moduleVersion: llama.version }, opts.timeoutMs), req);
      llamaSeconds = since(t2);
      if (llamaCpp.ok) llamaStatus.engine ??= llamaCpp.speed.engine;
    }
    const bytesPerToken = decodeBytesPerToken(file);
    const gbs = ours.ok ? (bytesPerToken * ours.speed.tgTokS) / 1e9 : null;
    const row: E2eRow = {
      format, file: path, fileBytes: file.fileSize, synthSeconds, tensorBytes: tensorBytes(file), kernelType: mainMatrixType(file),
      kernel: null, ours, llamaCpp,
      ratio: ours.ok && llamaCpp?.ok ? { pp: ours.speed.ppTokS / llamaCpp.speed.ppTokS, tg: ours.speed.tgTokS / llamaCpp.speed.tgTokS } : null,
      decode: { bytesPerToken, gbs, ofBandwidth: gbs === null ? null : gbs / bandwidth.median },
      wallSeconds: { file: fileSeconds, ours: oursSeconds, llamaCpp: llamaSeconds },
    };
    rows.push(row);
    log(`${format}: ${ours.ok ? `pp ${ours.speed.ppTokS.toFixed(2)} t/s, tg ${ours.speed.tgTokS.toFixed(2)} t/s` : `failed: ${ours.error}`}` +
      ` (${oursSeconds.toFixed(1)} s)` +
      (llamaCpp ? ` | llama.cpp ${llamaCpp.ok ? `pp ${llamaCpp.speed.ppTokS.toFixed(2)}, tg ${llamaCpp.speed.tgTokS.toFixed(2)}` : `failed: ${llamaCpp.error}`}` +
        ` (${llamaSeconds!.toFixed(1)} s)` : ''));
  }

  // kernel throughput last: in this process, with no child running, on the main type of each file
  let kernels: KernelResult | null = null;
  const types = [...new Set(rows.map((r) => r.kernelType))];
  log(`kernels ${types.join(', ')} (${opts.kernelRows}×${opts.kernelCols}, SIMD and generic)…`);
  const tk = performance.now();
  try {
    kernels = benchKernels({ rows: opts.kernelRows, cols: opts.kernelCols, formats: types, maxTime: opts.kernelMaxTime });
    for (const row of rows) {
      const k = kernels.results.find((r) => r.format === row.kernelType);
      row.kernel = k ? { simdGBs: k.simdGBs, genericGBs: k.genericGBs } : null;
    }
  } catch (e) {
    notes.push(`kernel throughput failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  log(`kernels: ${since(tk).toFixed(1)} s`);

  const loadAfter = await busyCores();
  if (Math.max(loadBefore, loadAfter) > 0.25) {
    notes.push(`other processes kept ${loadBefore.toFixed(1)} (before) / ${loadAfter.toFixed(1)} (after) of ${cpus().length} cores busy: ` +
      'the numbers are lower than on an idle machine, llama.cpp\'s multi-threaded ones most of all');
  }
  return {
    version: 1,
    date: new Date().toISOString(),
    node: process.version,
    cpu: { model: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    otherLoad: { before: loadBefore, after: loadAfter },
    model: opts.model ? { source: 'file', path: opts.model } : { source: 'synthesized', shape: opts.shape, cacheDir: opts.cacheDir },
    threads: { requested: opts.threads, quantscope: ranThreads(rows, 'ours'), llamaCpp: ranThreads(rows, 'llamaCpp') },
    timing: { promptTokens: opts.promptTokens, genTokens: opts.genTokens, warmup: opts.warmup, reps: opts.reps, statistic: 'median' },
    bandwidth,
    kernels,
    llamaCpp: llamaStatus,
    rows,
    notes,
  };
}
