import { GGML_TYPES, type GgmlTypeInfo } from './ggml-types.js';

/**
 * The activation format a weight type is multiplied with, as llama.cpp's CPU backend pairs them
 * (`vec_dot_type` in ggml-cpu's type traits):
 * - `f32`: plain f32 rows (4 bytes per value)
 * - `f16`, `bf16`: f32 rows rounded to f16 / bf16 precision (4 bytes per value; see assembly/quant/f16.ts)
 * - `q8_0`: Q8_0 blocks (34 bytes per 32 values)
 * - `q8_0x`: Q8_0 blocks, then each block's scale (f32) and 8·Σq (i32): 42 bytes per 32 values — the
 *   same products as `q8_0` for Q4_0 and Q8_0 weights, whose four-row kernels read these per block
 *   (assembly/quant/q8_0.ts) instead of working them out for every group of four rows
 * - `q8_1`: Q8_1 blocks (36 bytes per 32 values: Q8_0 plus d·Σq)
 * - `q8_K`: Q8_K super-blocks (292 bytes per 256 values: f32 d, int8 quants, 16 int16 sums)
 */
export type ActivationFormat = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q8_0x' | 'q8_1' | 'q8_K';

export interface ActivationSpec {
  /** bytes of an activation row of n values */
  rowBytes(n: number): number;
  /** kernel export converting an f32 row (x, y, n) into this format, SIMD and scalar twin; none for f32 */
  quantize?: { simd: string; generic: string };
}

export const ACTIVATIONS: Readonly<Record<ActivationFormat, ActivationSpec>> = {
  f32: { rowBytes: (n) => n * 4 },
  f16: { rowBytes: (n) => n * 4, quantize: { simd: 'round_row_f16', generic: 'round_row_f16' } },
  bf16: { rowBytes: (n) => n * 4, quantize: { simd: 'round_row_bf16', generic: 'round_row_bf16' } },
  q8_0: { rowBytes: (n) => (n / 32) * 34, quantize: { simd: 'quantize_row_q8_0', generic: 'quantize_row_q8_0_generic' } },
  q8_0x: { rowBytes: (n) => (n / 32) * 42, quantize: { simd: 'quantize_row_q8_0x', generic: 'quantize_row_q8_0x_generic' } },
  q8_1: { rowBytes: (n) => (n / 32) * 36, quantize: { simd: 'quantize_row_q8_1', generic: 'quantize_row_q8_1_generic' } },
  // llama.cpp's x86 build quantizes Q8_K with the scalar reference, so there is no SIMD version
  q8_K: { rowBytes: (n) => (n / 256) * 292, quantize: { simd: 'quantize_row_q8_K', generic: 'quantize_row_q8_K' } },
};

/** A weight type the engine can run: its storage, its activation format and its kernels' export names. */
export interface RunnableFormat {
  readonly type: GgmlTypeInfo;
  readonly activation: ActivationFormat;
  /** `(n, w, x) => f32` dot product of a weight row with an activation row, for one token;
   *  `<vecDot>_generic` is the scalar twin */
  readonly vecDot: string;
  /** the dot product for batches of ≥ 2 tokens, where llama.cpp sums in another order (llamafile's
   *  tinyBLAS); the same as vecDot when the order does not change */
  readonly vecDotBatch: string;
  /** `(x, y, n)`: a weight row to f32 */
  readonly dequantize: string;
  /** `(n, w, x, out)`: vecDot of the four rows of a group of the four-row layout (assembly/ops/rows4.ts)
   *  with one activation row, the same four results computed side by side (SIMD engines only, whose
   *  weights of this format are in that layout; `<vecDot4>_generic` is its twin) */
  readonly vecDot4?: string;
  /** the four-row kernel of the relaxed-SIMD module, where it has its own (instance.ts chooses the module) */
  readonly vecDot4Relaxed?: string;
  /** `(n, w, x, xRowBytes, out, outRowBytes)`: vecDot4 of a group over four activation rows
   *  x + t·xRowBytes into out + t·outRowBytes (t < 4) — a batch's tokens four at a time, sharing each
   *  weight block's unpacking (formats with vecDot4 only; `<vecTile>_generic` is its twin) */
  readonly vecTile?: string;
  /** the tile kernel of the relaxed-SIMD module */
  readonly vecTileRelaxed?: string;
}

/**
 * The one table of runnable formats: adding a format is adding its kernels under assembly/quant/
 * and one line here. F16 weights take f16-rounded activations: llama.cpp converts the activation row
 * to the weight's vec_dot_type (F16) before its dot product — also when the product then runs in
 * llamafile's tinyBLAS — and the references agree with that to 1e-8 where f32 activations miss by 2e-3.
 */
const RUNNABLE: ReadonlyArray<[
  name: string, activation: ActivationFormat, vecDot: string, dequantize: string, vecDotBatch?: string,
  vecDot4?: string, vecDot4Relaxed?: string, vecTile?: string, vecTileRelaxed?: string,
]> = [
  ['F32', 'f32', 'vec_dot_f32', 'dequantize_row_f32', 'vec_dot_f32_tinyblas'],
  ['F16', 'f16', 'vec_dot_f16', 'dequantize_row_f16', 'vec_dot_f16_tinyblas'],
  ['BF16', 'bf16', 'vec_dot_bf16', 'dequantize_row_bf16'],
  ['Q4_0', 'q8_0x', 'vec_dot_q4_0_q8_0', 'dequantize_row_q4_0', undefined, 'vec_dot4_q4_0_q8_0', 'vec_dot4_q4_0_q8_0_relaxed',
    'vec_dot4x4_q4_0_q8_0', 'vec_dot4x4_q4_0_q8_0_relaxed'],
  ['Q4_1', 'q8_1', 'vec_dot_q4_1_q8_1', 'dequantize_row_q4_1'],
  ['Q5_0', 'q8_0', 'vec_dot_q5_0_q8_0', 'dequantize_row_q5_0'],
  ['Q5_1', 'q8_1', 'vec_dot_q5_1_q8_1', 'dequantize_row_q5_1'],
  ['Q8_0', 'q8_0x', 'vec_dot_q8_0_q8_0', 'dequantize_row_q8_0', undefined, 'vec_dot4_q8_0_q8_0', 'vec_dot4_q8_0_q8_0_relaxed',
    'vec_dot4x4_q8_0_q8_0', 'vec_dot4x4_q8_0_q8_0_relaxed'],
  ['Q2_K', 'q8_K', 'vec_dot_q2_K_q8_K', 'dequantize_row_q2_K'],
  ['Q3_K', 'q8_K', 'vec_dot_q3_K_q8_K', 'dequantize_row_q3_K'],
  ['Q4_K', 'q8_K', 'vec_dot_q4_K_q8_K', 'dequantize_row_q4_K', undefined, 'vec_dot4_q4_K_q8_K', 'vec_dot4_q4_K_q8_K_relaxed'],
  ['Q5_K', 'q8_K', 'vec_dot_q5_K_q8_K', 'dequantize_row_q5_K'],
  ['Q6_K', 'q8_K', 'vec_dot_q6_K_q8_K', 'dequantize_row_q6_K', undefined, 'vec_dot4_q6_K_q8_K', 'vec_dot4_q6_K_q8_K_relaxed'],
  ['IQ4_NL', 'q8_0', 'vec_dot_iq4_nl_q8_0', 'dequantize_row_iq4_nl', 'vec_dot_iq4_nl_q8_0_tinyblas'],
  ['IQ4_XS', 'q8_K', 'vec_dot_iq4_xs_q8_K', 'dequantize_row_iq4_xs'],
];

const byName = new Map([...GGML_TYPES.values()].map((t) => [t.name, t]));

export const FORMATS: ReadonlyMap<number, RunnableFormat> = new Map(
  RUNNABLE.map(([name, activation, vecDot, dequantize, vecDotBatch, vecDot4, vecDot4Relaxed, vecTile, vecTileRelaxed]) => {
    const type = byName.get(name)!;
    return [type.id, { type, activation, vecDot, vecDotBatch: vecDotBatch ?? vecDot, dequantize, vecDot4, vecDot4Relaxed, vecTile, vecTileRelaxed }];
  }),
);

export function runnableFormat(typeId: number): RunnableFormat | undefined {
  return FORMATS.get(typeId);
}

export function supportedTypeNames(): string[] {
  return [...FORMATS.values()].map((f) => f.type.name);
}

/** Bytes of one activation row of `n` values in `format`. */
export function activationRowBytes(format: ActivationFormat, n: number): number {
  return ACTIVATIONS[format].rowBytes(n);
}

/** Bytes of one weight row of `n` values of ggml type `typeId`. */
export function rowBytes(typeId: number, n: number): number {
  const t = GGML_TYPES.get(typeId)!;
  return (n / t.blockSize) * t.typeSize;
}
