import { GGML_TYPES, type GgmlTypeInfo } from './ggml-types.js';

/**
 * The activation format a weight type is multiplied with, as llama.cpp's CPU backend pairs them
 * (`vec_dot_type` in ggml-cpu's type traits):
 * - `f32`: plain f32 rows (4 bytes per value)
 * - `f16`, `bf16`: f32 rows rounded to f16 / bf16 precision (4 bytes per value; see assembly/quant/f16.ts)
 * - `q8_0`: Q8_0 blocks (34 bytes per 32 values)
 * - `q8_1`: Q8_1 blocks (36 bytes per 32 values: Q8_0 plus d·Σq)
 * - `q8_K`: Q8_K super-blocks (292 bytes per 256 values: f32 d, int8 quants, 16 int16 sums)
 */
export type ActivationFormat = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q8_1' | 'q8_K';

export interface RunnableFormat {
  readonly type: GgmlTypeInfo;
  readonly activation: ActivationFormat;
}

const ACTIVATION_ROW_BYTES: Record<ActivationFormat, (n: number) => number> = {
  f32: (n) => n * 4,
  f16: (n) => n * 4,
  bf16: (n) => n * 4,
  q8_0: (n) => (n / 32) * 34,
  q8_1: (n) => (n / 32) * 36,
  q8_K: (n) => (n / 256) * 292,
};


/**
 * One entry per weight type the kernels can run; adding a format is adding a line here and its kernels.
 * F16 weights take f16-rounded activations: llama.cpp converts the activation row to the weight's
 * vec_dot_type (F16) before its dot product — also when the product then runs in llamafile's
 * tinyBLAS — and the references agree with that to 1e-8 where f32 activations miss by 2e-3.
 */
const RUNNABLE: ReadonlyArray<[name: string, activation: ActivationFormat]> = [
  ['F32', 'f32'],
  ['F16', 'f16'],
  ['BF16', 'bf16'],
  ['Q4_0', 'q8_0'],
  ['Q4_1', 'q8_1'],
  ['Q5_0', 'q8_0'],
  ['Q5_1', 'q8_1'],
  ['Q8_0', 'q8_0'],
  ['Q2_K', 'q8_K'],
  ['Q3_K', 'q8_K'],
  ['Q4_K', 'q8_K'],
  ['Q5_K', 'q8_K'],
  ['Q6_K', 'q8_K'],
  ['IQ4_NL', 'q8_0'],
  ['IQ4_XS', 'q8_K'],
];

const byName = new Map([...GGML_TYPES.values()].map((t) => [t.name, t]));

export const FORMATS: ReadonlyMap<number, RunnableFormat> = new Map(
  RUNNABLE.map(([name, activation]) => {
    const type = byName.get(name)!;
    return [type.id, { type, activation }];
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
  return ACTIVATION_ROW_BYTES[format](n);
}

/** Bytes of one weight row of `n` values of ggml type `typeId`. */
export function rowBytes(typeId: number, n: number): number {
  const t = GGML_TYPES.get(typeId)!;
  return (n / t.blockSize) * t.typeSize;
}
