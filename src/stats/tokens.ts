import { QuantscopeError } from '../errors.js';
import type { Model } from '../model.js';

/** One vocabulary entry as the model scores it at a position. */
export interface TokenInfo {
  id: number;
  text: string;
  logit: number;
  /** 1 = the highest logit; tokens with equal logits share a rank */
  rank: number;
  /** softmax probability under the raw logits (no sampling filters), computed in double */
  prob: number;
}

function checkId(logits: ArrayLike<number>, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= logits.length) {
    throw new QuantscopeError('invalid_argument', `token ${id} is outside the vocabulary [0, ${logits.length})`);
  }
}

/** 1 + the number of tokens with a strictly higher logit than `id`'s. */
export function rankOf(logits: ArrayLike<number>, id: number): number {
  checkId(logits, id);
  const x = logits[id];
  let above = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > x) above++;
  return above + 1;
}

/** The greedy choice: the first index of the highest logit. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** softmax(logits)[id], computed in double with the max subtracted. */
export function probOf(logits: ArrayLike<number>, id: number): number {
  checkId(logits, id);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return Math.exp(logits[id] - max) / sum;
}

/** id, text, logit, rank and probability of token `id` under `logits`. */
export function tokenInfo(model: Model, logits: ArrayLike<number>, id: number): TokenInfo {
  const rank = rankOf(logits, id); // checks the id first
  return { id, text: model.tokenText(id), logit: logits[id], rank, prob: probOf(logits, id) };
}

/** The greedy next token (rank 1) under `logits`. */
export function nextToken(model: Model, logits: ArrayLike<number>): TokenInfo {
  return tokenInfo(model, logits, argmax(logits));
}
