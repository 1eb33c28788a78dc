import type { Arena } from '../wasm/arena.js';
import type { LlamaConfig } from './config.js';

/**
 * Per-layer K and V caches in linear memory, F32 (the precision llama.cpp's references use):
 *   k[l]: [contextSize][nHeadKv·headDim]   keys after RoPE, one row per position
 *   v[l]: [nHeadKv·headDim][vStride]       values transposed (llama.cpp's v_trans), so the
 *                                          attention-weighted sum is a dot product over positions
 * vStride is contextSize rounded up to 32: attention reads positions up to the next multiple of 32
 * (as llama.cpp pads n_kv), and the padding (like any position past the session's) must hold
 * finite values; it starts zeroed.
 */
export class KvCache {
  readonly k: number[];
  readonly v: number[];
  readonly rowFloats: number;
  readonly vStride: number;
  private readonly layerBytes: number;

  constructor(private readonly arena: Arena, cfg: LlamaConfig, readonly contextSize: number) {
    this.rowFloats = cfg.nHeadKv * cfg.headDim;
    this.vStride = Math.ceil(contextSize / 32) * 32;
    this.layerBytes = this.vStride * this.rowFloats * 4;
    this.k = [];
    this.v = [];
    for (let l = 0; l < cfg.nLayer; l++) {
      this.k.push(arena.alloc(this.layerBytes, `K cache layer ${l}`));
      this.v.push(arena.alloc(this.layerBytes, `V cache layer ${l}`));
    }
    this.clear();
  }

  get bytes(): number {
    return 2 * this.k.length * this.layerBytes;
  }

  /** row `pos` of layer l's K cache */
  kRow(l: number, pos: number): number { return this.k[l] + pos * this.rowFloats * 4; }

  /** zero everything, so no stale NaN can reach attention's padded steps */
  clear(): void {
    for (const p of [...this.k, ...this.v]) this.arena.bytes(p, this.layerBytes).fill(0);
  }

  dispose(): void {
    for (const p of [...this.k, ...this.v]) this.arena.release(p);
    this.k.length = 0;
    this.v.length = 0;
  }
}
