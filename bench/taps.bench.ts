// What the taps cost in decode: time per token with no tap requested, with a hook that does nothing
// (the whole price of the tap machinery: a view and a call per tap site), and with every tap's full
// statistics collected. Each mode decodes the same tokens in its own session; at every step the
// three modes run back to back on the same position, so slow changes in the machine's load fall on
// all of them alike, and the cost is the median of the per-step ratios.
//   npm run bench -- --taps [--model file.gguf] [--tokens 32] [--json]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { defaultModelPath } from '../src/paths.js';
import { computeStats } from '../src/stats/tensor-stats.js';
import type { TapFn } from '../src/model/taps.js';
import { argValue, median } from './args.js';

const KJV = join(import.meta.dirname ?? '.', '..', '..', 'test', 'fixtures', 'models', 'kjv-austen-4l-256d.Q4_K_M.gguf');

const MODES = ['none', 'noop', 'stats'] as const;
type Mode = (typeof MODES)[number];

export interface TapCostResult {
  model: string;
  tokens: number;
  /** median ms per decoded token, per mode */
  msPerToken: Record<Mode, number>;
  /** median over steps of (mode's time / no tap's time) − 1 */
  overhead: { noop: number; stats: number };
}

/** `tokens` decode steps per round, `rounds` rounds (the sessions start over each round) */
export async function benchTapCost(opts: { model?: string; tokens?: number; rounds?: number } = {}): Promise<TapCostResult> {
  const path = opts.model ?? (existsSync(KJV) ? KJV : defaultModelPath());
  const nTok = opts.tokens ?? 32;
  const rounds = opts.rounds ?? 1;
  const model = await loadModel(path);
  try {
    const hooks: Record<Mode, TapFn | undefined> = {
      none: undefined,
      noop: () => {},
      stats: (_n, _l, data, rows, width) => { for (let r = 0; r < rows; r++) computeStats(data.subarray(r * width, (r + 1) * width)); },
    };
    const sessions = MODES.map(() => model.createSession({ contextSize: nTok + 2 }));
    const ids = model.tokenize('Once upon a time there was');
    const times: Record<Mode, number[]> = { none: [], noop: [], stats: [] };
    for (let round = 0; round < rounds; round++) {
      for (const s of sessions) { s.reset(); s.evaluate([ids[0]]); }
      for (const s of sessions) s.evaluate([ids[1 % ids.length]]); // a warm-up step
      for (let i = 2; i < nTok; i++) {
        const tok = ids[i % ids.length];
        MODES.forEach((mode, m) => {
          const t0 = performance.now();
          sessions[m].evaluate([tok], { onTap: hooks[mode] });
          times[mode].push(performance.now() - t0);
        });
      }
    }
    const ratio = (mode: Mode) => median(times[mode].map((t, i) => t / times.none[i])) - 1;
    return {
      model: path, tokens: times.none.length,
      msPerToken: { none: median(times.none), noop: median(times.noop), stats: median(times.stats) },
      overhead: { noop: ratio('noop'), stats: ratio('stats') },
    };
  } finally {
    model.dispose();
  }
}

export function formatTapCost(r: TapCostResult): string {
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
  return `tap cost in decode: ${r.model}, ${r.tokens} steps, the three modes back to back at each step (medians)\n` +
    `  no tap            ${r.msPerToken.none.toFixed(3)} ms/token\n` +
    `  no-op hook        ${r.msPerToken.noop.toFixed(3)} ms/token  ${pct(r.overhead.noop)}  (bounds what the tap sites cost when no tap is asked for)\n` +
    `  every tap's stats ${r.msPerToken.stats.toFixed(3)} ms/token  ${pct(r.overhead.stats)}\n`;
}

if (process.argv[1]?.endsWith('taps.bench.js')) {
  const r = await benchTapCost({ model: argValue('--model'), tokens: Number(argValue('--tokens') ?? 32), rounds: Number(argValue('--rounds') ?? 1) });
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(r, null, 2) + '\n' : formatTapCost(r));
}
