// Memory-bandwidth probe: read `bytes` bytes from p as fast as the engine can stream them, so the
// bench can put decode speed (weight bytes per second) next to what one thread can read at all.
// The sum is returned only so that the loads cannot be optimised away; it is
//   Σ (wrapping i32) of the little-endian i32 words at p, p+4, … , plus each trailing byte (u8),
// which both twins compute (integer addition in any order gives the same result).

/** SIMD: four independent v128 accumulators, 64 bytes per step (like the mat-vec kernels' loads). */
export function stream_sum(p: usize, bytes: usize): i32 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  const end = p + bytes;
  let q = p;
  for (; q + 64 <= end; q += 64) {
    a0 = i32x4.add(a0, v128.load(q));
    a1 = i32x4.add(a1, v128.load(q, 16));
    a2 = i32x4.add(a2, v128.load(q, 32));
    a3 = i32x4.add(a3, v128.load(q, 48));
  }
  for (; q + 16 <= end; q += 16) a0 = i32x4.add(a0, v128.load(q));
  const s = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  let sum = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
  for (; q + 4 <= end; q += 4) sum += load<i32>(q);
  for (; q < end; q++) sum += <i32>load<u8>(q);
  return sum;
}

/** Scalar twin: one i32 load at a time. */
export function stream_sum_generic(p: usize, bytes: usize): i32 {
  const end = p + bytes;
  let sum: i32 = 0;
  let q = p;
  for (; q + 4 <= end; q += 4) sum += load<i32>(q);
  for (; q < end; q++) sum += <i32>load<u8>(q);
  return sum;
}

/**
 * The probe as a job of the thread pool (parallel.ts), for the bandwidth of several threads: items
 * are blocks of `blockBytes` from p; each part adds its blocks' sums into its own slot (kept so the
 * loads stay live). Arguments (i32 slots): 0 p, 1 blockBytes, 2 … the parts' sums.
 */
export function stream_sum_job(args: usize, i0: i32, i1: i32, part: i32): void {
  const p = <usize>load<u32>(args), blockBytes = <usize>load<u32>(args, 4);
  let sum = 0;
  for (let i = i0; i < i1; i++) sum += stream_sum(p + <usize>i * blockBytes, blockBytes);
  const slot = args + 8 + (<usize>part << 2);
  store<i32>(slot, load<i32>(slot) + sum);
}
