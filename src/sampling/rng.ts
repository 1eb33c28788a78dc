import { QuantscopeError } from '../errors.js';

/**
 * A small, seeded, deterministic PRNG for sampling.
 *
 * Algorithm: **xoshiro128\*\*** (Blackman & Vigna, 2018) — 128 bits of state in four
 * 32-bit words, period 2^128 − 1, passes BigCrush. Every step uses only 32-bit integer
 * math (`Math.imul`, shifts, `>>> 0`), so it is fast and BigInt-free in the hot path.
 *
 * Seeding: the seed may be any integer (a safe-integer `number`, negative allowed, or a
 * `bigint`). It is reduced modulo 2^64 (two's complement), split into low/high 32-bit
 * halves, and each half goes through the murmur3 `fmix32` finaliser (a bijection on
 * 32-bit words) to give state words s0 and s1; s2 and s3 are derived from them the same
 * way. The map seed mod 2^64 → state is injective, and the state is never all-zero.
 * The first 8 outputs are then discarded so that similar seeds diverge immediately.
 *
 * Same seed → same sequence, on every platform.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number | bigint) {
    const [lo, hi] = seedHalves(seed);
    this.s0 = fmix32((lo ^ 0x9e3779b9) >>> 0);
    this.s1 = fmix32((hi ^ 0x85ebca6b) >>> 0);
    this.s2 = fmix32((this.s0 ^ this.s1 ^ 0x27d4eb2f) >>> 0); // non-zero whenever s0 = s1 = 0
    this.s3 = fmix32((this.s0 + 0x165667b1) >>> 0);
    for (let i = 0; i < 8; i++) this.nextU32();
  }

  /**
   * Builds a generator directly from a raw xoshiro128** state (no seeding, no warm-up).
   * Mainly for checking against the reference C implementation and for restoring a
   * state saved with {@link getState}.
   */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = Object.create(Rng.prototype) as Rng;
    r.s0 = state[0] >>> 0;
    r.s1 = state[1] >>> 0;
    r.s2 = state[2] >>> 0;
    r.s3 = state[3] >>> 0;
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) {
      throw new QuantscopeError('invalid_argument', 'xoshiro128** state must not be all zero');
    }
    return r;
  }

  /** The current raw state, restorable with {@link Rng.fromState}. */
  getState(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** An independent generator that continues from this one's current state. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /** Next uniformly distributed unsigned 32-bit integer, in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ s1) >>> 0;
    this.s1 = (s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Next uniformly distributed float in [0, 1) with 32 bits of resolution (one draw). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** murmur3's 32-bit finaliser: a bijection with good avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed reduced modulo 2^64 as [low 32 bits, high 32 bits]. */
function seedHalves(seed: number | bigint): [number, number] {
  let big: bigint;
  if (typeof seed === 'bigint') {
    big = seed;
  } else if (typeof seed === 'number' && Number.isSafeInteger(seed)) {
    big = BigInt(seed);
  } else {
    throw new QuantscopeError(
      'invalid_argument',
      `seed must be an integer (a safe-integer number or a bigint), got ${String(seed)}`,
    );
  }
  const u = BigInt.asUintN(64, big);
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}
