/**
 * Logit processors, in the spirit of llama2.c's run.c: plain functions over plain arrays,
 * no hidden state, mutating their input in place. Semantics follow llama.cpp's
 * `src/llama-sampling.cpp`; the stochastic chain (as built by `common/sampling.cpp` with
 * default sampler order, minus the samplers quantscope does not implement) is
 *
 *   repetition penalty → top-k → top-p → min-p → temperature → softmax → dist
 *
 * `applyRepetitionPenalty` works on the full-vocabulary logits. The remaining steps work
 * on a compact {@link Candidates} set (token ids + their logits), which shrinks as the
 * filters run, like llama.cpp's `llama_token_data_array`.
 *
 * Logits are assumed not to be NaN (±Infinity is fine).
 */

/**
 * A compact, shrinking candidate set. Entries `[0, size)` of `ids` / `logits` are live;
 * the arrays are capacity buffers and may be longer. `probs[0, size)` is only meaningful
 * right after {@link softmaxCandidates}.
 */
export interface Candidates {
  ids: Int32Array;
  logits: Float32Array;
  probs: Float32Array;
  size: number;
  /** True when `[0, size)` is ordered by descending logit (ties: lower token id first). */
  sorted: boolean;
}

/** Allocates an empty candidate set able to hold `capacity` tokens. */
export function createCandidates(capacity: number): Candidates {
  return {
    ids: new Int32Array(capacity),
    logits: new Float32Array(capacity),
    probs: new Float32Array(capacity),
    size: 0,
    sorted: false,
  };
}

/** Resets `c` to hold every token of `logits` (token i ↦ logits[i]), unsorted. */
export function fillCandidates(c: Candidates, logits: Float32Array): void {
  const n = logits.length;
  if (c.ids.length < n) throw new RangeError(`candidate capacity ${c.ids.length} < vocabulary size ${n}`);
  const ids = c.ids;
  for (let i = 0; i < n; i++) ids[i] = i;
  c.logits.set(logits);
  c.size = n;
  c.sorted = false;
}

/** Convenience: a new candidate set holding every token of `logits`. */
export function candidatesFromLogits(logits: Float32Array): Candidates {
  const c = createCandidates(logits.length);
  fillCandidates(c, logits);
  return c;
}

/**
 * llama.cpp's repetition penalty (`penalty_repeat`): every *distinct* token in
 * `recentTokens` is penalised once, however often it occurs — a positive logit is divided
 * by `penalty`, a non-positive one multiplied by it. `penalty` = 1 is a no-op. Token ids
 * outside `[0, logits.length)` are ignored. The caller picks the window (last N tokens).
 */
export function applyRepetitionPenalty(logits: Float32Array, recentTokens: ArrayLike<number>, penalty: number): void {
  if (penalty === 1 || recentTokens.length === 0) return;
  const n = logits.length;
  const seen = new Set<number>();
  for (let i = 0; i < recentTokens.length; i++) {
    const t = recentTokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= n || seen.has(t)) continue;
    seen.add(t);
    const l = logits[t]!;
    logits[t] = l <= 0 ? l * penalty : l / penalty;
  }
}

/** Sorts `[0, size)` by descending logit, ties by ascending token id (a −0 logit may become +0). O(n log n). */
export function sortCandidates(c: Candidates): void {
  const n = c.size;
  if (!c.sorted && n > 1) {
    const ids = c.ids;
    const lg = c.logits;
    let maxId = 0;
    for (let i = 0; i < n; i++) if (ids[i]! > maxId) maxId = ids[i]!;
    if (maxId < ID_SPAN) {
      // Pack (order-preserving logit bits, token id) into one exact integer < 2^53 and use
      // the engine's native numeric sort — several times faster than a comparator sort.
      const bits = new Uint32Array(lg.buffer, lg.byteOffset, n);
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const b = bits[i] === 0x80000000 ? 0 : bits[i]!; // -0 ties with +0, as in the comparator
        const ascending = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0; // float order → uint order
        keys[i] = (0xffffffff - ascending) * ID_SPAN + ids[i]!;
      }
      keys.sort();
      for (let i = 0; i < n; i++) {
        const key = keys[i]!;
        const id = key % ID_SPAN;
        const ascending = 0xffffffff - (key - id) / ID_SPAN;
        bits[i] = ascending & 0x80000000 ? ascending & 0x7fffffff : ~ascending >>> 0;
        ids[i] = id;
      }
    } else {
      const perm = new Int32Array(n);
      for (let i = 0; i < n; i++) perm[i] = i;
      perm.sort((a, b) => lg[b]! - lg[a]! || ids[a]! - ids[b]!);
      gather(c, perm);
    }
  }
  c.sorted = true;
}

/** Token ids below 2^21 can share an exact double with 32 bits of logit. */
const ID_SPAN = 2 ** 21;

/** Rewrites entries `[0, perm.length)` as `old[perm[0]], old[perm[1]], …`. */
function gather(c: Candidates, perm: Int32Array): void {
  const k = perm.length;
  const ids = new Int32Array(k);
  const lg = new Float32Array(k);
  for (let i = 0; i < k; i++) {
    const p = perm[i]!;
    ids[i] = c.ids[p]!;
    lg[i] = c.logits[p]!;
  }
  c.ids.set(ids);
  c.logits.set(lg);
  c.size = k;
}

/**
 * Positions (into `[0, c.size)`) of the `k` best candidates, best first (descending logit,
 * ties: lower token id). Bounded min-heap selection, O(n log k); does not modify `c`.
 */
function selectBest(c: Candidates, k: number): Int32Array {
  const ids = c.ids;
  const lg = c.logits;
  const n = c.size;
  // worse(p, q): candidate at position p ranks below the one at q.
  const worse = (p: number, q: number): boolean => lg[p]! < lg[q]! || (lg[p] === lg[q] && ids[p]! > ids[q]!);
  const heap = new Int32Array(k); // root = worst of the current best k
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < k && worse(heap[l]!, heap[m]!)) m = l;
      if (r < k && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      const tmp = heap[i]!;
      heap[i] = heap[m]!;
      heap[m] = tmp;
      i = m;
    }
  };
  for (let i = 0; i < k; i++) heap[i] = i;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(i);
  for (let i = k; i < n; i++) {
    if (worse(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => lg[b]! - lg[a]! || ids[a]! - ids[b]!);
}

/**
 * Top-k: keeps the `k` highest logits (ties: lower token id), sorted descending.
 * `k` ≤ 0 is off. Like llama.cpp, `k` is raised to `minKeep` and capped at the size.
 *
 * Uses a bounded min-heap (O(n log k)), so selecting 40 from a 32000-token vocabulary
 * touches each logit once and never sorts the vocabulary.
 */
export function topK(c: Candidates, k: number, minKeep = 1): void {
  if (k <= 0) return;
  k = Math.min(Math.max(k, minKeep), c.size);
  if (k >= c.size) {
    sortCandidates(c); // llama.cpp leaves top-k output sorted
    return;
  }
  gather(c, selectBest(c, k));
  c.sorted = true;
}

/**
 * Top-p (nucleus): with probabilities = softmax of the current candidates' logits, keeps
 * the smallest prefix of the descending order whose cumulative probability is ≥ `p`
 * (and at least `minKeep` tokens). `p` ≥ 1 is off. The survivors end up sorted.
 *
 * On an unsorted set (top-k off) it first tries heap selections of the best 64, 256, …
 * candidates and only sorts everything if the nucleus turns out to be that wide; the
 * result is the same as with a full sort.
 */
export function topP(c: Candidates, p: number, minKeep = 1): void {
  if (p >= 1 || c.size === 0) return;
  const lg = c.logits;
  const n = c.size;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (lg[i]! > max) max = lg[i]!;
  if (!Number.isFinite(max)) return; // all -Inf (or a +Inf winner): nothing meaningful to trim
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(lg[i]! - max);
  const target = p * sum;

  if (!c.sorted) {
    for (let k = 64; 4 * k < n; k *= 4) {
      const best = selectBest(c, k);
      let cum = 0;
      for (let i = 0; i < k; i++) {
        cum += Math.exp(lg[best[i]!]! - max);
        if (cum >= target && i + 1 >= minKeep) {
          gather(c, best.subarray(0, i + 1));
          c.sorted = true;
          return;
        }
      }
    }
    sortCandidates(c);
  }
  let cum = 0;
  for (let i = 0; i < n; i++) {
    cum += Math.exp(lg[i]! - max);
    if (cum >= target && i + 1 >= minKeep) {
      c.size = i + 1;
      return;
    }
  }
}

/**
 * Min-p: keeps candidates with p_i ≥ `p` · p_max, i.e. logit_i ≥ logit_max + ln p
 * (llama.cpp compares logits, so no softmax is needed). `p` ≤ 0 is off. Order is
 * preserved. If fewer than `minKeep` survive, the `minKeep` best are kept instead.
 */
export function minP(c: Candidates, p: number, minKeep = 1): void {
  if (p <= 0 || c.size === 0) return;
  const lg = c.logits;
  const ids = c.ids;
  const n = c.size;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (lg[i]! > max) max = lg[i]!;
  const threshold = max + Math.log(p);
  let kept = 0;
  for (let i = 0; i < n; i++) if (lg[i]! >= threshold) kept++;
  if (kept < minKeep) {
    sortCandidates(c);
    c.size = Math.min(minKeep, n);
    return;
  }
  let j = 0;
  for (let i = 0; i < n; i++) {
    const l = lg[i]!;
    if (l >= threshold) {
      lg[j] = l;
      ids[j] = ids[i]!;
      j++;
    }
  }
  c.size = j;
}

/**
 * Temperature: divides the candidates' logits by `t`. The logits are first shifted by
 * their maximum (softmax is shift-invariant), so that a tiny `t` sends non-maximal tokens
 * to −Infinity instead of overflowing everything to +Infinity. `t` = 1 is a no-op.
 * As in llama.cpp, `t` ≤ 0 keeps only the highest-logit token (lowest id on ties).
 */
export function applyTemperature(c: Candidates, t: number): void {
  const lg = c.logits;
  const n = c.size;
  if (n === 0 || t === 1) return;
  let max = -Infinity;
  let best = 0;
  for (let i = 0; i < n; i++) {
    const l = lg[i]!;
    if (l > max || (l === max && c.ids[i]! < c.ids[best]!)) {
      max = l;
      best = i;
    }
  }
  if (t <= 0) {
    c.ids[0] = c.ids[best]!;
    lg[0] = max;
    c.size = 1;
    c.sorted = true;
    return;
  }
  const shift = Number.isFinite(max) ? max : 0;
  for (let i = 0; i < n; i++) lg[i] = (lg[i]! - shift) / t;
}

/**
 * Softmax of logits[0, n) into out[0, n): max-subtracted, summed in double precision.
 * All −Infinity → uniform; any +Infinity → uniform over those.
 */
export function softmaxInto(logits: ArrayLike<number>, out: Float32Array, n = logits.length): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  if (!Number.isFinite(max)) {
    let count = 0;
    for (let i = 0; i < n; i++) if (logits[i] === max) count++;
    for (let i = 0; i < n; i++) out[i] = logits[i] === max ? 1 / count : 0;
    return;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max);
  for (let i = 0; i < n; i++) out[i] = Math.exp(logits[i]! - max) / sum;
}

/** Softmax over the live candidates into `c.probs[0, size)` (see {@link softmaxInto}). */
export function softmaxCandidates(c: Candidates): void {
  softmaxInto(c.logits, c.probs, c.size);
}
