/**
 * Perplexity and KL divergence over a text, computed the way llama.cpp's `llama-perplexity` does
 * (examples/perplexity/perplexity.cpp, `perplexity()` and `kl_divergence()`, llama.cpp c392e50):
 *
 * - the whole text is tokenized once, with BOS when the vocabulary adds it (`common_tokenize(ctx,
 *   text, true)`: add_special on, parse_special off);
 * - the tokens are cut into n_chunk = ⌊n_tokens / n_ctx⌋ chunks of n_ctx tokens (a last partial
 *   chunk is dropped);
 * - each chunk is evaluated from an empty context, with its first token replaced by BOS when the
 *   vocabulary adds BOS;
 * - only the second half of each chunk is scored: the logits at positions first = ⌊n_ctx/2⌋ …
 *   n_ctx−2 predict the tokens at first+1 … n_ctx−1, so n_ctx−1−first tokens per chunk;
 * - −log p of each scored token is summed in double (log-softmax in double), PPL = exp(mean), and
 *   its uncertainty is llama.cpp's: ppl · sqrt((mean(nll²) − mean(nll)²) / (count − 1)).
 *
 * With a base model (`llama-perplexity --kl-divergence`), both models run on the same chunks and
 * each scored position adds KL(base ‖ model), whether the two argmax tokens agree, and Δp = p_model
 * − p_base of the correct token; only the current chunk's logits are kept. llama.cpp reads the base
 * from a file of log-probabilities rounded to 16 bits; here the base logits are used in full
 * precision, so the KL values are the exact ones (they differ from llama.cpp's by that rounding).
 */
import { readFile } from 'node:fs/promises';
import { AbortError, QuantscopeError } from '../errors.js';
import type { Model } from '../model.js';
import type { Session } from '../session.js';
import type { KvCacheType } from '../session.js';

// ---------------------------------------------------------------- types

/**
 * Something that evaluates one chunk from an empty context and returns the logits of positions
 * `first` … `tokens.length − 1`, row-major ([tokens.length − first][nVocab]). A session over a model
 * is one (`sessionLogitSource`); tests use synthetic ones.
 */
export interface ChunkLogitSource {
  readonly nVocab: number;
  chunkLogits(tokens: readonly number[], first: number): Float32Array;
}

export interface PerplexityOptions {
  /** n_ctx: tokens per chunk (llama-perplexity `-c`); default 512, llama-perplexity's default */
  contextSize?: number;
  /** tokens per forward pass (the sessions' batchSize); default the session default */
  batchSize?: number;
  /** what the sessions' KV cache stores (SessionOptions.kvType; default f32, as llama-perplexity's references here) */
  kvType?: KvCacheType;
  /** evaluate at most this many chunks (llama-perplexity `--chunks`); default all */
  maxChunks?: number;
  /** also compute KL(base ‖ model) and friends over the same chunks (`--kl-divergence`) */
  klBase?: Model;
  /** include per-chunk statistics in the result; default false */
  perChunk?: boolean;
  signal?: AbortSignal;
  /** called after each chunk */
  onProgress?: (p: PerplexityProgress) => void;
}

export interface PerplexityProgress {
  /** chunks done (1-based index of the chunk just finished) */
  chunk: number;
  nChunks: number;
  /** running PPL over the chunks so far (what llama-perplexity prints as `[chunk]ppl,`) */
  ppl: number;
  /** running mean KL divergence, with a base model */
  kld?: number;
  elapsedMs: number;
}

/** Statistics of one chunk (with `perChunk: true`). */
export interface ChunkStats {
  /** 1-based chunk number */
  chunk: number;
  /** mean −log p over this chunk's scored tokens */
  nll: number;
  /** running PPL over chunks 1 … chunk */
  ppl: number;
  /** mean KL divergence over this chunk's scored tokens, with a base model */
  kld?: number;
}

/** A value and its standard error (llama.cpp's "±"). */
interface Estimate {
  value: number;
  error: number;
}

export interface KlDivergenceStats {
  /** PPL of the base model over the same positions, ± */
  basePpl: number;
  basePplError: number;
  /** PPL(model) / PPL(base), ± (through the covariance of the two nll series, as llama.cpp) */
  pplRatio: number;
  pplRatioError: number;
  /** mean KL(base ‖ model) per scored position, in nats, ± */
  kld: number;
  kldError: number;
  /** largest KL divergence at one position */
  maxKld: number;
  /** share (0…1) of scored positions where both models' argmax tokens agree, ± (binomial) */
  sameTop: number;
  sameTopError: number;
  /** mean of Δp = p_model(correct) − p_base(correct), as a probability (0…1), ± */
  meanDp: number;
  meanDpError: number;
  /** root mean square of Δp, ± (llama.cpp's "RMS Δp", which prints it in %) */
  rmsDp: number;
  rmsDpError: number;
  /** largest |Δp| */
  maxAbsDp: number;
}

export interface PerplexityResult {
  /** exp(mean nll) */
  ppl: number;
  /** llama.cpp's uncertainty of the PPL: ppl × standard error of the mean nll */
  pplError: number;
  /** mean −log p (nats per scored token) = ln(ppl) */
  nll: number;
  nChunks: number;
  /** scored tokens: nChunks × (contextSize − 1 − ⌊contextSize/2⌋) */
  nTokensScored: number;
  /** tokens of the whole text (with BOS) */
  nTokens: number;
  contextSize: number;
  /** with a base model */
  kl?: KlDivergenceStats;
  perChunk?: ChunkStats[];
  /** wall-clock time of the evaluation (not the tokenization) */
  elapsedMs: number;
}

// ---------------------------------------------------------------- chunking

export interface ChunkPlan {
  contextSize: number;
  nChunks: number;
  /** first scored logit position in a chunk: ⌊contextSize/2⌋ */
  first: number;
  /** scored tokens per chunk: contextSize − 1 − first */
  scoredPerChunk: number;
}

/** The smallest context that scores at least one token per chunk (positions 1 … 1 of 3). */
export const MIN_PERPLEXITY_CONTEXT = 3;

/** How llama-perplexity cuts `nTokens` tokens into chunks of `contextSize`. */
export function planChunks(nTokens: number, contextSize: number, maxChunks?: number): ChunkPlan {
  if (!Number.isInteger(contextSize) || contextSize < MIN_PERPLEXITY_CONTEXT) {
    throw new QuantscopeError('invalid_argument',
      `the perplexity context must be an integer of at least ${MIN_PERPLEXITY_CONTEXT} tokens (only the second half ` +
      `of each chunk is scored, positions ⌊ctx/2⌋ … ctx−2), got ${contextSize}`);
  }
  if (maxChunks !== undefined && (!Number.isInteger(maxChunks) || maxChunks < 1)) {
    throw new QuantscopeError('invalid_argument', `the number of chunks must be a positive integer, got ${maxChunks}`);
  }
  const nChunkMax = Math.floor(nTokens / contextSize);
  if (nChunkMax < 1) {
    throw new QuantscopeError('invalid_argument',
      `the text tokenizes to only ${nTokens} tokens, fewer than one chunk of ${contextSize} ` +
      `(the context size); use a longer text or a smaller context`);
  }
  const first = Math.floor(contextSize / 2);
  return {
    contextSize,
    nChunks: maxChunks === undefined ? nChunkMax : Math.min(maxChunks, nChunkMax),
    first,
    scoredPerChunk: contextSize - 1 - first,
  };
}

/** The tokens chunk `i` is evaluated on: tokens[i·ctx … (i+1)·ctx), the first one replaced by BOS. */
export function chunkTokens(tokens: readonly number[], plan: ChunkPlan, i: number, bosId: number | null): number[] {
  const start = i * plan.contextSize;
  const chunk = tokens.slice(start, start + plan.contextSize);
  if (bosId !== null) chunk[0] = bosId;
  return chunk;
}

// ---------------------------------------------------------------- scoring

/** log-softmax of row `r` of `logits` at `tok`, in double; also the row's argmax and log-sum-exp. */
interface RowStats {
  logProb: number;
  lse: number;
  argmax: number;
}

function rowStats(logits: Float32Array, r: number, nVocab: number, tok: number): RowStats {
  const off = r * nVocab;
  let max = logits[off]!;
  let argmax = 0;
  for (let v = 1; v < nVocab; v++) {
    const x = logits[off + v]!;
    if (x > max) { max = x; argmax = v; }
  }
  let sum = 0;
  for (let v = 0; v < nVocab; v++) sum += Math.exp(logits[off + v]! - max);
  const lse = max + Math.log(sum);
  return { logProb: logits[off + tok]! - lse, lse, argmax };
}

/** KL(base ‖ model) at one position: Σ p_b (log p_b − log p_m) = Σ p_b (b − z) + lse_z − lse_b. */
function klAt(base: Float32Array, model: Float32Array, r: number, nVocab: number, lseBase: number, lseModel: number): number {
  const off = r * nVocab;
  let acc = 0;
  for (let v = 0; v < nVocab; v++) {
    const b = base[off + v]!;
    acc += Math.exp(b - lseBase) * (b - model[off + v]!);
  }
  return acc + lseModel - lseBase;
}

/** llama.cpp's mean_and_uncertainty: mean, and the standard error of the mean (0 for ≤ 10 values). */
function meanAndError(sum: number, sum2: number, count: number): Estimate {
  if (count < 1) return { value: 0, error: 0 };
  const mean = sum / count;
  const v = sum2 / count - mean * mean;
  return { value: mean, error: v > 0 && count > 10 ? Math.sqrt(v / (count - 1)) : 0 };
}

/** PPL ± as llama-perplexity's final estimate (a NaN uncertainty when it cannot be estimated). */
function pplEstimate(sum: number, sum2: number, count: number): { ppl: number; error: number; nll: number } {
  const nll = sum / count;
  const ppl = Math.exp(nll);
  const v = sum2 / count - nll * nll;
  const error = count > 1 && v >= 0 ? Math.sqrt(v / (count - 1)) * ppl : Number.NaN;
  return { ppl, error, nll };
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError(signal.reason instanceof Error ? signal.reason.message : 'perplexity aborted');
}

export interface ScoreOptions {
  contextSize: number;
  maxChunks?: number;
  /** BOS id put at the start of every chunk, or null when the vocabulary adds no BOS */
  bosId: number | null;
  /** base model's logits for KL divergence */
  base?: ChunkLogitSource;
  perChunk?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PerplexityProgress) => void;
}

/**
 * The core of `perplexity`: chunk `tokens` (already tokenized, with BOS) and score them on `source`
 * (and `base`), llama-perplexity's way. Yields to the event loop between chunks, so an AbortSignal
 * fired from a handler takes effect.
 */
export async function scorePerplexity(tokens: readonly number[], source: ChunkLogitSource, opts: ScoreOptions): Promise<PerplexityResult> {
  const plan = planChunks(tokens.length, opts.contextSize, opts.maxChunks);
  const { nChunks, first, scoredPerChunk } = plan;
  const nVocab = source.nVocab;
  const base = opts.base;
  if (base && base.nVocab !== nVocab) {
    throw new QuantscopeError('invalid_argument', `the model has ${nVocab} logits per position but the base model ${base.nVocab}`);
  }
  for (const [i, t] of tokens.entries()) {
    if (!Number.isInteger(t) || t < 0 || t >= nVocab) {
      throw new QuantscopeError('invalid_argument', `token ${i} is ${t}, outside the vocabulary [0, ${nVocab})`);
    }
  }
  const expectRows = (what: string, logits: Float32Array) => {
    if (logits.length !== (plan.contextSize - first) * nVocab) {
      throw new QuantscopeError('invalid_argument',
        `${what} returned ${logits.length} logits for a chunk, expected ${(plan.contextSize - first) * nVocab}`);
    }
  };

  let nll = 0, nll2 = 0, count = 0;
  // KL accumulators (llama.cpp's kl_divergence_result)
  let nllBase = 0, nllBase2 = 0, nllNllBase = 0, kld = 0, kld2 = 0, maxKld = 0;
  let dp = 0, dp2 = 0, dp4 = 0, maxAbsDp = 0, sameTop = 0;
  const perChunk: ChunkStats[] = [];
  const t0 = performance.now();

  for (let i = 0; i < nChunks; i++) {
    throwIfAborted(opts.signal);
    const chunk = chunkTokens(tokens, plan, i, opts.bosId);
    const logits = source.chunkLogits(chunk, first);
    expectRows('the model', logits);
    const baseLogits = base?.chunkLogits(chunk, first);
    if (baseLogits) expectRows('the base model', baseLogits);

    let chunkNll = 0, chunkKld = 0;
    // row r of the returned logits is position first + r; rows 0 … scoredPerChunk−1 predict the next token
    const start = i * plan.contextSize;
    for (let r = 0; r < scoredPerChunk; r++) {
      const next = tokens[start + first + r + 1]!;
      const m = rowStats(logits, r, nVocab, next);
      const v = -m.logProb;
      nll += v;
      nll2 += v * v;
      chunkNll += v;
      if (baseLogits) {
        const b = rowStats(baseLogits, r, nVocab, next);
        const vb = -b.logProb;
        nllBase += vb;
        nllBase2 += vb * vb;
        nllNllBase += v * vb;
        const k = klAt(baseLogits, logits, r, nVocab, b.lse, m.lse);
        kld += k;
        kld2 += k * k;
        chunkKld += k;
        if (k > maxKld) maxKld = k;
        if (m.argmax === b.argmax) sameTop++;
        const d = Math.exp(m.logProb) - Math.exp(b.logProb);
        dp += d;
        dp2 += d * d;
        dp4 += d * d * d * d;
        if (Math.abs(d) > maxAbsDp) maxAbsDp = Math.abs(d);
      }
    }
    count += scoredPerChunk;

    const running = Math.exp(nll / count);
    if (opts.perChunk) {
      perChunk.push({
        chunk: i + 1, nll: chunkNll / scoredPerChunk, ppl: running,
        ...(base ? { kld: chunkKld / scoredPerChunk } : {}),
      });
    }
    opts.onProgress?.({
      chunk: i + 1, nChunks, ppl: running, ...(base ? { kld: kld / count } : {}), elapsedMs: performance.now() - t0,
    });
    if (i + 1 < nChunks) await yieldToEventLoop();
  }
  throwIfAborted(opts.signal);

  const est = pplEstimate(nll, nll2, count);
  const result: PerplexityResult = {
    ppl: est.ppl, pplError: est.error, nll: est.nll, nChunks, nTokensScored: count, nTokens: tokens.length,
    contextSize: plan.contextSize, elapsedMs: performance.now() - t0,
  };
  if (base) {
    const logPpl = meanAndError(nll, nll2, count);
    const logPplBase = meanAndError(nllBase, nllBase2, count);
    const cov = count < 10 ? 0 : (nllNllBase / count - (nll / count) * (nllBase / count)) / (count - 1);
    const logRatio = logPpl.value - logPplBase.value;
    const logRatioError = Math.sqrt(Math.max(0, logPpl.error ** 2 + logPplBase.error ** 2 - 2 * cov));
    const kl = meanAndError(kld, kld2, count);
    const meanDp = meanAndError(dp, dp2, count);
    const mse = meanAndError(dp2, dp4, count);
    const rms = Math.sqrt(mse.value);
    const top = sameTop / count;
    const basePpl = Math.exp(logPplBase.value);
    result.kl = {
      basePpl, basePplError: basePpl * logPplBase.error,
      pplRatio: Math.exp(logRatio), pplRatioError: Math.exp(logRatio) * logRatioError,
      kld: kl.value, kldError: kl.error, maxKld,
      sameTop: top, sameTopError: count > 1 ? Math.sqrt((top * (1 - top)) / (count - 1)) : 0,
      meanDp: meanDp.value, meanDpError: meanDp.error,
      rmsDp: rms, rmsDpError: rms > 0 ? (0.5 / rms) * mse.error : 0,
      maxAbsDp,
    };
  }
  if (opts.perChunk) result.perChunk = perChunk;
  return result;
}

// ---------------------------------------------------------------- models

/**
 * A ChunkLogitSource over a session: reset, evaluate the unscored first part of the chunk without
 * logits, then the rest with `logits: 'all'` (llama.cpp also asks only for positions ≥ first). The
 * engine's logits do not depend on how the tokens are batched, so this equals evaluating the whole
 * chunk with `logits: 'all'` and dropping the first rows.
 */
export function sessionLogitSource(session: Session): ChunkLogitSource {
  return {
    nVocab: session.model.config.nVocab,
    chunkLogits(tokens: readonly number[], first: number): Float32Array {
      session.reset();
      if (first > 0) session.evaluate(tokens.slice(0, first));
      return session.evaluate(tokens.slice(first), { logits: 'all' });
    },
  };
}

/** Why two models cannot be compared token by token, or null when their vocabularies agree. */
export function vocabularyMismatch(a: Model, b: Model): string | null {
  const na = a.config.nVocab, nb = b.config.nVocab;
  if (na !== nb) return `${na} vs ${nb} tokens`;
  const ta = a.vocab.tokens, tb = b.vocab.tokens;
  if (ta.length !== tb.length) return `${ta.length} vs ${tb.length} token texts`;
  for (let i = 0; i < ta.length; i++) {
    if (ta[i] !== tb[i]) return `token ${i} is ${JSON.stringify(ta[i])} vs ${JSON.stringify(tb[i])}`;
  }
  if (a.vocab.bosId !== b.vocab.bosId || a.vocab.addBos !== b.vocab.addBos) {
    return `BOS ${a.vocab.addBos ? a.vocab.bosId : 'not added'} vs ${b.vocab.addBos ? b.vocab.bosId : 'not added'}`;
  }
  return null;
}

/**
 * Perplexity of `model` over `text`, as `llama-perplexity -c contextSize` computes it; with
 * `klBase`, also the KL divergence statistics of `llama-perplexity --kl-divergence` against that
 * base model (both run on the same chunks; the text is tokenized by the base, as llama.cpp does).
 */
export async function perplexity(model: Model, text: string, opts: PerplexityOptions = {}): Promise<PerplexityResult> {
  const contextSize = opts.contextSize ?? 512;
  const base = opts.klBase;
  if (base) {
    const why = vocabularyMismatch(model, base);
    if (why !== null) {
      throw new QuantscopeError('invalid_argument',
        `${model.path} and the KL base ${base.path} have different vocabularies (${why}); KL divergence needs the same tokens`);
    }
  }
  const tokenizer = base ?? model;
  if (tokenizer.vocab.addEos) {
    throw new QuantscopeError('unsupported_model', `${tokenizer.path}: the vocabulary adds EOS, which llama-perplexity does not support either`);
  }
  const tokens = tokenizer.tokenize(text, { addSpecial: true, parseSpecial: false });
  // validate before allocating sessions
  planChunks(tokens.length, contextSize, opts.maxChunks);
  const bosId = tokenizer.vocab.addBos ? tokenizer.vocab.bosId : null;

  const sessions: Session[] = [];
  try {
    const open = (m: Model) => {
      const s = m.createSession({ contextSize, batchSize: opts.batchSize, kvType: opts.kvType });
      sessions.push(s);
      return sessionLogitSource(s);
    };
    const source = open(model);
    return await scorePerplexity(tokens, source, {
      contextSize, maxChunks: opts.maxChunks, bosId, base: base ? open(base) : undefined,
      perChunk: opts.perChunk, signal: opts.signal, onProgress: opts.onProgress,
    });
  } finally {
    for (const s of sessions) s.dispose();
  }
}

/**
 * Read a text file as llama.cpp's `-f` does: the whole file, minus one trailing newline.
 * A missing or unreadable file is a QuantscopeError.
 */
export async function readTextFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new QuantscopeError('invalid_argument', `cannot read the text file ${path}: ${why}`, { cause: e });
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
