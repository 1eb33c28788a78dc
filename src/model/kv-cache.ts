import type { Arena } from '../wasm/arena.js';
import type { LlamaConfig } from './config.js';

/**
 * What the KV cache stores: `f32` (4 bytes per value; the default, as the llama.cpp references were
 * made) or `f16` (IEEE half, 2 bytes per value, half the memory; llama.cpp's own default type_k/type_v).
 */
export type KvCacheType = 'f32' | 'f16';

export const KV_CACHE_TYPES: readonly KvCacheType[] = ['f32', 'f16'];

/**
 * Per-layer K and V caches in linear memory, F32 or F16 (`type`):
 *   k[l]: [contextSize][nHeadKv·headDim]   keys after RoPE, one row per position
 *   v[l]: [nHeadKv·headDim][vStride]       values transposed (llama.cpp's v_trans), so the
 *                                          attention-weighted sum is a dot product over positions
 * vStride is contextSize rounded up to 32: attention reads positions up to the next multiple of 32
 * (as llama.cpp pads n_kv), and the padding (like any position past the session's) must hold
 * finite values; it starts zeroed. An F16 cache holds the values as llama.cpp's ggml_cpy into an
 * F16 cache leaves them (rounded to nearest even), and attention reads it with attention_f16.
 */
export class KvCache {
  readonly k: number[];
  readonly v: number[];
  /** values per K row (nHeadKv·headDim) */
  readonly rowFloats: number;
  readonly vStride: number;
  /** bytes per cached value: 4 (f32) or 2 (f16) */
  readonly valueBytes: number;
  private readonly layerBytes: number;

  constructor(private readonly arena: Arena, cfg: LlamaConfig, readonly contextSize: number, readonly type: KvCacheType = 'f32') {
    this.rowFloats = cfg.nHeadKv * cfg.headDim;
    this.vStride = Math.ceil(contextSize / 32) * 32;
    this.valueBytes = type === 'f16' ? 2 : 4;
    this.layerBytes = this.vStride * this.rowFloats * this.valueBytes;
    this.k = [];
    this.v = [];
    try {
      for (let l = 0; l < cfg.nLayer; l++) {
        this.k.push(arena.alloc(this.layerBytes, `K cache layer ${l}`));
        this.v.push(arena.alloc(this.layerBytes, `V cache layer ${l}`));
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.clear();
  }

  get bytes(): number {
    return 2 * this.k.length * this.layerBytes;
  }

  /** row `pos` of layer l's K cache */
  kRow(l: number, pos: number): number { return this.k[l] + pos * this.rowFloats * this.valueBytes; }

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
