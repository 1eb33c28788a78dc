// Random tensor data for the bench models, written chunk by chunk (a 2 GB model never sits in memory).
// Speed does not depend on the values, but the values must be sane: no NaN/Inf, and activations that
// stay finite through 22 layers. So matrices look like trained weights of std ≈ 0.02 — for quantized
// types, random quant bytes with f16 block scales chosen so that the dequantized values have that
// std (block layouts: the comments at the top of assembly/quant/<type>.ts) — and norm vectors ≈ 1.
import { GGML_TYPES } from '../src/quant/ggml-types.js';
import { Xorshift128, rng } from './random.js';

/** std of the synthesized matrix values (trained llama matrices are about this) */
export const WEIGHT_STD = 0.02;

/** f32 → f16 bits, round to nearest even (subnormals included; the bench never makes Inf/NaN). */
export function f16Bits(x: number): number {
  F32[0] = x;
  const b = U32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  let mant = b & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // a carry into the exponent is right
  return sign | half;
}
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** A standard normal (Box–Muller). */
function normal(uniform: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * How to make random blocks of one quantized type: byte offsets of its f16 scales and the value
 * the scale must have for std 0.02. `rmsPerScale` is the rms of a dequantized value per unit of
 * the main scale d, for uniformly random quant bytes (derived per layout below); `minRatio` sets the
 * second f16 (dmin of Q4_K/Q5_K) to d·minRatio, which makes a block's mean 0 on average.
 */
interface BlockRecipe { dAt: number; rmsPerScale: number; dminAt?: number; minRatio?: number }

// Uniform integers on 0..n−1 have mean (n−1)/2, E[q²] = (n−1)(2n−1)/6 and std √((n²−1)/12).
const RECIPES: Record<string, BlockRecipe> = {
  // d·(q − 8), q a nibble: std √(255/12) = 4.61
  Q4_0: { dAt: 0, rmsPerScale: Math.sqrt(255 / 12) },
  // d·q, q an int8: std √(65535/12) = 73.9
  Q8_0: { dAt: 0, rmsPerScale: Math.sqrt(65535 / 12) },
  // d·sc·(q − 32), sc a random int8 (rms 73.9), q 6 bits (std 18.5); d is f16-subnormal, as in real files
  Q6_K: { dAt: 208, rmsPerScale: Math.sqrt(65535 / 12) * Math.sqrt(4095 / 12) },
  // d·sc·q − dmin·m with sc, m uniform 6-bit and q a nibble; dmin = 7.5·d (E[q] = 7.5) centres the blocks:
  // E[(sc·q − 7.5·m)²] = 1333.5·77.5 − 2·7.5·31.5·7.5·31.5 + 7.5²·1333.5 = 66727
  Q4_K: { dAt: 0, dminAt: 2, minRatio: 7.5, rmsPerScale: Math.sqrt(66727) },
  // the same with q 5 bits (E[q] = 15.5, E[q²] = 325.5): 1333.5·325.5 − 2·(15.5·31.5)² + 15.5²·1333.5 = 277651
  Q5_K: { dAt: 0, dminAt: 2, minRatio: 15.5, rmsPerScale: Math.sqrt(277651) },
};

export function canSynthesize(typeName: string): boolean {
  return typeName === 'F32' || typeName === 'F16' || typeName in RECIPES;
}

/** The f16 scales blocks draw from: d for std 0.02, jittered ±25% so blocks differ (and dmin). */
function scaleTable(recipe: BlockRecipe, seed: number): { d: Uint16Array; dmin: Uint16Array } {
  const r = rng(seed);
  const d = new Uint16Array(256);
  const dmin = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    const scale = (WEIGHT_STD / recipe.rmsPerScale) * (0.75 + 0.5 * r());
    d[i] = f16Bits(scale);
    dmin[i] = f16Bits(scale * (recipe.minRatio ?? 0));
  }
  return { d, dmin };
}

/** 65536 f16 samples of N(0, 0.02): an F16 matrix takes each value from it by a random 16-bit index. */
let normalF16: Uint16Array | undefined;
function normalF16Table(): Uint16Array {
  if (!normalF16) {
    const r = rng(0x5eed);
    normalF16 = Uint16Array.from({ length: 65536 }, () => f16Bits(WEIGHT_STD * normal(r)));
  }
  return normalF16;
}

const CHUNK_BYTES = 4 << 20;

/**
 * The data of one tensor of `nElements` values of ggml type `typeId`, in chunks of about 4 MiB
 * (whole blocks) that reuse one buffer. F32 tensors are norm vectors (≈ 1.0), every other type a
 * matrix of std ≈ 0.02. The same seed gives the same bytes.
 */
export function* tensorData(typeId: number, nElements: number, seed: number): Generator<Uint8Array> {
  const type = GGML_TYPES.get(typeId);
  if (!type || !canSynthesize(type.name)) throw new Error(`synth-weights: cannot make ${type?.name ?? typeId} data`);
  if (nElements % type.blockSize !== 0) throw new Error(`synth-weights: ${nElements} values are not whole ${type.name} blocks`);
  const nBlocks = nElements / type.blockSize;
  const blocksPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / type.typeSize));
  // a multiple of 4 bytes, so the random words can be written as a Uint32Array over it
  const buf = new Uint8Array(Math.ceil((Math.min(nBlocks, blocksPerChunk) * type.typeSize) / 4) * 4);
  const words = new Uint32Array(buf.buffer);
  const xs = new Xorshift128(seed);
  const recipe = RECIPES[type.name];
  const scales = recipe && scaleTable(recipe, seed ^ 0x9e3779b9);
  const table = type.name === 'F16' ? normalF16Table() : undefined;
  const f32 = type.name === 'F32' ? new Float32Array(buf.buffer) : undefined;

  for (let block = 0; block < nBlocks; block += blocksPerChunk) {
    const n = Math.min(blocksPerChunk, nBlocks - block);
    const bytes = n * type.typeSize;
    if (f32) {
      for (let i = 0; i < n; i++) f32[i] = 0.9 + 0.2 * xs.uniform(); // norm weights ≈ 1
    } else if (table) {
      const h = new Uint16Array(buf.buffer, 0, n);
      for (let i = 0; i + 1 < n; i += 2) {
        const w = xs.next();
        h[i] = table[w & 0xffff];
        h[i + 1] = table[w >>> 16];
      }
      if (n & 1) h[n - 1] = table[xs.next() & 0xffff];
    } else {
      xs.fill(words.subarray(0, Math.ceil(bytes / 4)));
      const dv = new DataView(buf.buffer);
      for (let b = 0, at = 0; b < n; b++, at += type.typeSize) {
        const pick = buf[at + type.typeSize - 1] ^ buf[at + 5]; // random bytes choose the block's scale
        dv.setUint16(at + recipe.dAt, scales!.d[pick], true);
        if (recipe.dminAt !== undefined) dv.setUint16(at + recipe.dminAt, scales!.dmin[pick], true);
      }
    }
    yield buf.subarray(0, bytes);
  }
}
