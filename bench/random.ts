// Deterministic pseudo-random numbers for the benches: the same seed gives the same weights and
// token ids on every run and machine, so cached models and llama.cpp's inputs are reproducible.

/** mulberry32: a float in [0, 1) per call */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** xorshift128: fills 32-bit words fast (bulk random bytes of quantized weights). */
export class Xorshift128 {
  private x: number; private y: number; private z: number; private w: number;

  constructor(seed: number) {
    const r = rng(seed);
    this.x = (r() * 2 ** 32) | 1; this.y = (r() * 2 ** 32) | 0; this.z = (r() * 2 ** 32) | 0; this.w = (r() * 2 ** 32) | 0;
  }

  next(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y; this.y = this.z; this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ t ^ (t >>> 8)) | 0;
    return this.w;
  }

  fill(words: Uint32Array): void {
    let { x, y, z, w } = this;
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11);
      x = y; y = z; z = w;
      w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) | 0;
      words[i] = w;
    }
    this.x = x; this.y = y; this.z = z; this.w = w;
  }

  /** a float in [0, 1) */
  uniform(): number {
    return (this.next() >>> 0) / 4294967296;
  }
}

/** A string's FNV-1a hash, e.g. a tensor name → its seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
