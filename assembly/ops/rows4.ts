// The four-row layout of a weight matrix, for formats with a four-row kernel (mul_mat takes their
// rows four at a time, matmul.ts). Rows 4g … 4g + 3 form group g, which holds the same bytes as in
// the file, in the same place, but block by block side by side:
//
//   block i of row 4g + r   at   w + 4g·rowBytes + (4i + r)·blockBytes      (r = 0 … 3)
//
// Rows after the last whole group (rows % 4 of them) keep the file's layout. ggml's CPU backend
// repacks the same way for its interleaved kernels (block_q4_0x8, block_q4_Kx8: eight rows, and a
// finer grain than whole blocks).
//
// Why: a four-row kernel then reads its bytes front to back, one stream that the hardware
// prefetchers follow. In the file's layout the same four rows are four short streams 1 … 6 KB
// apart, which they mostly miss where the weights come from DRAM (a model's decode): the Q4_K
// kernel read 6.2 GB/s there against 8.5 GB/s in this layout, one thread, weights of 75 MB.

/** the bytes of one block, `n` of them: n = 16k or 16k + 2 for every format with a four-row kernel */
@inline function copy_block(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 16 <= n; k += 16) v128.store(dst + <usize>k, v128.load(src + <usize>k));
  for (; k + 2 <= n; k += 2) store<u16>(dst + <usize>k, load<u16>(src + <usize>k));
  if (k < n) store<u8>(dst + <usize>k, load<u8>(src + <usize>k));
}

/**
 * Puts the whole groups of `rows` rows at w (the file's layout) into the four-row layout, in place.
 * `scratch`: 4·rowBytes bytes of working space, not overlapping the rows.
 */
export function interleave_rows4(w: usize, rows: i32, rowBytes: i32, blockBytes: i32, scratch: usize): void {
  const groupBytes: usize = 4 * <usize>rowBytes;
  const nb = rowBytes / blockBytes;
  for (let g = 0; g + 4 <= rows; g += 4) {
    const dst = w + <usize>g * rowBytes;
    memory.copy(scratch, dst, groupBytes);
    for (let i = 0; i < nb; i++) {
      const src = scratch + <usize>i * blockBytes, out = dst + <usize>(4 * i) * blockBytes;
      copy_block(out, src, blockBytes);
      copy_block(out + <usize>blockBytes, src + <usize>rowBytes, blockBytes);
      copy_block(out + <usize>(2 * blockBytes), src + <usize>(2 * rowBytes), blockBytes);
      copy_block(out + <usize>(3 * blockBytes), src + <usize>(3 * rowBytes), blockBytes);
    }
  }
}
