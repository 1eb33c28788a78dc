// out[t][r] = dot(w row r, x token t) for rows r0..r1 and nTok activation rows.
//
// `vecDot` and `vecDotBatch` are function-table indices of the weight format's dot products
// (n: i32, w: usize, x: usize) => f32 — SIMD or `_generic` — registered by the host from the format
// table in src/quant/formats.ts, so adding a format never touches this file. llama.cpp sums a
// product differently for one token than for a batch (llamafile's tinyBLAS takes batches of two or
// more), so a batch of nTok ≥ 2 uses `vecDotBatch` (the same index where the order is the same). `x` holds the
// activations already converted to that format's activation format (f32 rows, Q8_0 blocks, …).
// The weight row is the outer loop so each row, once pulled from memory, serves every token of a batch.

export function mul_mat(
  vecDot: u32, vecDotBatch: u32, w: usize, wRowBytes: i32, x: usize, xRowBytes: i32,
  out: usize, outRowFloats: i32, r0: i32, r1: i32, cols: i32, nTok: i32,
): void {
  const dot = nTok >= 2 ? vecDotBatch : vecDot;
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * wRowBytes;
    for (let t = 0; t < nTok; t++) {
      const v = call_indirect<f32>(dot, cols, wr, x + <usize>t * xRowBytes);
      store<f32>(out + ((<usize>t * outRowFloats + r) << 2), v);
    }
  }
}
