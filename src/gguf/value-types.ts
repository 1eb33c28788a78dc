import { GgufValueType } from './types.js';

/** Short names of the metadata value types, indexed by type id (as gguf-py prints them). */
const VALUE_TYPE_NAMES: readonly string[] = [
  'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64',
];

export function isValueType(id: number): id is GgufValueType {
  return Number.isInteger(id) && id >= 0 && id < VALUE_TYPE_NAMES.length;
}

export function valueTypeName(id: number): string {
  return VALUE_TYPE_NAMES[id] ?? `unknown(${id})`;
}

type NumericArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array;

/** How one numeric value type is stored: its size, little-endian accessors and its typed array. */
export interface NumericValueType {
  readonly size: number;
  readonly get: (view: DataView, at: number) => number | bigint;
  readonly set: (view: DataView, at: number, value: number | bigint) => void;
  readonly newArray: (length: number) => NumericArray;
}

const numeric = (
  size: number,
  get: NumericValueType['get'],
  set: NumericValueType['set'],
  ArrayType: new (length: number) => NumericArray,
): NumericValueType => ({ size, get, set, newArray: (length) => new ArrayType(length) });

/** Every value type that is a single number; bool, string and array are handled separately. */
export const NUMERIC_VALUE_TYPES: ReadonlyMap<GgufValueType, NumericValueType> = new Map([
  [GgufValueType.UINT8, numeric(1, (v, a) => v.getUint8(a), (v, a, x) => v.setUint8(a, Number(x)), Uint8Array)],
  [GgufValueType.INT8, numeric(1, (v, a) => v.getInt8(a), (v, a, x) => v.setInt8(a, Number(x)), Int8Array)],
  [GgufValueType.UINT16, numeric(2, (v, a) => v.getUint16(a, true), (v, a, x) => v.setUint16(a, Number(x), true), Uint16Array)],
  [GgufValueType.INT16, numeric(2, (v, a) => v.getInt16(a, true), (v, a, x) => v.setInt16(a, Number(x), true), Int16Array)],
  [GgufValueType.UINT32, numeric(4, (v, a) => v.getUint32(a, true), (v, a, x) => v.setUint32(a, Number(x), true), Uint32Array)],
  [GgufValueType.INT32, numeric(4, (v, a) => v.getInt32(a, true), (v, a, x) => v.setInt32(a, Number(x), true), Int32Array)],
  [GgufValueType.FLOAT32, numeric(4, (v, a) => v.getFloat32(a, true), (v, a, x) => v.setFloat32(a, Number(x), true), Float32Array)],
  [GgufValueType.FLOAT64, numeric(8, (v, a) => v.getFloat64(a, true), (v, a, x) => v.setFloat64(a, Number(x), true), Float64Array)],
  [GgufValueType.UINT64, numeric(8, (v, a) => v.getBigUint64(a, true), (v, a, x) => v.setBigUint64(a, BigInt(x), true), BigUint64Array)],
  [GgufValueType.INT64, numeric(8, (v, a) => v.getBigInt64(a, true), (v, a, x) => v.setBigInt64(a, BigInt(x), true), BigInt64Array)],
]);

/** Bytes of a string's length prefix, and of an array's element type + count. */
export const STRING_HEADER_SIZE = 8;
export const ARRAY_HEADER_SIZE = 12;

/** The fewest bytes one value of `type` can occupy: used to reject counts no file could hold. */
export function minEncodedSize(type: GgufValueType): number {
  if (type === GgufValueType.STRING) return STRING_HEADER_SIZE;
  if (type === GgufValueType.ARRAY) return ARRAY_HEADER_SIZE;
  if (type === GgufValueType.BOOL) return 1;
  return NUMERIC_VALUE_TYPES.get(type)?.size ?? 1;
}
