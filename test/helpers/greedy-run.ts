// One model run whose every number the thread and kernel-set suites compare bit for bit: the logits
// of every prompt position, 12 greedy tokens after it, and the logits after them.
import { loadModel, type LoadModelOptions } from '../../src/index.js';
import { modelPath } from './fixtures.js';

const PROMPT = 'And it came to pass, when the people were come to the king, that they took';

export interface GreedyRun {
  all: Float32Array;
  tokens: number[];
  last: Float32Array;
  /** what the model ran on */
  threads: number;
  kind: string;
}

export async function greedyRun(file: string, opts: LoadModelOptions): Promise<GreedyRun> {
  const model = await loadModel(modelPath(file), opts);
  try {
    const session = model.createSession({ contextSize: 64 });
    const all = session.evaluate(model.tokenize(PROMPT), { logits: 'all' });
    const gen = await session.complete([], { maxTokens: 12, temperature: 0 });
    return { all, tokens: gen.tokens, last: session.evaluate([]), threads: model.threads, kind: model.loaded.engine.kind };
  } finally {
    model.dispose();
  }
}
