import { GGML_TYPES, type GgmlTypeInfo } from './ggml-types.js';

/**
 * The activation format a weight type is multiplied with, as llama.cpp's CPU backend pairs them
 * (`vec_dot_type` in ggml-cpu's type traits):
 * - `f32`: plain f32 rows (4 bytes per value)
 * - `f16`: f32 rows rounded to f16 precision (4 bytes per value; see assembly/quant/f16.ts)
 * - `q8_0`: Q8_0 blocks (34 bytes per 32 values)
 */
export type ActivationFormat = 'f32' | 'f16' | 'q8_0';

export interface RunnableFormat {
  readonly type: GgmlTypeInfo;
  /** the activation format for a weight row of `cols` values */
  activation(cols: number): ActivationFormat;
}

const ACTIVATION_ROW_BYTES: Record<ActivationFormat, (n: number) => number> = {
  f32: (n) => n * 4,
  f16: (n) => n * 4,
  q8_0: (n) => (n / 32) * 34,
};

/**
 * F16 weights: llama.cpp's x86 build hands F16 × F32 products to llamafile's tinyBLAS whenever the
 * row length is a multiple of the SIMD width (16 with AVX-512), and tinyBLAS multiplies the f32
 * activations as they are. Only other row lengths fall back to ggml's own path, which first rounds
 * the activations to f16. The references in ../shared/reference were made that way, so we follow it.
 */
const f16Activation = (cols: number): ActivationFormat => 'f16';

/** One entry per weight type the kernels can run; adding a format is adding a line here and its kernels. */
const RUNNABLE: ReadonlyArray<[name: string, activation: (cols: number) => ActivationFormat]> = [
  ['F32', () => 'f32'],
  ['F16', f16Activation],
  ['Q8_0', () => 'q8_0'],
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
