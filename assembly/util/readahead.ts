// Read-ahead for the four-row kernels (q4_0.ts, q8_0.ts, q4_k.ts, q6_k.ts).
//
// mul_mat takes rows four at a time, and four adjacent rows read as four short interleaved streams
// that start afresh with every call: where the weights come from DRAM (a model's decode), the
// hardware prefetchers then miss most lines and the four-row kernels ran slower than the one-row
// ones. So while a four-row kernel works on its rows it reads the next four rows' bytes (which
// follow its own in memory) front to back, one slice per super-block: one long ascending stream,
// which the prefetchers follow. The loaded bytes are only kept alive (stored where the kernel's
// output goes, one super-block later, and overwritten), so they never change a result.

/** one byte of each of the first `lines` (1..16, a constant) 64-byte lines from p on */
@inline export function touch_lines(p: usize, lines: i32): v128 {
  let v = v128.load8_splat(p);
  if (lines > 1) v = v128.load8_lane(p, v, 1, 64);
  if (lines > 2) v = v128.load8_lane(p, v, 2, 128);
  if (lines > 3) v = v128.load8_lane(p, v, 3, 192);
  if (lines > 4) v = v128.load8_lane(p, v, 4, 256);
  if (lines > 5) v = v128.load8_lane(p, v, 5, 320);
  if (lines > 6) v = v128.load8_lane(p, v, 6, 384);
  if (lines > 7) v = v128.load8_lane(p, v, 7, 448);
  if (lines > 8) v = v128.load8_lane(p, v, 8, 512);
  if (lines > 9) v = v128.load8_lane(p, v, 9, 576);
  if (lines > 10) v = v128.load8_lane(p, v, 10, 640);
  if (lines > 11) v = v128.load8_lane(p, v, 11, 704);
  if (lines > 12) v = v128.load8_lane(p, v, 12, 768);
  if (lines > 13) v = v128.load8_lane(p, v, 13, 832);
  if (lines > 14) v = v128.load8_lane(p, v, 14, 896);
  if (lines > 15) v = v128.load8_lane(p, v, 15, 960);
  return v;
}

/** the highest address touch_lines may start at (memory end − 1 KiB: it never reads past memory) */
@inline export function touch_limit(): usize {
  return (<usize>memory.size() << 16) - 1024;
}

/**
 * One read-ahead step: stores the bytes touched one step ago at `out` (keeping those loads alive;
 * the kernel overwrites `out` with its results at the end) and touches `lines` lines from p.
 */
@inline export function read_ahead(out: usize, touched: v128, p: usize, lines: i32): v128 {
  v128.store(out, touched);
  return touch_lines(p, lines);
}
