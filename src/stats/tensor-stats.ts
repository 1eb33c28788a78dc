/**
 * Summary statistics of one tensor row (one tap at one position), computed in double precision.
 *
 * Non-finite values are counted (`nan`, `inf`) and left out of every other statistic, so one NaN
 * does not hide the shape of the rest of the row; `finite` says how many values the statistics
 * cover. With no finite value at all, rms/mean/std/min/max/absmax are NaN and absmaxIndex is -1.
 */
export interface TensorStats {
  /** number of values in the row */
  readonly count: number;
  /** number of finite values the statistics below cover */
  readonly finite: number;
  /** sqrt(Σx²/n), as llama.cpp's eval callback reports it */
  readonly rms: number;
  readonly mean: number;
  /** population standard deviation, sqrt(Σ(x − mean)²/n) (two-pass) */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** largest |x| and the index of its first occurrence in the row */
  readonly absmax: number;
  readonly absmaxIndex: number;
  /** count of NaN values */
  readonly nan: number;
  /** count of +Inf and −Inf values */
  readonly inf: number;
  /** a copy of the whole row, when asked for (`keepValues`) */
  readonly values?: Float32Array;
}

/** Statistics of `row` (any array of numbers; a Float32Array view is not retained unless copied). */
export function computeStats(row: ArrayLike<number>, keepValues = false): TensorStats {
  const n = row.length;
  let finite = 0, nan = 0, inf = 0;
  let sum = 0, sumSq = 0;
  let min = Infinity, max = -Infinity, absmax = -1, absmaxIndex = -1;
  for (let i = 0; i < n; i++) {
    const x = row[i];
    if (x !== x) { nan++; continue; }
    if (x === Infinity || x === -Infinity) { inf++; continue; }
    finite++;
    sum += x;
    sumSq += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
    const a = Math.abs(x);
    if (a > absmax) { absmax = a; absmaxIndex = i; }
  }
  let rms = NaN, mean = NaN, std = NaN;
  if (finite > 0) {
    mean = sum / finite;
    rms = Math.sqrt(sumSq / finite);
    let dev = 0;
    for (let i = 0; i < n; i++) {
      const x = row[i];
      if (Number.isFinite(x)) dev += (x - mean) * (x - mean);
    }
    std = Math.sqrt(dev / finite);
  } else {
    min = max = absmax = NaN;
  }
  const stats: TensorStats = { count: n, finite, rms, mean, std, min, max, absmax, absmaxIndex, nan, inf };
  return keepValues ? { ...stats, values: Float32Array.from(row) } : stats;
}
