// Command-line options of the end-to-end bench (`npm run bench -- --e2e …`).
import { availableParallelism } from 'node:os';
import { DEFAULT_CACHE_DIR } from './model-cache.js';
import { BENCH_FTYPE_NAMES, QUICK, TINYLLAMA, type BenchFtype, type ModelShape } from './format-mix.js';

/**
 * quantscope's kernel sets to measure: one (`auto`: the default choice of this runtime; `relaxed`;
 * `simd128`), or `both`: auto's and the other of relaxed / SIMD128, each in a child of its own.
 */
export const KERNELS_CHOICES = ['both', 'auto', 'relaxed', 'simd128'] as const;
export type KernelsOption = (typeof KERNELS_CHOICES)[number];

export interface E2eOptions {
  /** a user's GGUF file instead of the synthesized models */
  model?: string;
  shape: ModelShape;
  formats: BenchFtype[];
  /** threads for both engines (quantscope: its matrix products; the report records what each ran) */
  threads: number;
  /** quantscope's kernel sets (--kernels, default both) */
  kernels: KernelsOption;
  quick: boolean;
  /** run llama.cpp (node-llama-cpp) side by side */
  reference: boolean;
  cacheDir: string;
  promptTokens: number;
  genTokens: number;
  warmup: number;
  reps: number;
  /** kernel throughput columns (benchKernels): matrix shape and seconds per kernel */
  kernelRows: number;
  kernelCols: number;
  kernelMaxTime: number;
  bandwidthBytes: number;
  /** a measuring child that sends nothing for this long (one load or one run) is killed */
  timeoutMs: number;
}

export const E2E_USAGE = `npm run bench -- --e2e [--model file.gguf] [--formats F16,Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0]
  [--threads N] [--kernels both|auto|relaxed|simd128] [--quick] [--no-reference] [--cache-dir dir]
  [--reps N] [--warmup N] [--timeout s] [--json | --markdown]`;

/**
 * The value of `--kernels <set>`, if given. A bare `--kernels` (the last argument, or one followed by
 * another flag) is main.ts's section flag: the kernel micro-bench.
 */
export function kernelsOptionValue(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--kernels');
  const v = i < 0 ? undefined : argv[i + 1];
  return v === undefined || v.startsWith('--') ? undefined : v;
}

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'\n${E2E_USAGE}`);
  return n;
}

export function parseE2eOptions(argv: readonly string[]): E2eOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value\n${E2E_USAGE}`);
    return v;
  };
  const quick = argv.includes('--quick');
  const formats = (value('--formats')?.split(',').map((f) => f.trim().toUpperCase()) ?? BENCH_FTYPE_NAMES) as BenchFtype[];
  const unknown = formats.filter((f) => !BENCH_FTYPE_NAMES.includes(f));
  if (unknown.length) throw new Error(`unknown format ${unknown.join(', ')}; the bench synthesizes ${BENCH_FTYPE_NAMES.join(', ')}\n${E2E_USAGE}`);
  const kernelsRaw = kernelsOptionValue(argv);
  if (kernelsRaw !== undefined && !(KERNELS_CHOICES as readonly string[]).includes(kernelsRaw)) {
    throw new Error(`--kernels must be one of ${KERNELS_CHOICES.join(', ')}, got '${kernelsRaw}'\n${E2E_USAGE}`);
  }
  return {
    model: value('--model'),
    shape: quick ? QUICK : TINYLLAMA,
    formats,
    threads: positiveInt('--threads', value('--threads'), availableParallelism()),
    kernels: (kernelsRaw as KernelsOption | undefined) ?? 'both',
    quick,
    reference: !argv.includes('--no-reference'),
    cacheDir: value('--cache-dir') ?? DEFAULT_CACHE_DIR,
    promptTokens: positiveInt('--prompt-tokens', value('--prompt-tokens'), 128, 2),
    genTokens: positiveInt('--gen-tokens', value('--gen-tokens'), 64),
    warmup: positiveInt('--warmup', value('--warmup'), 1, 0),
    reps: positiveInt('--reps', value('--reps'), 3),
    kernelRows: quick ? 512 : 2048,
    kernelCols: quick ? 1024 : 2048,
    kernelMaxTime: quick ? 0.1 : 1,
    bandwidthBytes: 256 * 2 ** 20,
    timeoutMs: positiveInt('--timeout', value('--timeout'), 600) * 1000,
  };
}
