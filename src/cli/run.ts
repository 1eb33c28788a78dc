import { loadModel } from '../model.js';
import { defaultModelPath } from '../paths.js';
import { QuantscopeError } from '../errors.js';
import { loadProgress } from './progress.js';
import type { GenerationResult, KvCacheType } from '../session.js';
import type { KernelKind } from '../wasm/instance.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function timings(v: GenerationResult): string {
  const rate = (n: number, ms: number) => (n > 0 && ms > 0 ? ` (${((n * 1000) / ms).toFixed(1)} tok/s)` : '');
  return `prompt: ${plural(v.promptTokens, 'token')} in ${v.promptMs.toFixed(1)} ms${rate(v.promptTokens, v.promptMs)}; ` +
    `generated: ${plural(v.tokens.length, 'token')} in ${v.generateMs.toFixed(1)} ms${rate(v.tokens.length, v.generateMs)}; ` +
    `stop: ${v.stopReason}`;
}

export interface RunOptions {
  model?: string;
  nPredict: number;
  temp: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  seed?: number;
  ctx?: number;
  stop: string[];
  generic?: boolean;
  kernels?: KernelKind | 'auto';
  threads?: number;
  kvType?: KvCacheType;
}

/** `quantscope run`: the prompt and its continuation to stdout; loading and timings to stderr. */
export async function runCommand(prompt: string | undefined, o: RunOptions): Promise<void> {
  const path = o.model ?? defaultModelPath();
  const progress = loadProgress(path);
  const model = await loadModel(path, { onProgress: progress.onProgress, generic: o.generic, kernels: o.kernels, threads: o.threads });
  progress.done(model.weightBytes);
  const session = model.createSession({ contextSize: o.ctx, kvType: o.kvType });

  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const out = process.stdout;
  const text = prompt ?? '';
  let promptShown = false;
  // the prompt is echoed once it has been evaluated, so a prompt that does not fit prints nothing
  const showPrompt = () => {
    if (!promptShown) out.write(text);
    promptShown = true;
  };
  try {
    const it = session.generate(text, {
      maxTokens: o.nPredict, temperature: o.temp, topK: o.topK, topP: o.topP, minP: o.minP,
      repeatPenalty: o.repeatPenalty, seed: o.seed, stop: o.stop, signal: abort.signal,
    });
    for (;;) {
      const r = await it.next();
      showPrompt();
      if (r.done) {
        out.write(r.value.tail + '\n');
        process.stderr.write(timings(r.value) + '\n');
        break;
      }
      out.write(r.value.text);
    }
  } catch (e) {
    if (e instanceof QuantscopeError && e.kind === 'aborted') {
      if (promptShown) out.write('\n');
      process.stderr.write('interrupted\n');
      return;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    model.dispose();
  }
}
