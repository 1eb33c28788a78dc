/** GGUF metadata value type ids (gguf.h `enum gguf_type`). */
export const enum GgufValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}

/**
 * A metadata value. Integers up to 32 bits and floats are `number`; 64-bit integers are
 * `bigint`. Arrays of numbers are typed arrays (token scores are a Float32Array, token types
 * an Int32Array, …); arrays of strings are `string[]`; arrays of arrays are `GgufValue[]`.
 */
export type GgufValue =
  | number | bigint | boolean | string
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array
  | boolean[] | string[] | GgufValue[];

export interface GgufMetadataEntry {
  readonly key: string;
  readonly type: GgufValueType;
  /** element type when `type` is ARRAY */
  readonly arrayType?: GgufValueType;
  readonly value: GgufValue;
  /** absolute byte offset where the key/value pair starts (set by the reader, for error messages) */
  readonly offset?: number;
}

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: dims[0] (ne0) is the contiguous row length */
  readonly dims: readonly number[];
  /** ggml type id (see quant/ggml-types.ts) */
  readonly type: number;
  /** byte offset of the data relative to the start of the tensor-data section */
  readonly offset: number;
  /** absolute byte offset in the file */
  readonly fileOffset: number;
  readonly nElements: number;
  readonly nBytes: number;
}

export interface GgufFile {
  readonly path: string;
  readonly version: number;
  readonly fileSize: number;
  readonly alignment: number;
  /** absolute offset of the tensor-data section */
  readonly dataOffset: number;
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  readonly tensors: readonly GgufTensorInfo[];
}
