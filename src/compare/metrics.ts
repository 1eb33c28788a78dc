// Distances between two runs: hidden-state divergence and next-token distribution agreement.
// All sums in double: the inputs are f32, the quantities compared are small differences.

/** cos∠(a, b); NaN when either vector is zero. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

/** ‖a − base‖ / ‖base‖: the relative RMS error of `a` against `base`. */
export function relativeRmsError(a: ArrayLike<number>, base: ArrayLike<number>): number {
  checkSameLength(a, base);
  let dd = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i] - base[i]; dd += d * d; bb += base[i] * base[i]; }
  return Math.sqrt(dd / bb);
}

/** log-softmax of logits, in double. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** KL(P ‖ Q) in nats from log-probabilities; terms with P = 0 contribute nothing. */
export function klDivergence(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  checkSameLength(logP, logQ);
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    if (p > 0) kl += p * (logP[i] - logQ[i]);
  }
  return Math.max(0, kl); // rounding can leave −1e-17 for identical distributions
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const n = Math.min(k, values.length);
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length === n && !(values[i] > values[best[n - 1]])) continue;
    let j = best.length === n ? n - 1 : best.length;
    while (j > 0 && values[i] > values[best[j - 1]]) j--;
    best.splice(j, 0, i);
    if (best.length > n) best.pop();
  }
  return best;
}

/** |A ∩ B| / k for two top-k index lists. */
export function overlapFraction(a: readonly number[], b: readonly number[]): number {
  const set = new Set(a);
  return b.filter((i) => set.has(i)).length / Math.max(a.length, b.length, 1);
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`vectors of different lengths: ${a.length} and ${b.length}`);
}
