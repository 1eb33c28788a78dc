// Memory-bandwidth probe: how fast one thread streams a buffer much larger than the caches through
// WASM v128 loads (assembly/ops/bandwidth.ts). Decode reads every weight once per token, so
// (weight bytes per token × tokens/s) / this number says how close decode runs to the memory limit.
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
}

type StreamSum = (p: number, bytes: number) => number;

/** Read `bytes` (default 256 MiB) `passes` times after one untimed pass that also faults the pages in. */
export function probeBandwidth(opts: { bytes?: number; passes?: number } = {}): BandwidthResult {
  const bytes = opts.bytes ?? 256 * 2 ** 20;
  const passes = opts.passes ?? 7;
  const { exports: k, arena } = createEngine();
  const streamSum = k.stream_sum as StreamSum;
  const p = arena.alloc(bytes, 'bandwidth probe buffer');
  try {
    arena.bytes(p, bytes).fill(1); // touch every page, so no pass pays for first-touch faults
    streamSum(p, bytes);
    const runs: number[] = [];
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      streamSum(p, bytes);
      runs.push(bytes / ((performance.now() - t0) / 1000) / 1e9);
    }
    return { bytes, passes, runs, median: median(runs), best: Math.max(...runs) };
  } finally {
    arena.release(p);
  }
}
