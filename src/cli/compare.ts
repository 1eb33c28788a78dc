import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { QuantscopeError } from '../errors.js';
import { compareFiles, type ReferenceProvider } from '../compare/compare.js';
import type { CompareReport } from '../compare/report.js';
import { formatCompareMarkdown, formatCompareText } from '../compare/render-text.js';
import { renderCompareHtml } from '../compare/html.js';
import { assertLlamaCppAvailable, llamaCppProvider } from '../compare/llamacpp-provider.js';
import { indexList } from './options.js';
import { loadProgress } from './progress.js';
import type { KernelKind } from '../wasm/instance.js';
import type { KvCacheType } from '../session.js';

export interface CompareCliOptions {
  model: string[];
  prompt?: string;
  nPredict: number;
  layers?: string;
  topK: number;
  base?: string;
  reference?: string;
  json?: string | boolean;
  markdown?: string | boolean;
  html?: string;
  ctx?: number;
  generic?: boolean;
  kernels?: KernelKind | 'auto';
  threads?: number;
  kvType?: KvCacheType;
}

const bad = (message: string) => new QuantscopeError('invalid_argument', message);

/** --base: a file index or one of the -m paths */
function baseIndex(value: string | undefined, models: readonly string[]): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) {
    const i = Number(value);
    if (i < models.length) return i;
  }
  const i = models.findIndex((m) => m === value || resolve(m) === resolve(value));
  if (i < 0) throw bad(`--base: '${value}' is neither a file index (0–${models.length - 1}) nor one of the -m files`);
  return i;
}

function referenceProvider(name: string | undefined): ReferenceProvider | undefined {
  if (name === undefined) return undefined;
  if (name !== 'llama.cpp') throw bad(`--reference: unknown engine '${name}'; the one available is llama.cpp`);
  assertLlamaCppAvailable();
  return llamaCppProvider();
}

/** Where a --json/--markdown value sends its output: a file path, or stdout for a bare flag or "-". */
function target(value: string | boolean | undefined): string | 'stdout' | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true || value === '-' ? 'stdout' : value;
}

/**
 * `quantscope compare`: one prompt through several GGUF files, side by side. The terminal report
 * goes to stdout unless --json or --markdown claims stdout; files are written as asked.
 */
export async function compareCommand(promptArg: string | undefined, o: CompareCliOptions): Promise<void> {
  if (promptArg !== undefined && o.prompt !== undefined) throw bad('give the prompt either as an argument or with -p, not both');
  const models = o.model ?? [];
  if (models.length < 2) throw bad(`compare needs at least two models (-m a.gguf -m b.gguf), got ${models.length}`);
  const prompt = o.prompt ?? promptArg ?? '';
  const layers = o.layers === undefined ? 'all' : indexList('--layers', o.layers, '0,5,10');
  const json = target(o.json);
  const markdown = target(o.markdown);
  if (json === 'stdout' && markdown === 'stdout') throw bad('--json and --markdown cannot both go to stdout: give one of them a file name');

  const progress: Array<ReturnType<typeof loadProgress>> = [];
  const report: CompareReport = await compareFiles(models, {
    prompt, layers, nPredict: o.nPredict, topK: o.topK, base: baseIndex(o.base, models), contextSize: o.ctx, kvType: o.kvType,
    reference: referenceProvider(o.reference),
    load: (path, i) => { progress[i] = loadProgress(path); return { onProgress: progress[i].onProgress, generic: o.generic, kernels: o.kernels, threads: o.threads }; },
    onFile: (info, i) => progress[i].done(info.weightBytes),
  });

  const outputs: Array<[string | 'stdout' | undefined, () => string, string]> = [
    [json, () => JSON.stringify(report, null, 2) + '\n', 'JSON'],
    [markdown, () => formatCompareMarkdown(report), 'Markdown'],
    [o.html, () => renderCompareHtml(report), 'HTML'],
  ];
  let stdoutTaken = false;
  for (const [where, render, what] of outputs) {
    if (where === undefined) continue;
    if (where === 'stdout') { process.stdout.write(render()); stdoutTaken = true; continue; }
    writeFileSync(where, render());
    process.stderr.write(`wrote the ${what} report to ${where}\n`);
  }
  if (!stdoutTaken) process.stdout.write(formatCompareText(report));
}
