// Memory-bandwidth probe: how fast one thread, or the engine's threads together, stream a buffer
// much larger than the caches through WASM v128 loads (assembly/ops/bandwidth.ts; with threads, a
// pool job over 1 MiB blocks). Decode reads every weight once per token, so (weight bytes per token
// × tokens/s) / this number, at decode's thread count, says how close decode runs to the memory limit.
import { createEngine } from '../src/wasm/instance.js';
import { median } from './args.js';

export interface BandwidthResult {
  /** bytes read per pass */
  bytes: number;
  passes: number;
  /** GB/s (1e9 bytes/s) per pass */
  runs: number[];
  median: number;
  best: number;
  /** threads that read */
  threads: number;
}

const BLOCK = 2 ** 20;

type StreamSum = (p: number, bytes: number) => number;

/**
 * Read `bytes` (default 256 MiB, whole MiB) `passes` times after one untimed pass that also faults
 * the pages in, on `threads` threads (default 1).
 */
export async function probeBandwidth(opts: { bytes?: number; passes?: number; threads?: number } = {}): Promise<BandwidthResult> {
  const bytes = Math.ceil((opts.bytes ?? 256 * 2 ** 20) / BLOCK) * BLOCK;
  const passes = opts.passes ?? 7;
  const engine = createEngine();
  const { exports: k, arena } = engine;
  const threads = opts.threads ?? 1;
  const streamSum = k.stream_sum as StreamSum;
  try {
    const p = arena.alloc(bytes, 'bandwidth probe buffer');
    const args = arena.alloc(8 + 4 * threads, 'bandwidth job arguments');
    if (threads > 1) await engine.startThreads(threads);
    new Int32Array(arena.memory.buffer, args, 2).set([p, BLOCK]);
    // one thread: one call; more: 1 MiB blocks from the pool's shared counter
    const pass = threads > 1
      ? () => engine.runJob(engine.jobs.streamSum, args, bytes / BLOCK, 1, Number.MAX_SAFE_INTEGER, threads)
      : () => streamSum(p, bytes);
    arena.bytes(p, bytes).fill(1); // touch every page, so no pass pays for first-touch faults
    pass();
    const runs: number[] = [];
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      pass();
      runs.push(bytes / ((performance.now() - t0) / 1000) / 1e9);
    }
    return { bytes, passes, runs, median: median(runs), best: Math.max(...runs), threads: engine.threads };
  } finally {
    engine.dispose();
  }
}
