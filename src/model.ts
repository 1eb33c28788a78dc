import { QuantscopeError } from './errors.js';
import type { GgufFile } from './gguf/types.js';
import { loadLlama, type LoadedModel } from './model/model.js';
import type { LlamaConfig } from './model/config.js';
import type { LoadProgress } from './model/weights.js';
import { Vocab, tokenize, detokenize, tokenToPiece } from './tokenizer/index.js';
import { Session, type SessionOptions } from './session.js';
import { ggmlTypeName } from './quant/ggml-types.js';
import type { KernelKind } from './wasm/instance.js';

export interface LoadModelOptions {
  /** called as tensor data is read (bytes loaded / total), e.g. for a progress bar */
  onProgress?: (progress: LoadProgress) => void;
  /** run the scalar `_generic` kernels instead of the SIMD ones (for checking the SIMD path) */
  generic?: boolean;
  /**
   * which kernels: `auto` (default) takes the relaxed-SIMD module where the runtime runs it with
   * exact results (Node ≥ 22), else SIMD128; the numbers are the same either way (see KernelKind)
   */
  kernels?: KernelKind | 'auto';
  /**
   * threads for the matrix products (default: one per core, os.availableParallelism(), or the
   * environment's QUANTSCOPE_THREADS): the main thread and threads − 1 workers share the
   * engine's memory, so the weights are held once; the numbers do not depend on it (each output row
   * is computed whole by one thread). The generic kernels run on one thread.
   */
  threads?: number;
}

export interface TokenizeOptions {
  /** add BOS/EOS as the model's metadata asks; default true */
  addSpecial?: boolean;
  /** recognise special-token texts such as `<s>` in the input; default false */
  parseSpecial?: boolean;
}

export interface DetokenizeOptions {
  /** render control tokens (BOS, EOS, …) as their text; default false */
  special?: boolean;
}

/** A loaded GGUF model: weights in the engine's memory, its tokenizer, and sessions over it. */
export class Model {
  readonly path: string;
  readonly config: LlamaConfig;
  readonly gguf: GgufFile;
  readonly vocab: Vocab;
  /** @internal */
  readonly loaded: LoadedModel;
  private disposed = false;
  private readonly sessions = new Set<Session>();

  private constructor(path: string, loaded: LoadedModel, vocab: Vocab) {
    this.path = path;
    this.loaded = loaded;
    this.config = loaded.cfg;
    this.gguf = loaded.file;
    this.vocab = vocab;
  }

  /** Load a GGUF file: parse its header, build the tokenizer, copy the weights into WASM memory. */
  static async load(path: string, opts: LoadModelOptions = {}): Promise<Model> {
    const loaded = await loadLlama(path, opts);
    return new Model(path, loaded, Vocab.fromGguf(loaded.file));
  }

  get bosId(): number | null { return this.vocab.bosId; }
  get eosId(): number | null { return this.vocab.eosId; }
  /** bytes of tensor data held in the engine's memory */
  get weightBytes(): number { return this.loaded.weights.bytes; }
  /** tensor type name → count, for the weights the forward pass uses */
  get tensorTypes(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const t of this.gguf.tensors) counts[ggmlTypeName(t.type)] = (counts[ggmlTypeName(t.type)] ?? 0) + 1;
    return counts;
  }

  tokenize(text: string, opts: TokenizeOptions = {}): number[] {
    return tokenize(this.vocab, text, { addSpecial: opts.addSpecial ?? true, parseSpecial: opts.parseSpecial ?? false });
  }

  detokenize(ids: readonly number[], opts: DetokenizeOptions = {}): string {
    return detokenize(this.vocab, ids, { unparseSpecial: opts.special ?? false });
  }

  /** The text of one token (control tokens render as their text). */
  tokenText(id: number): string {
    return new TextDecoder().decode(tokenToPiece(this.vocab, id, { special: true }));
  }

  isEndOfGeneration(id: number): boolean {
    return this.vocab.isEog(id);
  }

  /** A new session with its own KV cache of `contextSize` positions. */
  createSession(opts: SessionOptions = {}): Session {
    this.assertAlive();
    const session = new Session(this, opts, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  /** Free the engine's memory; the model and its sessions cannot be used afterwards. */
  dispose(): void {
    for (const s of [...this.sessions]) s.dispose();
    this.loaded.engine.dispose();
    this.disposed = true;
  }

  /** threads running the matrix products */
  get threads(): number { return this.loaded.engine.threads; }

  /** @internal */
  assertAlive(): void {
    if (this.disposed) throw new QuantscopeError('invalid_argument', `model ${this.path} has been disposed`);
  }
}

/** Load a GGUF model. */
export function loadModel(path: string, opts: LoadModelOptions = {}): Promise<Model> {
  return Model.load(path, opts);
}
