import { QuantscopeError } from '../errors.js';
import { resolveSampling, type SamplingConfig, type SamplingOptions } from './config.js';
import {
  applyRepetitionPenalty,
  applyTemperature,
  createCandidates,
  fillCandidates,
  minP,
  softmaxCandidates,
  softmaxInto,
  topK,
  topP,
  type Candidates,
} from './processors.js';
import { Rng } from './rng.js';

/** Index of the largest logit; the lowest index wins ties. NaN entries never win. 0 for all-NaN. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestVal = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > bestVal) {
      bestVal = v;
      best = i;
    }
  }
  return best;
}

/**
 * Softmax of a full logit vector into a new array: max-subtracted for stability, summed
 * in double precision. All −Infinity → uniform; any +Infinity → uniform over those.
 */
export function softmax(logits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(logits.length);
  softmaxInto(logits, out);
  return out;
}

/** log softmax(logits)[token], computed in double precision (log-sum-exp, max-subtracted). */
export function logSoftmaxAt(logits: ArrayLike<number>, token: number): number {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  if (!Number.isFinite(max)) return logits[token] === max ? -Math.log(countEqual(logits, max)) : -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max);
  return logits[token]! - max - Math.log(sum);
}

function countEqual(a: ArrayLike<number>, v: number): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === v) c++;
  return c;
}

/**
 * llama2.c's `sample_mult`: inverse-CDF draw from `probs[0, n)` with a uniform `coin` in
 * [0, 1). The coin is scaled by the actual total, so slightly unnormalised (float32)
 * probabilities are fine; zero-probability entries are never returned.
 */
export function sampleFromProbs(probs: ArrayLike<number>, coin: number, n: number = probs.length): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += probs[i]!;
  const r = coin * total;
  let cdf = 0;
  let lastPositive = n - 1;
  for (let i = 0; i < n; i++) {
    const p = probs[i]!;
    if (p > 0) lastPositive = i;
    cdf += p;
    if (r < cdf) return i;
  }
  return lastPositive; // only reached through rounding with coin ≈ 1
}

export interface SampleResult {
  /** The chosen token id. */
  token: number;
  /**
   * log p(token) under the model's **raw** logits as passed to {@link Sampler.sample},
   * i.e. the log-softmax before repetition penalty, truncation (top-k/top-p/min-p) and
   * temperature. It measures how likely the model itself found the token, not the
   * probability it was drawn with.
   */
  logprob: number;
}

/**
 * Picks the next token from a logit vector.
 *
 * - greedy (temperature 0): repetition penalty, then {@link argmax}; no random draw.
 * - stochastic: repetition penalty → top-k → top-p → min-p → temperature → softmax →
 *   one draw from the seeded {@link Rng} (llama.cpp's default chain order).
 *
 * The caller's logits are never modified: they are copied into a scratch buffer that is
 * reused across calls (reallocated only when the vocabulary size changes).
 */
export class Sampler {
  readonly config: SamplingConfig;
  private readonly rng: Rng | null;
  private scratch = new Float32Array(0);
  private cands: Candidates = createCandidates(0);

  constructor(config: SamplingConfig) {
    this.config = config;
    this.rng = config.kind === 'stochastic' ? new Rng(config.seed) : null;
  }

  /** Validates `opts` with {@link resolveSampling} and builds a sampler. */
  static fromOptions(opts: SamplingOptions = {}): Sampler {
    return new Sampler(resolveSampling(opts));
  }

  /**
   * @param logits  the model's logits for the next position (length = vocabulary size)
   * @param history tokens so far (prompt + generated); the last `repeatLastN` are penalised
   */
  sample(logits: Float32Array, history: readonly number[]): SampleResult {
    const n = logits.length;
    if (n === 0) throw new QuantscopeError('invalid_argument', 'cannot sample from an empty logit vector');
    if (this.scratch.length !== n) {
      this.scratch = new Float32Array(n);
      this.cands = createCandidates(n);
    }
    const work = this.scratch;
    work.set(logits);

    const cfg = this.config;
    if (cfg.repeatPenalty !== 1 && cfg.repeatLastN !== 0 && history.length > 0) {
      const recent = cfg.repeatLastN < 0 ? history : history.slice(-cfg.repeatLastN);
      applyRepetitionPenalty(work, recent, cfg.repeatPenalty);
    }

    let token: number;
    if (cfg.kind === 'greedy') {
      token = argmax(work);
    } else {
      const c = this.cands;
      fillCandidates(c, work);
      topK(c, cfg.topK);
      topP(c, cfg.topP);
      minP(c, cfg.minP);
      applyTemperature(c, cfg.temperature);
      softmaxCandidates(c);
      const i = sampleFromProbs(c.probs, this.rng!.nextFloat(), c.size);
      token = c.ids[i]!;
    }
    return { token, logprob: logSoftmaxAt(logits, token) };
  }
}
