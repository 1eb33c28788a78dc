// The scalar twins of the tile kernels (four rows by four tokens, ops/matmul.ts): the format's
// four-row twin for each token, one after the other.

/** a four-row kernel `(n, w, x, out)` */
export type Dot4 = (n: i32, w: usize, x: usize, out: usize) => void;

/** out + t·outRowBytes [0..3] = dot4(n, w, x + t·xRowBytes) for t = 0 … 3 */
export function tile_by_tokens(dot4: Dot4, n: i32, w: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize): void {
  for (let t: usize = 0; t < 4; t++) dot4(n, w, x + t * xRowBytes, out + t * outRowBytes);
}
