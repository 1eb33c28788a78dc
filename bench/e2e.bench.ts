// End-to-end speed per weight format on a TinyLlama-1.1B-shaped model (or a user's file): file size,
// kernel throughput, prefill (pp) and decode (tg) tokens/s, peak RSS, decode's share of the memory
// bandwidth — and llama.cpp's pp/tg on the same file, same token ids, same batch, side by side.
// quantscope runs with each kernel set asked for (--kernels, default both: this runtime's default,
// and the other of relaxed SIMD / SIMD128, which on Node 20 takes a child with relaxed SIMD's flag).
// Formats are measured one after another, each in fresh child processes (speed-run.ts), never two
// at once. `npm run bench -- --e2e` (options: e2e-options.ts; rendering: e2e-report.ts).
import { cpus } from 'node:os';
import { readGguf } from '../src/gguf/reader.js';
import { relaxedSimdUsable, type KernelKind } from '../src/wasm/instance.js';
import { median } from './args.js';
import { probeBandwidth, type BandwidthResult } from './bandwidth.bench.js';
import type { E2eOptions, KernelsOption } from './e2e-options.js';
import type { ModelShape } from './format-mix.js';
import { benchKernels, type KernelResult } from './kernels.bench.js';
import { ensureBenchModel } from './model-cache.js';
import { rng } from './random.js';
import { busyCores } from './machine-load.js';
import { decodeBytesPerToken, fileFormatName, mainMatrixType, tensorBytes } from './model-info.js';
import { RELAXED_SIMD_FLAG, findNodeLlamaCpp, measureLlamaCpp, measureOurs, runtimeHasRelaxedSimd, type SpeedOutcome } from './speed-run.js';
import type { BenchKernels, SpeedRequest } from './speed-protocol.js';

/** One engine's numbers on one file (medians over the timed runs). */
export interface SpeedSummary {
  engine: string;
  /** the kernels quantscope ran (null for llama.cpp) */
  kernels: KernelKind | null;
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
  /** kernel throughput of that type in this process: report.kernels.simd names the SIMD set */
  kernel: { simdGBs: number; genericGBs: number } | null;
  /** quantscope with the first kernel set of report.quantscope.sets (under --kernels both: auto's) */
  ours: EngineOutcome;
  /** null when llama.cpp is not run (see report.llamaCpp) */
  llamaCpp: EngineOutcome | null;
  /** quantscope / llama.cpp tokens/s */
  ratio: { pp: number; tg: number } | null;
  /** weights read per decoded token (every tensor except the embedding table, of which one row), and
   *  the rate decode reads them at, alone and as a fraction of the bandwidth probe's median */
  decode: { bytesPerToken: number; gbs: number | null; ofBandwidth: number | null };
  /** the same for the second kernel set (report.quantscope.sets[1]), measured in a child of its own;
   *  null when one set is measured */
  alt: AltKernels | null;
  /** wall-clock seconds of this row's steps (model file, quantscope's child per kernel set, llama.cpp's child) */
  wallSeconds: { file: number; ours: number; alt: number | null; llamaCpp: number | null };
}

/** quantscope's numbers with the second kernel set: the fields of E2eRow that depend on the kernels */
export interface AltKernels {
  kernels: BenchKernels;
  ours: EngineOutcome;
  /** quantscope with this set / llama.cpp tokens/s */
  ratio: { pp: number; tg: number } | null;
  decode: { gbs: number | null; ofBandwidth: number | null };
}

/** One kernel set quantscope is measured with, and how its child is run. */
export interface KernelSetPlan {
  /** loadModel's `kernels` option in the child */
  kernels: BenchKernels;
  /** the child's node flags: [RELAXED_SIMD_FLAG] where the set needs relaxed SIMD and node has it only behind the flag, else none */
  execArgv: string[];
  /** the engine string of its first successful measurement (null: none succeeded) */
  engine: string | null;
}

export interface E2eReport {
  version: 1;
  date: string;
  node: string;
  cpu: { model: string; cores: number };
  /** cores other processes kept busy (1 s samples before and after the bench): other work skews the numbers */
  otherLoad: { before: number; after: number };
  model: { source: 'synthesized'; shape: ModelShape; cacheDir: string } | { source: 'file'; path: string };
  /** quantscope's kernel sets: --kernels, what `auto` picks in this process, and the sets measured
   *  (rows' `ours` ran sets[0], their `alt` sets[1]) */
  quantscope: { option: KernelsOption; auto: 'relaxed' | 'simd128'; sets: KernelSetPlan[] };
  /** threads asked for, and what each engine ran (null: no measurement succeeded) */
  threads: { requested: number; quantscope: number | null; llamaCpp: number | null };
  timing: { promptTokens: number; genTokens: number; warmup: number; reps: number; statistic: 'median' };
  /** the probe on the threads asked for (decode's "of bw" is against this one), and on one thread
   *  when more were asked for */
  bandwidth: BandwidthResult;
  bandwidthOneThread: BandwidthResult | null;
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
      engine: r.engine, kernels: r.kernels ?? null, threads: r.threads, loadSeconds: r.loadSeconds, ppTokS: median(ppRuns), tgTokS: median(tgRuns),
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

/**
 * The kernel sets `--kernels` asks for, each with its child's flags. `both`: auto's choice in this
 * process, then the other set — relaxed under SIMD128, SIMD128 under relaxed. A relaxed child gets
 * relaxed SIMD's flag where the runtime has relaxed SIMD only through it (Node 20); an auto child
 * gets it where this process was started with it, so that its auto is this process's.
 */
export function planKernelSets(option: KernelsOption): KernelSetPlan[] {
  // the flag as node's command line spells it, or as V8 does (NODE_OPTIONS reaches the children by itself)
  const parentFlag = process.execArgv.some((a) => /^--experimental[-_]wasm[-_]relaxed[-_]simd$/.test(a));
  const flags = (k: BenchKernels) =>
    (k === 'relaxed' && (parentFlag || !runtimeHasRelaxedSimd())) || (k === 'auto' && parentFlag) ? [RELAXED_SIMD_FLAG] : [];
  const kinds: BenchKernels[] = option === 'both' ? ['auto', relaxedSimdUsable() ? 'simd128' : 'relaxed'] : [option];
  return kinds.map((kernels) => ({ kernels, execArgv: flags(kernels), engine: null }));
}

/** quantscope with one kernel set on one file, and what the row derives from it */
function oursWith(ours: EngineOutcome, llamaCpp: EngineOutcome | null, bytesPerToken: number, bandwidth: BandwidthResult) {
  const gbs = ours.ok ? (bytesPerToken * ours.speed.tgTokS) / 1e9 : null;
  return {
    ours,
    ratio: ours.ok && llamaCpp?.ok ? { pp: ours.speed.ppTokS / llamaCpp.speed.ppTokS, tg: ours.speed.tgTokS / llamaCpp.speed.tgTokS } : null,
    decode: { gbs, ofBandwidth: gbs === null ? null : gbs / bandwidth.median },
  };
}

/** Run the whole e2e bench; `log` gets progress lines (the CLI sends them to stderr). */
export async function runE2e(opts: E2eOptions, log: (line: string) => void = () => {}): Promise<E2eReport> {
  const loadBefore = await busyCores();
  const notes: string[] = [];

  log(`memory bandwidth probe (${opts.bandwidthBytes / 2 ** 20} MiB, 1${opts.threads > 1 ? ` and ${opts.threads}` : ''} thread${opts.threads > 1 ? 's' : ''})…`);
  const passes = opts.quick ? 3 : 7;
  const bandwidthOneThread = await probeBandwidth({ bytes: opts.bandwidthBytes, passes });
  const bandwidth = opts.threads > 1 ? await probeBandwidth({ bytes: opts.bandwidthBytes, passes, threads: opts.threads }) : bandwidthOneThread;

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

  const sets = planKernelSets(opts.kernels);
  const auto = relaxedSimdUsable() ? 'relaxed' : 'simd128';
  const setName = (p: KernelSetPlan) => (p.kernels === 'auto' ? `auto (${auto})` : p.kernels) + (p.execArgv.length ? ` with node ${p.execArgv.join(' ')}` : '');

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

    // quantscope: one child per kernel set
    const measured: Array<{ ours: EngineOutcome; seconds: number }> = [];
    for (const set of sets) {
      log(`${format}: quantscope ${setName(set)}, pp${prompt.length}/tg${gen.length}, ${opts.warmup} warm-up + ${opts.reps} runs…`);
      const t1 = performance.now();
      const ours = summarize(await measureOurs({ ...req, kernels: set.kernels }, opts.timeoutMs, set.execArgv), req);
      measured.push({ ours, seconds: since(t1) });
      if (ours.ok) set.engine ??= ours.speed.engine;
      log(`${format}: quantscope ${set.kernels}: ${ours.ok ? `pp ${ours.speed.ppTokS.toFixed(2)} t/s, tg ${ours.speed.tgTokS.toFixed(2)} t/s` : `failed: ${ours.error}`}` +
        ` (${measured.at(-1)!.seconds.toFixed(1)} s)`);
    }
    let llamaCpp: EngineOutcome | null = null;
    let llamaSeconds: number | null = null;
    if (!('error' in llama)) {
      const t2 = performance.now();
      log(`${format}: llama.cpp pp${prompt.length}/tg${gen.length}, ${opts.threads} thread(s)…`);
      llamaCpp = summarize(await measureLlamaCpp({ ...req, moduleEntry: llama.entry, moduleVersion: llama.version }, opts.timeoutMs), req);
      llamaSeconds = since(t2);
      if (llamaCpp.ok) llamaStatus.engine ??= llamaCpp.speed.engine;
      log(`${format}: llama.cpp ${llamaCpp.ok ? `pp ${llamaCpp.speed.ppTokS.toFixed(2)} t/s, tg ${llamaCpp.speed.tgTokS.toFixed(2)} t/s` : `failed: ${llamaCpp.error}`}` +
        ` (${llamaSeconds.toFixed(1)} s)`);
    }
    const bytesPerToken = decodeBytesPerToken(file);
    const first = oursWith(measured[0].ours, llamaCpp, bytesPerToken, bandwidth);
    const second = measured[1] ? oursWith(measured[1].ours, llamaCpp, bytesPerToken, bandwidth) : null;
    rows.push({
      format, file: path, fileBytes: file.fileSize, synthSeconds, tensorBytes: tensorBytes(file), kernelType: mainMatrixType(file),
      kernel: null, ours: first.ours, llamaCpp, ratio: first.ratio, decode: { bytesPerToken, ...first.decode },
      alt: second && { kernels: sets[1].kernels, ...second },
      wallSeconds: { file: fileSeconds, ours: measured[0].seconds, alt: measured[1]?.seconds ?? null, llamaCpp: llamaSeconds },
    });
  }

  // kernel throughput last: in this process, with no child running, on the main type of each file
  let kernels: KernelResult | null = null;
  const types = [...new Set(rows.map((r) => r.kernelType))];
  log(`kernels ${types.join(', ')} (${opts.kernelRows}×${opts.kernelCols}, ${auto} and generic, in this process)…`);
  const tk = performance.now();
  try {
    kernels = benchKernels({ rows: opts.kernelRows, cols: opts.kernelCols, formats: types, maxTime: opts.kernelMaxTime, kernels: 'auto' });
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
    quantscope: { option: opts.kernels, auto, sets },
    threads: { requested: opts.threads, quantscope: ranThreads(rows, 'ours'), llamaCpp: ranThreads(rows, 'llamaCpp') },
    timing: { promptTokens: opts.promptTokens, genTokens: opts.genTokens, warmup: opts.warmup, reps: opts.reps, statistic: 'median' },
    bandwidth,
    bandwidthOneThread: bandwidth === bandwidthOneThread ? null : bandwidthOneThread,
    kernels,
    llamaCpp: llamaStatus,
    rows,
    notes,
  };
}
