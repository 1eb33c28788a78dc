// out[t][r] = dot(w row r, x token t) for rows r0..r1 and nTok activation rows.
//
// `vecDot` and `vecDotBatch` are function-table indices of the weight format's dot products
// (n: i32, w: usize, x: usize) => f32 — SIMD or `_generic` — registered by the host from the format
// table in src/quant/formats.ts, so adding a format never touches this file. llama.cpp sums a
// product differently for one token than for a batch (llamafile's tinyBLAS takes batches of two or
// more), so a batch of nTok ≥ 2 uses `vecDotBatch` (the same index where the order is the same). `x` holds the
// activations already converted to that format's activation format (f32 rows, Q8_0 blocks, …).
// The weight row is the outer loop so each row, once pulled from memory, serves every token of a batch.
// Where a format registered a four-row form of its dot product (set_rows4_kernel), rows go four at
// a time through it — the same results, computed side by side — and its weights are in the four-row
// layout (rows4.ts): whole groups of four rows interleaved block by block, the rest as in the file.
// So for such a format r0 and r1 must not cut a group: each is a multiple of four or lies past the
// matrix's last whole group (as the row chunks of mul_mat_chunks do: multiples of four, up to the
// row count). Where the format also registered a tile kernel (set_tile_kernel: four rows by four
// tokens, the same results again), a batch's tokens go four at a time through it, the rest through
// the four-row kernel.

// Registrations: for a dot product's function-table index, 1 + the table index of its four-row
// kernel `(n, w, x, out)` (w: a group of the four-row layout) in ROWS4, of its tile kernel
// `(n, w, x, xRowBytes, out, outRowBytes)` in TILES; 0 for none. Static data in the shared memory,
// so every kernel thread sees them.
const SLOTS: u32 = 256;
const ROWS4 = memory.data(SLOTS * 4);
const TILES = memory.data(SLOTS * 4);
/** tokens a tile kernel takes at once */
const TILE_TOKENS = 4;

@inline function register(table: usize, dot: u32, kernel: u32): bool {
  if (dot >= SLOTS) return false;
  store<u32>(table + (<usize>dot << 2), kernel + 1);
  return true;
}

/** the kernel registered in `table` for `dot` (its table index), or −1 */
@inline function registered(table: usize, dot: u32): i32 {
  return dot < SLOTS ? <i32>load<u32>(table + (<usize>dot << 2)) - 1 : -1;
}

/**
 * Registers `dot4` as the four-row form of the dot product `dot`: it writes the four results of a
 * group of four weight rows (rows4.ts) with one activation row, each exactly as `dot` would of that
 * row in the file's layout. Returns false when `dot` is beyond the table this module keeps.
 */
export function set_rows4_kernel(dot: u32, dot4: u32): bool {
  return register(ROWS4, dot, dot4);
}

export function rows4_kernel_of(dot: u32): i32 {
  return registered(ROWS4, dot);
}

/**
 * Registers `tile` as the tile form of the dot product `dot`, whose four-row kernel is registered
 * too: it writes the results of a group of four weight rows with four activation rows,
 * out + t·outRowBytes [r] for token t and row r, each exactly as `dot` would of that row and token.
 * Returns false when `dot` is beyond the table this module keeps.
 */
export function set_tile_kernel(dot: u32, tile: u32): bool {
  return register(TILES, dot, tile);
}

export function tile_kernel_of(dot: u32): i32 {
  return registered(TILES, dot);
}

export function mul_mat(
  vecDot: u32, vecDotBatch: u32, w: usize, wRowBytes: i32, x: usize, xRowBytes: i32,
  out: usize, outRowFloats: i32, r0: i32, r1: i32, cols: i32, nTok: i32,
): void {
  const dot = nTok >= 2 ? vecDotBatch : vecDot;
  const dot4 = <u32>(registered(ROWS4, dot) + 1);
  let r = r0;
  if (dot4 != 0) {
    const tile = <u32>(registered(TILES, dot) + 1);
    const outRowBytes = <usize>outRowFloats << 2;
    for (; r + 4 <= r1; r += 4) {
      const wr = w + <usize>r * wRowBytes;
      let t = 0;
      if (tile != 0) {
        for (; t + TILE_TOKENS <= nTok; t += TILE_TOKENS) {
          call_indirect<void>(tile - 1, cols, wr, x + <usize>t * xRowBytes, <usize>xRowBytes, out + <usize>t * outRowBytes + (<usize>r << 2), outRowBytes);
        }
      }
      for (; t < nTok; t++) {
        call_indirect<void>(dot4 - 1, cols, wr, x + <usize>t * xRowBytes, out + ((<usize>t * outRowFloats + r) << 2));
      }
    }
  }
  for (; r < r1; r++) {
    const wr = w + <usize>r * wRowBytes;
    for (let t = 0; t < nTok; t++) {
      const v = call_indirect<f32>(dot, cols, wr, x + <usize>t * xRowBytes);
      store<f32>(out + ((<usize>t * outRowFloats + r) << 2), v);
    }
  }
}

/**
 * mul_mat for a thread of a pool: takes `chunk` rows at a time from the shared row counter at `next`
 * (an atomic add, so each chunk goes to exactly one thread) until every row of 0 … rows − 1 is
 * taken. The threads that run this together share the work by how fast they actually go, as
 * ggml's mul_mat chunks do: one that starts late (woken from its futex) or is slowed by other work
 * on the machine takes fewer chunks instead of keeping the others waiting. Each row is still
 * computed whole by one kernel, so the results do not depend on who took which chunk.
 */
export function mul_mat_chunks(
  vecDot: u32, vecDotBatch: u32, w: usize, wRowBytes: i32, x: usize, xRowBytes: i32,
  out: usize, outRowFloats: i32, rows: i32, cols: i32, nTok: i32, next: usize, chunk: i32,
): void {
  for (;;) {
    const r0 = atomic.add<i32>(next, chunk);
    if (r0 >= rows) return;
    mul_mat(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, r0, min(r0 + chunk, rows), cols, nTok);
  }
}

// mul_mat_job: the products of several matrices with one activation (Q, K and V; gate and up)
// as one job of the pool (parallel.ts), so their rows spread over the threads with one
// synchronisation instead of one per matrix. Items: the matrices' rows one after the other, each
// matrix's count rounded up to a multiple of four, so that a chunk (a multiple of four) never cuts a
// group of the four-row layout; the padding items compute nothing. Arguments (i32 slots; the block
// is sized in src/model/jobs.ts):
//   0 count   1 x   2 xRowBytes   3 nTok
//   then per matrix m at 4 + 8m:  vecDot, vecDotBatch, w, wRowBytes, out, outRowFloats, rows, cols

export function mul_mat_job(args: usize, i0: i32, i1: i32, part: i32): void {
  const count = load<i32>(args), x = <usize>load<u32>(args, 4), xRowBytes = load<i32>(args, 8), nTok = load<i32>(args, 12);
  let base = 0;
  for (let m = 0; m < count; m++) {
    const a = args + 16 + (<usize>m << 5);
    const rows = load<i32>(a, 24);
    const r0 = max(i0 - base, 0), r1 = min(i1 - base, rows);
    if (r0 < r1) {
      mul_mat(load<u32>(a), load<u32>(a, 4), <usize>load<u32>(a, 8), load<i32>(a, 12), x, xRowBytes,
        <usize>load<u32>(a, 16), load<i32>(a, 20), r0, r1, load<i32>(a, 28), nTok);
    }
    base += (rows + 3) & ~3;
  }
}
