// `npm run bench [-- --kernels] [-- --taps]`: every section without a section flag, else the named ones.
//   --kernels  mat×vec throughput per weight format, SIMD and _generic (kernels.bench.ts)
//   --taps     what the taps cost in decode (taps.bench.ts)
import { argValue } from './args.js';

const SECTIONS = ['kernels', 'taps'] as const;
const asked = SECTIONS.filter((s) => process.argv.includes(`--${s}`));
const run = asked.length > 0 ? asked : SECTIONS;

for (const section of run) {
  if (section === 'kernels') await import('./kernels.bench.js');
  if (section === 'taps') {
    const { benchTapCost, formatTapCost } = await import('./taps.bench.js');
    const r = await benchTapCost({ model: argValue('--model'), tokens: Number(argValue('--tokens') ?? 64), rounds: Number(argValue('--rounds') ?? 7) });
    process.stdout.write(process.argv.includes('--json') ? JSON.stringify(r, null, 2) + '\n' : formatTapCost(r));
  }
}
