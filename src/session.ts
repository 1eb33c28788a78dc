import { AbortError, ContextOverflowError, QuantscopeError } from './errors.js';
import type { Model } from './model.js';
import { forward, type LogitsMode } from './model/llama.js';
import { KvCache, KV_CACHE_TYPES, type KvCacheType } from './model/kv-cache.js';
import { RunState } from './model/run-state.js';
import type { TapFn } from './model/taps.js';
import { Sampler, type SamplingOptions } from './sampling/index.js';
import { StreamingDecoder } from './tokenizer/index.js';
import { StopStringMatcher } from './generate/stop-strings.js';

export interface SessionOptions {
  /** positions the KV cache holds (prompt + generated); default min(training context, 4096) */
  contextSize?: number;
  /** prompt tokens evaluated per forward pass; default 32 */
  batchSize?: number;
  /**
   * what the KV cache stores: `'f32'` (default; llama.cpp's test/fixtures references were made with
   * an F32 cache, and this engine matches them) or `'f16'`, half the memory, computed exactly as
   * llama.cpp's CPU backend does with an F16 cache (keys, values, queries and attention weights
   * rounded to f16 where llama.cpp rounds them). llama.cpp's own default is F16.
   */
  kvType?: KvCacheType;
}

export type { KvCacheType };

export interface EvaluateOptions {
  /** 'last' (default): logits of the last token; 'all': logits of every evaluated token, row-major */
  logits?: 'last' | 'all';
  /** receives intermediate tensors (see model/taps.ts) */
  onTap?: TapFn;
}

export interface GenerateOptions extends SamplingOptions {
  /** stop after this many new tokens; default 256 */
  maxTokens?: number;
  /** stop when the text contains one of these (the stop string itself is not emitted) */
  stop?: readonly string[];
  signal?: AbortSignal;
  /** tokenize a string prompt with BOS/EOS as the model asks; default: only when the session is empty */
  addSpecial?: boolean;
  /** recognise special-token texts (`<s>`, …) in a string prompt; default false */
  parseSpecial?: boolean;
}

export interface GeneratedToken {
  id: number;
  /** text that is final as of this token (UTF-8 split across tokens and possible stop-string starts are held back) */
  text: string;
  /** log-probability of the token under the model's raw logits */
  logprob: number;
}

export type StopReason = 'eos' | 'max_tokens' | 'stop' | 'context_full';

export interface GenerationResult {
  tokens: number[];
  /** the whole generated text (including any tail held back until the end) */
  text: string;
  /** text released only at the end: print it after the streamed tokens */
  tail: string;
  stopReason: StopReason;
  promptTokens: number;
  promptMs: number;
  generateMs: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A conversation state over a model: its KV cache, the tokens evaluated so far and scratch
 * buffers. Calls append to the context; `reset()` empties it.
 */
export class Session {
  readonly model: Model;
  readonly contextSize: number;
  readonly batchSize: number;
  /** what the KV cache stores (SessionOptions.kvType) */
  readonly kvType: KvCacheType;
  private readonly kv: KvCache;
  private readonly state: RunState;
  private readonly history: number[] = [];
  /** sampled but not yet evaluated (the last token of a finished generation) */
  private pending: number | null = null;
  private lastLogits: Float32Array | null = null;
  private disposed = false;

  /** @internal use Model.createSession */
  constructor(model: Model, opts: SessionOptions, private readonly onDispose: () => void) {
    const cfg = model.config;
    const contextSize = opts.contextSize ?? Math.min(cfg.nCtxTrain, 4096);
    if (!Number.isInteger(contextSize) || contextSize < 1) {
      throw new QuantscopeError('invalid_argument', `contextSize must be a positive integer, got ${contextSize}`);
    }
    const batchSize = Math.min(opts.batchSize ?? 32, contextSize);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new QuantscopeError('invalid_argument', `batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    const kvType = opts.kvType ?? 'f32';
    if (!KV_CACHE_TYPES.includes(kvType)) {
      throw new QuantscopeError('invalid_argument', `kvType must be one of ${KV_CACHE_TYPES.join(', ')}, got ${String(opts.kvType)}`);
    }
    this.model = model;
    this.contextSize = contextSize;
    this.batchSize = batchSize;
    this.kvType = kvType;
    const arena = model.loaded.engine.arena;
    this.kv = new KvCache(arena, cfg, contextSize, kvType);
    try {
      this.state = new RunState(arena, cfg, batchSize, contextSize, model.loaded.engine.threads);
    } catch (e) {
      this.kv.dispose();
      throw e;
    }
  }

  /** tokens in the context so far (evaluated, plus a last sampled token not yet evaluated) */
  get tokens(): readonly number[] {
    return this.pending === null ? [...this.history] : [...this.history, this.pending];
  }

  /** bytes the KV cache holds in the engine's memory (K and V, every layer, contextSize rounded up to 32) */
  get kvBytes(): number {
    return this.kv.bytes;
  }

  /** number of positions evaluated into the KV cache */
  get position(): number {
    return this.history.length;
  }

  /**
   * Evaluate tokens after the current context and return logits: of the last token (default) or
   * of every token ([n][nVocab] row-major with `logits: 'all'`). The returned array is a copy.
   */
  evaluate(tokens: readonly number[], opts: EvaluateOptions = {}): Float32Array {
    this.assertAlive();
    const ids = this.pending === null ? [...tokens] : [this.pending, ...tokens];
    const nVocab = this.model.config.nVocab;
    for (const [i, id] of ids.entries()) {
      if (!Number.isInteger(id) || id < 0 || id >= nVocab) {
        throw new QuantscopeError('invalid_argument', `token ${i} is ${id}, outside the vocabulary [0, ${nVocab})`);
      }
    }
    if (ids.length === 0) {
      if (this.lastLogits) return this.lastLogits.slice();
      throw new QuantscopeError('invalid_argument', 'nothing to evaluate: no tokens given and the session is empty');
    }
    if (this.history.length + ids.length > this.contextSize) {
      throw new ContextOverflowError(this.history.length + ids.length, this.contextSize, this.history.length);
    }
    const all = opts.logits === 'all';
    const out = all ? new Float32Array(tokens.length * nVocab) : new Float32Array(nVocab);
    const skip = ids.length - tokens.length; // a pending token's logits are not asked for
    const { loaded } = this.model;
    const arena = loaded.engine.arena;
    for (let start = 0; start < ids.length; start += this.batchSize) {
      const chunk = ids.slice(start, start + this.batchSize);
      const isLast = start + chunk.length === ids.length;
      const mode: LogitsMode = all ? 'all' : isLast ? 'last' : 'none';
      this.runForward(chunk, mode, opts.onTap);
      if (all) {
        const first = Math.max(0, skip - start);
        const rows = chunk.length - first;
        if (rows > 0) out.set(arena.f32(this.state.logits + first * nVocab * 4, rows * nVocab), (start + first - skip) * nVocab);
      } else if (isLast) {
        out.set(arena.f32(this.state.logits, nVocab));
      }
      this.history.push(...chunk);
      if (start === 0) this.pending = null;
    }
    this.lastLogits = all ? out.slice((tokens.length - 1) * nVocab) : out.slice();
    return out;
  }

  /**
   * Stream a continuation of `prompt` (text or token ids) as an async iterator of tokens; its
   * return value summarises the run. Stops at end-of-generation tokens, `maxTokens`, a stop
   * string, or a full context; an aborted signal throws AbortError, keeping what was generated
   * in the session.
   */
  async *generate(prompt: string | readonly number[], opts: GenerateOptions = {}): AsyncGenerator<GeneratedToken, GenerationResult> {
    this.assertAlive();
    const maxTokens = opts.maxTokens ?? 256;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new QuantscopeError('invalid_argument', `maxTokens must be a non-negative integer, got ${maxTokens}`);
    }
    const sampler = Sampler.fromOptions(opts);
    const ids = typeof prompt === 'string'
      ? this.model.tokenize(prompt, { addSpecial: opts.addSpecial ?? this.tokens.length === 0, parseSpecial: opts.parseSpecial })
      : [...prompt];
    throwIfAborted(opts.signal);

    const t0 = performance.now();
    let logits = this.evaluate(ids);
    const promptMs = performance.now() - t0;

    const decoder = new StreamingDecoder(this.model.vocab);
    const stops = new StopStringMatcher(opts.stop ?? []);
    const generated: number[] = [];
    let text = '';
    let stopReason: StopReason = 'max_tokens';
    const t1 = performance.now();
    while (generated.length < maxTokens) {
      await yieldToEventLoop();
      throwIfAborted(opts.signal);
      const { token, logprob } = sampler.sample(logits, this.tokens);
      if (this.model.isEndOfGeneration(token)) { stopReason = 'eos'; break; }
      generated.push(token);
      this.pending = token;
      const { emit, stopped } = stops.push(decoder.push(token));
      text += emit;
      yield { id: token, text: emit, logprob };
      if (stopped) { stopReason = 'stop'; break; }
      if (generated.length === maxTokens) break;
      if (this.history.length + 1 > this.contextSize) { stopReason = 'context_full'; break; }
      logits = this.evaluate([]);
    }
    const tail = stopReason === 'stop' ? '' : stops.push(decoder.flush()).emit + stops.flush();
    text += tail;
    return {
      tokens: generated, text, tail, stopReason, promptTokens: ids.length, promptMs,
      generateMs: performance.now() - t1,
    };
  }

  /** Run `generate` to the end and return its summary. */
  async complete(prompt: string | readonly number[], opts: GenerateOptions = {}): Promise<GenerationResult> {
    const it = this.generate(prompt, opts);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  /** Empty the context (the KV cache is kept and reused). */
  reset(): void {
    this.assertAlive();
    this.history.length = 0;
    this.pending = null;
    this.lastLogits = null;
    this.kv.clear();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.kv.dispose();
    this.state.dispose();
    this.onDispose();
  }

  private runForward(chunk: number[], mode: LogitsMode, tap?: TapFn): void {
    const pos0 = this.history.length;
    try {
      forward(this.model.loaded, this.state, this.kv, chunk, pos0, mode, tap);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        throw new QuantscopeError('wasm',
          `the WASM kernels trapped (${e.message}) evaluating positions ${pos0}..${pos0 + chunk.length - 1} of ${this.model.path}`,
          { cause: e });
      }
      throw e;
    }
  }

  private assertAlive(): void {
    if (this.disposed) throw new QuantscopeError('invalid_argument', 'this session has been disposed');
    this.model.assertAlive();
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError(signal.reason instanceof Error ? signal.reason.message : 'generation aborted');
}
