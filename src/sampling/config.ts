import { randomInt } from 'node:crypto';
import { QuantscopeError } from '../errors.js';

/**
 * Caller-facing sampling options. Every field is optional; omitted fields take
 * llama.cpp's defaults ({@link DEFAULT_SAMPLING}). The "off" value of each filter is
 * the same as in llama.cpp.
 */
export interface SamplingOptions {
  /** Softmax temperature; logits are divided by it. 0 = greedy (argmax). Default 0.8. */
  temperature?: number;
  /** Keep only the k most likely tokens. 0 = off. Default 40. */
  topK?: number;
  /** Nucleus: keep the smallest most-likely prefix whose probability mass is ≥ p. 1 = off. Default 0.95. */
  topP?: number;
  /** Keep tokens with p ≥ minP · p_max. 0 = off. Default 0.05. */
  minP?: number;
  /** Repetition penalty for recently seen tokens. 1 = off. Default 1.0. */
  repeatPenalty?: number;
  /** How many of the most recent history tokens are penalised. 0 = none, -1 = the whole history. Default 64. */
  repeatLastN?: number;
  /**
   * Seed for the PRNG: any integer (safe-integer number or bigint). When omitted, a random
   * 32-bit seed is drawn once and recorded in the resolved config so the run can be replayed.
   */
  seed?: number | bigint;
}

/** llama.cpp's defaults (common_params_sampling). */
export const DEFAULT_SAMPLING = Object.freeze({
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.0,
  repeatLastN: 64,
});

interface PenaltyConfig {
  /** Repetition penalty, > 0; 1 = off. */
  readonly repeatPenalty: number;
  /** Window of recent tokens penalised; 0 = none, -1 = all. */
  readonly repeatLastN: number;
}

/** Temperature 0: the (penalised) argmax, deterministic, no random draw. */
export interface GreedyConfig extends PenaltyConfig {
  readonly kind: 'greedy';
}

/** Temperature > 0: penalties → top-k → top-p → min-p → temperature → softmax → draw. */
export interface StochasticConfig extends PenaltyConfig {
  readonly kind: 'stochastic';
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly seed: number | bigint;
}

export type SamplingConfig = GreedyConfig | StochasticConfig;

function invalid(msg: string): QuantscopeError {
  return new QuantscopeError('invalid_argument', msg);
}

function num(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw invalid(`sampling option ${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/** Validates options, fills in defaults, and picks the greedy or stochastic form. */
export function resolveSampling(opts: SamplingOptions = {}): SamplingConfig {
  const temperature = num('temperature', opts.temperature, DEFAULT_SAMPLING.temperature);
  const topK = num('topK', opts.topK, DEFAULT_SAMPLING.topK);
  const topP = num('topP', opts.topP, DEFAULT_SAMPLING.topP);
  const minP = num('minP', opts.minP, DEFAULT_SAMPLING.minP);
  const repeatPenalty = num('repeatPenalty', opts.repeatPenalty, DEFAULT_SAMPLING.repeatPenalty);
  const repeatLastN = num('repeatLastN', opts.repeatLastN, DEFAULT_SAMPLING.repeatLastN);

  if (temperature < 0) throw invalid(`temperature must be ≥ 0 (0 = greedy), got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw invalid(`topK must be an integer ≥ 0 (0 = off), got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw invalid(`topP must be in (0, 1] (1 = off), got ${topP}`);
  if (!(minP >= 0 && minP <= 1)) throw invalid(`minP must be in [0, 1] (0 = off), got ${minP}`);
  if (!(repeatPenalty > 0)) throw invalid(`repeatPenalty must be > 0 (1 = off), got ${repeatPenalty}`);
  if (!Number.isInteger(repeatLastN) || repeatLastN < -1) {
    throw invalid(`repeatLastN must be an integer ≥ -1 (0 = none, -1 = whole history), got ${repeatLastN}`);
  }

  let seed: number | bigint;
  if (opts.seed === undefined) {
    seed = randomInt(0, 2 ** 32 - 1);
  } else if (typeof opts.seed === 'bigint' || (typeof opts.seed === 'number' && Number.isSafeInteger(opts.seed))) {
    seed = opts.seed;
  } else {
    throw invalid(`seed must be an integer (a safe-integer number or a bigint), got ${String(opts.seed)}`);
  }

  if (temperature === 0) return { kind: 'greedy', repeatPenalty, repeatLastN };
  return { kind: 'stochastic', temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed };
}
