/**
 * Every tensor type id a GGUF file may carry (ggml's `enum ggml_type`), with its block geometry.
 * A tensor row of `n` values of a type occupies n / blockSize * typeSize bytes.
 * This table only describes storage; which types the engine can *run* is decided by
 * the kernel table in `formats.ts`.
 */
export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  /** values per block */
  readonly blockSize: number;
  /** bytes per block */
  readonly typeSize: number;
}

const T = (id: number, name: string, blockSize: number, typeSize: number): GgmlTypeInfo => ({ id, name, blockSize, typeSize });

/** Storage geometry per ggml type id (ggml.c `type_traits`). Ids 4, 5, 31–33 and 36–38 were removed from ggml. */
export const GGML_TYPES: ReadonlyMap<number, GgmlTypeInfo> = new Map(
  [
    T(0, 'F32', 1, 4),
    T(1, 'F16', 1, 2),
    T(2, 'Q4_0', 32, 18),
    T(3, 'Q4_1', 32, 20),
    T(6, 'Q5_0', 32, 22),
    T(7, 'Q5_1', 32, 24),
    T(8, 'Q8_0', 32, 34),
    T(9, 'Q8_1', 32, 36),
    T(10, 'Q2_K', 256, 84),
    T(11, 'Q3_K', 256, 110),
    T(12, 'Q4_K', 256, 144),
    T(13, 'Q5_K', 256, 176),
    T(14, 'Q6_K', 256, 210),
    T(15, 'Q8_K', 256, 292),
    T(16, 'IQ2_XXS', 256, 66),
    T(17, 'IQ2_XS', 256, 74),
    T(18, 'IQ3_XXS', 256, 98),
    T(19, 'IQ1_S', 256, 50),
    T(20, 'IQ4_NL', 32, 18),
    T(21, 'IQ3_S', 256, 110),
    T(22, 'IQ2_S', 256, 82),
    T(23, 'IQ4_XS', 256, 136),
    T(24, 'I8', 1, 1),
    T(25, 'I16', 1, 2),
    T(26, 'I32', 1, 4),
    T(27, 'I64', 1, 8),
    T(28, 'F64', 1, 8),
    T(29, 'IQ1_M', 256, 56),
    T(30, 'BF16', 1, 2),
    T(34, 'TQ1_0', 256, 54),
    T(35, 'TQ2_0', 256, 66),
    T(39, 'MXFP4', 32, 17),
  ].map((t) => [t.id, t]),
);

export function ggmlTypeName(id: number): string {
  return GGML_TYPES.get(id)?.name ?? `unknown(${id})`;
}
