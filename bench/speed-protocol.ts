// What the e2e bench sends its measuring child processes and what they send back. Each format is
// measured in a fresh process, so that its peak RSS (process.resourceUsage().maxRSS) is that
// format's alone; quantscope's child is speed-child.ts, llama.cpp's llamacpp-speed-child.ts.
import type { KernelKind } from '../src/wasm/instance.js';

/** quantscope's kernel sets the bench measures: loadModel's `kernels` option (generic is not benched) */
export type BenchKernels = 'auto' | 'relaxed' | 'simd128';

export interface SpeedRequest {
  modelPath: string;
  /** evaluated as one batch from an empty context (pp) */
  prompt: number[];
  /** then evaluated one at a time (tg) */
  gen: number[];
  /** untimed runs first (they compile and warm the hot paths) */
  warmup: number;
  /** timed runs; the report takes their medians */
  reps: number;
  /** threads for the matrix products (quantscope) / llama.cpp's CPU threads */
  threads: number;
  /** loadModel's `kernels` option (quantscope child only) */
  kernels?: BenchKernels;
  /** node-llama-cpp's entry file as the parent resolved it (llama.cpp child only) */
  moduleEntry?: string;
  moduleVersion?: string;
}

export interface SpeedResult {
  /** e.g. "quantscope 0.1.0 (WASM SIMD128, 2 threads)" or node-llama-cpp's engine string */
  engine: string;
  /** the kernels quantscope's engine ran (absent for llama.cpp) */
  kernels?: KernelKind;
  /** threads the engine actually ran */
  threads: number;
  /** seconds from the call to a model ready to evaluate */
  loadSeconds: number;
  /** per timed run: seconds for the prompt batch, and for all generated tokens */
  ppSeconds: number[];
  tgSeconds: number[];
  /** the child process's peak resident set size, bytes */
  maxRssBytes: number;
  /** CPU seconds the child used (all its threads), to tell its load from other processes' */
  cpuSeconds: number;
}

/** `progress` after the load and after every run: the parent's timeout counts from the last message */
export type SpeedMessage =
  | { type: 'progress'; step: string }
  | { type: 'result'; result: SpeedResult }
  | { type: 'error'; message: string };

/** Send one message and resolve when it is handed to the channel (process.exit could drop it). */
export function sendToParent(message: SpeedMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

/** CPU seconds this process has used, all threads */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** peak RSS of this process in bytes (resourceUsage reports KiB) */
export function maxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
