// The `q8_0x` activation format (src/quant/formats.ts, assembly/quant/q8_0.ts) worked out
// independently: Q8_0 blocks, then per block its f16 scale as f32 and 8·Σq as i32.
import { halfToNumber } from './half.js';

const Q8_0_BYTES = 34;
const QK = 32;

/** the q8_0x row of the Q8_0 blocks `blocks` */
export function withQ8_0xExtras(blocks: Uint8Array): Uint8Array {
  const nb = blocks.length / Q8_0_BYTES;
  const out = new Uint8Array(nb * (Q8_0_BYTES + 8));
  out.set(blocks);
  const view = new DataView(out.buffer);
  for (let ib = 0; ib < nb; ib++) {
    const b = ib * Q8_0_BYTES;
    let sum = 0;
    for (let j = 0; j < QK; j++) sum += (blocks[b + 2 + j] << 24) >> 24;
    view.setFloat32(nb * Q8_0_BYTES + 8 * ib, halfToNumber(blocks[b] | (blocks[b + 1] << 8)), true);
    view.setInt32(nb * Q8_0_BYTES + 8 * ib + 4, 8 * sum, true);
  }
  return out;
}
