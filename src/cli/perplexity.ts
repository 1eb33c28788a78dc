import { loadModel, type Model } from '../model.js';
import { defaultModelPath } from '../paths.js';
import { QuantscopeError } from '../errors.js';
import { perplexity, readTextFile, type PerplexityResult } from '../eval/perplexity.js';
import { loadProgress } from './progress.js';
import type { KernelKind } from '../wasm/instance.js';
import type { KvCacheType } from '../session.js';

export interface PerplexityCliOptions {
  model?: string;
  file: string;
  ctx: number;
  batch?: number;
  klBase?: string;
  chunks?: number;
  json?: boolean;
  generic?: boolean;
  kernels?: KernelKind | 'auto';
  threads?: number;
  kvType?: KvCacheType;
}

const pct = (x: number, digits = 3) => (100 * x).toFixed(digits);

/** The result as llama-perplexity words it: its final estimate, and its KL statistics. */
export function formatPerplexity(r: PerplexityResult): string {
  const lines = [`PPL = ${r.ppl.toFixed(4)} +/- ${r.pplError.toFixed(5)}`];
  const kl = r.kl;
  if (kl) {
    lines.push(
      `PPL(base) = ${kl.basePpl.toFixed(4)} +/- ${kl.basePplError.toFixed(5)}`,
      `PPL(Q)/PPL(base) = ${kl.pplRatio.toFixed(6)} +/- ${kl.pplRatioError.toFixed(6)}`,
      `Mean KLD = ${kl.kld.toFixed(6)} +/- ${kl.kldError.toFixed(6)}`,
      `Maximum KLD = ${kl.maxKld.toFixed(6)}`,
      `Mean Δp = ${pct(kl.meanDp)} +/- ${pct(kl.meanDpError)} %`,
      `RMS Δp = ${pct(kl.rmsDp)} +/- ${pct(kl.rmsDpError)} %`,
      `Same top p = ${pct(kl.sameTop)} +/- ${pct(kl.sameTopError)} %`,
    );
  }
  return lines.join('\n') + '\n';
}

/** JSON numbers cannot be NaN or infinite: those become null. */
const finite = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

/**
 * `quantscope perplexity`: llama-perplexity's measurement. Loading, the chunk plan and the running
 * PPL per chunk (`[1]30.12,[2]…`) go to stderr; the final result (or JSON) to stdout.
 */
export async function perplexityCommand(o: PerplexityCliOptions): Promise<void> {
  const err = process.stderr;
  const text = await readTextFile(o.file);
  const models: Model[] = [];
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  let progressOpen = false;
  try {
    const load = async (path: string) => {
      const progress = loadProgress(path);
      const m = await loadModel(path, { onProgress: progress.onProgress, generic: o.generic, kernels: o.kernels, threads: o.threads });
      models.push(m);
      progress.done(m.weightBytes);
      return m;
    };
    const model = await load(o.model ?? defaultModelPath());
    const base = o.klBase === undefined ? undefined : await load(o.klBase);
    for (const m of base ? [model, base] : [model]) {
      if (o.ctx > m.config.nCtxTrain && m.config.nCtxTrain > 0) {
        err.write(`warning: ${m.path} was trained on only ${m.config.nCtxTrain} context tokens (--ctx ${o.ctx})\n`);
      }
    }

    const result = await perplexity(model, text, {
      contextSize: o.ctx, batchSize: o.batch, kvType: o.kvType, maxChunks: o.chunks, klBase: base, perChunk: o.json,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.chunk === 1) {
          err.write(`perplexity: ${p.nChunks} chunk${p.nChunks === 1 ? '' : 's'} of ${o.ctx} tokens, ` +
            `${(p.elapsedMs / 1000).toFixed(2)} s per chunk, ETA ${((p.elapsedMs * p.nChunks) / 1000).toFixed(0)} s\n`);
          progressOpen = true;
        }
        err.write(`[${p.chunk}]${p.ppl.toFixed(4)},`);
      },
    });
    err.write('\n');
    progressOpen = false;
    const tokensEvaluated = result.nChunks * result.contextSize * (base ? 2 : 1);
    err.write(`${result.nTokensScored} of ${result.nTokens} tokens scored in ${result.nChunks} chunk${result.nChunks === 1 ? '' : 's'}; ` +
      `${(result.elapsedMs / 1000).toFixed(1)} s (${((tokensEvaluated * 1000) / result.elapsedMs).toFixed(1)} tok/s evaluated)\n`);

    if (o.json) {
      const out = {
        model: model.path, ...(base ? { klBase: base.path } : {}), file: o.file,
        batchSize: o.batch ?? null, ...result,
      };
      process.stdout.write(JSON.stringify(out, finite, 2) + '\n');
    } else {
      process.stdout.write(formatPerplexity(result));
    }
  } catch (e) {
    if (progressOpen) err.write('\n');
    if (e instanceof QuantscopeError && e.kind === 'aborted') {
      err.write('interrupted\n');
      process.exitCode = 130;
      return;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    for (const m of models) m.dispose();
  }
}
