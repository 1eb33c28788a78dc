// The four-row layout of weight matrices (assembly/ops/rows4.ts), written again here from its
// definition, so the tests can lay out weights for the SIMD engines' mul_mat and check the
// kernel module's own interleave_rows4 against it.
import type { BoundFormat } from '../../src/wasm/instance.js';

/**
 * `rows` rows of `rowBytes` bytes in the four-row layout: in each whole group of four rows, block i
 * of row r at (4i + r)·blockBytes from the group's start; the rows after the last group unchanged.
 */
export function toRows4(w: Uint8Array, rows: number, rowBytes: number, blockBytes: number): Uint8Array {
  const out = w.slice();
  const nb = rowBytes / blockBytes;
  for (let g = 0; g + 4 <= rows; g += 4) {
    const base = g * rowBytes;
    for (let r = 0; r < 4; r++) {
      for (let i = 0; i < nb; i++) {
        const from = base + r * rowBytes + i * blockBytes;
        out.set(w.subarray(from, from + blockBytes), base + (4 * i + r) * blockBytes);
      }
    }
  }
  return out;
}

/** w as a matrix of `format` is laid out for that engine's mul_mat (the four-row layout where it takes one) */
export function forMulMat(format: BoundFormat, w: Uint8Array, rows: number, rowBytes: number): Uint8Array {
  return format.rows4 ? toRows4(w, rows, rowBytes, format.spec.type.typeSize) : w;
}
