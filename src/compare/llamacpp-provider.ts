// `--reference llama.cpp`: llama.cpp's answers for `compare`, from node-llama-cpp in a child process.
import { LlamaCppReferenceError } from '../errors.js';
import { llamaCppAvailable, runLlamaCpp, type LlamaCppJob, type LlamaCppOptions } from '../reference/llamacpp.js';
import type { ReferenceAnswer, ReferenceProvider } from './compare.js';

/** Fail early, before any file is measured, when node-llama-cpp is not installed. */
export function assertLlamaCppAvailable(): void {
  if (!llamaCppAvailable()) {
    throw new LlamaCppReferenceError('unavailable',
      '--reference llama.cpp needs node-llama-cpp, which is not installed; install it next to quantscope with `npm i -E node-llama-cpp@3.21.1`');
  }
}

/**
 * A ReferenceProvider running the files through llama.cpp, all in one child process. A file llama.cpp
 * cannot run (it aborts on some malformed models) gets its error in its own column, and the files
 * after it are run in a fresh child.
 */
export function llamaCppProvider(opts: LlamaCppOptions = {}): ReferenceProvider {
  return async (jobs) => {
    const answers: Array<ReferenceAnswer | { error: string }> = [];
    let rest: LlamaCppJob[] = jobs;
    while (rest.length > 0) {
      try {
        for (const r of await runLlamaCpp(rest, opts)) answers.push({ engine: r.engine, probs: r.probs, top: r.top, greedy: r.greedy });
        rest = [];
      } catch (e) {
        if (!(e instanceof LlamaCppReferenceError) || e.reason === 'unavailable') throw e;
        for (const r of e.completed) answers.push({ engine: r.engine, probs: r.probs, top: r.top, greedy: r.greedy });
        answers.push({ error: e.message });
        rest = rest.slice(e.completed.length + 1);
      }
    }
    return answers;
  };
}
