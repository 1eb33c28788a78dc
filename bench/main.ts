// `npm run bench [-- --kernels] [-- --taps] [-- --e2e]`: every section without a section flag, else the named ones.
//   --kernels  mat×vec throughput per weight format, SIMD and _generic (kernels.bench.ts); followed by a
//              set (--kernels both|auto|relaxed|simd128) it is the e2e bench's choice of kernel sets instead
//   --taps     what the taps cost in decode (taps.bench.ts)
//   --e2e      per weight format on a TinyLlama-1.1B-shaped model: file size, kernel throughput, pp/tg
//              tokens/s, peak RSS, decode against the memory bandwidth, llama.cpp side by side
//              (e2e.bench.ts; options in e2e-options.ts)
// Output: text tables; --json one JSON document (a section's object, or { kernels, taps, e2e } when
// several run); --markdown the e2e report as Markdown. --quick makes every section small (CI smoke run).
// Progress goes to stderr, so stdout stays clean for --json / --markdown.
import { argValue } from './args.js';
import { BENCH_FTYPES, type BenchFtype } from './format-mix.js';
import { kernelsOptionValue, parseE2eOptions } from './e2e-options.js';

const SECTIONS = ['kernels', 'taps', 'e2e'] as const;
type Section = (typeof SECTIONS)[number];
const argv = process.argv;
// `--kernels <set>` is the e2e bench's kernel-set option (e2e-options.ts); a bare `--kernels` the section
const asked = SECTIONS.filter((s) => argv.includes(`--${s}`) && (s !== 'kernels' || kernelsOptionValue(argv) === undefined));
const run: readonly Section[] = asked.length > 0 ? asked : SECTIONS;
const json = argv.includes('--json');
const markdown = argv.includes('--markdown');
const quick = argv.includes('--quick');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Text of a non-e2e section; fenced in --markdown so that the whole output stays Markdown. */
const text = (s: string) => (markdown ? '```\n' + s + '```\n' : s);

let e2eOptions;
try {
  e2eOptions = run.includes('e2e') ? parseE2eOptions(argv) : undefined;
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

const results: Partial<Record<Section, unknown>> = {};

async function runSections(): Promise<void> {
  for (const section of run) {
    if (section === 'kernels') {
      const { benchKernels, formatKernels } = await import('./kernels.bench.js');
      // e2e's file types (Q4_K_M, …) name their main weight type here
      const formats = argValue('--formats')?.split(',').map((f) => BENCH_FTYPES[f.trim().toUpperCase() as BenchFtype]?.main ?? f);
      const num = (name: string, fallback: number) => Number(argValue(name) ?? fallback);
      log('kernels…');
      const r = benchKernels({
        rows: num('--rows', quick ? 512 : 2048), cols: num('--cols', quick ? 1024 : 2048), formats, maxTime: quick ? 0.1 : undefined,
      });
      results.kernels = r;
      if (!json) process.stdout.write(text(formatKernels(r)));
    }
    if (section === 'taps') {
      const { benchTapCost, formatTapCost } = await import('./taps.bench.js');
      log('taps…');
      const r = await benchTapCost({
        model: run.includes('e2e') ? undefined : argValue('--model'),
        tokens: Number(argValue('--tokens') ?? (quick ? 16 : 64)), rounds: Number(argValue('--rounds') ?? (quick ? 3 : 7)),
      });
      results.taps = r;
      if (!json) process.stdout.write(text(formatTapCost(r)));
    }
    if (section === 'e2e') {
      const { runE2e } = await import('./e2e.bench.js');
      const { formatE2eMarkdown, formatE2eText } = await import('./e2e-report.js');
      const r = await runE2e(e2eOptions!, log);
      results.e2e = r;
      if (!json) process.stdout.write(markdown ? formatE2eMarkdown(r) : formatE2eText(r));
    }
  }
}

try {
  await runSections();
} catch (e) {
  // a missing --model file, a full disk, …: the reason, without a stack trace
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
if (json) process.stdout.write(JSON.stringify(run.length === 1 ? results[run[0]] : results, null, 2) + '\n');
