// What the taps cost in decode: tokens/s with no tap requested, with a hook that does nothing
// (the price of the tap machinery itself: a view and a call per tap), and with every tap's full
// statistics collected. The modes alternate round by round on one session length, so the
// machine's noise falls on all of them alike; medians of the rounds are compared.
//   npm run bench -- --taps [--model file.gguf] [--tokens 64] [--rounds 7] [--json]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { defaultModelPath } from '../src/paths.js';
import { computeStats } from '../src/stats/tensor-stats.js';
import type { TapFn } from '../src/model/taps.js';
import { argValue, median } from './args.js';

const KJV = join(import.meta.dirname ?? '.', '..', '..', 'test', 'fixtures', 'models', 'kjv-austen-4l-256d.Q4_K_M.gguf');

export interface TapCostResult {
  model: string;
  tokens: number;
  rounds: number;
  /** median ms per decoded token, per mode */
  msPerToken: { none: number; noop: number; stats: number };
  /** cost relative to no tap: (mode / none) − 1 */
  overhead: { noop: number; stats: number };
}

export async function benchTapCost(opts: { model?: string; tokens?: number; rounds?: number } = {}): Promise<TapCostResult> {
  const path = opts.model ?? (existsSync(KJV) ? KJV : defaultModelPath());
  const nTok = opts.tokens ?? 64;
  const rounds = opts.rounds ?? 7;
  const model = await loadModel(path);
  const session = model.createSession({ contextSize: nTok + 1 });
  const prompt = model.tokenize('Once upon a time');
  const noop: TapFn = () => {};
  const stats: TapFn = (_n, _l, data, rows, width) => { for (let r = 0; r < rows; r++) computeStats(data.subarray(r * width, (r + 1) * width)); };
  const modes = { none: undefined, noop, stats } as const;

  /** decode nTok tokens greedily-independent (a fixed token stream) and return ms per token */
  const decode = (tap: TapFn | undefined): number => {
    session.reset();
    session.evaluate(prompt.slice(0, 1));
    const t0 = performance.now();
    for (let i = 1; i < nTok; i++) session.evaluate([prompt[i % prompt.length]], { onTap: tap });
    return (performance.now() - t0) / (nTok - 1);
  };
  decode(undefined); // warm-up: compile the kernels' hot paths
  const times: Record<keyof typeof modes, number[]> = { none: [], noop: [], stats: [] };
  for (let r = 0; r < rounds; r++) for (const [name, tap] of Object.entries(modes)) times[name as keyof typeof modes].push(decode(tap));
  model.dispose();
  const ms = { none: median(times.none), noop: median(times.noop), stats: median(times.stats) };
  return { model: path, tokens: nTok, rounds, msPerToken: ms, overhead: { noop: ms.noop / ms.none - 1, stats: ms.stats / ms.none - 1 } };
}

export function formatTapCost(r: TapCostResult): string {
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
  return `tap cost in decode: ${r.model}, ${r.tokens} tokens × ${r.rounds} rounds (medians)\n` +
    `  no tap            ${r.msPerToken.none.toFixed(3)} ms/token\n` +
    `  no-op hook        ${r.msPerToken.noop.toFixed(3)} ms/token  ${pct(r.overhead.noop)}\n` +
    `  every tap's stats ${r.msPerToken.stats.toFixed(3)} ms/token  ${pct(r.overhead.stats)}\n`;
}

if (process.argv[1]?.endsWith('taps.bench.js')) {
  const r = await benchTapCost({ model: argValue('--model'), tokens: Number(argValue('--tokens') ?? 64), rounds: Number(argValue('--rounds') ?? 7) });
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(r, null, 2) + '\n' : formatTapCost(r));
}
