import { readGguf } from '../gguf/reader.js';
import type { GgufFile } from '../gguf/types.js';
import { createEngine, type Engine, type KernelKind } from '../wasm/instance.js';
import { defaultThreads } from '../wasm/threads.js';
import { readConfig, type LlamaConfig } from './config.js';
import { loadWeights, type LlamaWeights, type LoadProgress } from './weights.js';

export interface LoadedModel {
  readonly file: GgufFile;
  readonly cfg: LlamaConfig;
  readonly weights: LlamaWeights;
  readonly engine: Engine;
}

export interface LoadModelOptions {
  /** called as tensor data is read, for progress bars */
  onProgress?: (p: LoadProgress) => void;
  /** run the scalar `_generic` kernels instead of the SIMD ones (for checking) */
  generic?: boolean;
  /** relaxed SIMD, SIMD128 or generic kernels (default auto: see createEngine) */
  kernels?: KernelKind | 'auto';
  /** threads for matrix products (default defaultThreads(): one per core; the generic kernels always run on one) */
  threads?: number;
}

/** Parse the header, check the model, and copy its tensors into a fresh kernel instance. */
export async function loadLlama(path: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const file = await readGguf(path);
  const cfg = readConfig(file);
  const engine = createEngine({ generic: opts.generic, kernels: opts.kernels });
  await engine.startThreads(opts.threads ?? defaultThreads());
  let weights: LlamaWeights;
  try {
    weights = await loadWeights(file, cfg, engine, opts.onProgress);
  } catch (e) {
    engine.dispose();
    throw e;
  }
  return { file, cfg, weights, engine };
}
