import type { ByteCursor, Parse } from './byte-cursor.js';
import { GgufValueType, type GgufMetadataEntry, type GgufValue } from './types.js';
import { isValueType, minEncodedSize, NUMERIC_VALUE_TYPES, valueTypeName } from './value-types.js';

/** Real files nest arrays at most once or twice; deeper nesting only serves to exhaust the stack. */
export const MAX_ARRAY_DEPTH = 8;
/**
 * Largest metadata array accepted (vocabularies and merge lists stay below 1M entries). Counts are
 * also checked against the bytes left in the file; this cap bounds the allocation for huge files.
 */
export const MAX_ARRAY_LENGTH = 2 ** 26;

/** A u64 length-prefixed UTF-8 string; the length is checked against the file before reading. */
export function* readString(c: ByteCursor, what: string): Parse<string> {
  yield* c.need(8, `length of ${what}`);
  const lengthAt = c.pos;
  const length = c.u64();
  if (length > BigInt(c.remaining)) {
    throw c.error(`${what} claims ${length} bytes but only ${c.remaining} remain in the file`, lengthAt);
  }
  yield* c.need(Number(length), what);
  return c.utf8(Number(length));
}

function* readValueType(c: ByteCursor, what: string): Parse<GgufValueType> {
  yield* c.need(4, what);
  const at = c.pos;
  const type = c.u32();
  if (!isValueType(type)) throw c.error(`unknown metadata value type ${type} in ${what} (known: 0-12)`, at);
  return type;
}

function* readValue(c: ByteCursor, type: GgufValueType, key: string, depth: number): Parse<GgufValue> {
  const numeric = NUMERIC_VALUE_TYPES.get(type);
  if (numeric) {
    yield* c.need(numeric.size, `${valueTypeName(type)} value of '${key}'`);
    return c.numeric(numeric);
  }
  if (type === GgufValueType.BOOL) {
    yield* c.need(1, `bool value of '${key}'`);
    return c.u8() !== 0;
  }
  if (type === GgufValueType.STRING) return yield* readString(c, `string value of '${key}'`);
  return (yield* readArray(c, key, depth + 1)).value;
}

interface ArrayValue {
  readonly elementType: GgufValueType;
  readonly value: GgufValue;
}

/** An array (element type, u64 count, elements); numeric elements become a typed array. */
function* readArray(c: ByteCursor, key: string, depth: number): Parse<ArrayValue> {
  if (depth > MAX_ARRAY_DEPTH) throw c.error(`array value of '${key}' is nested deeper than ${MAX_ARRAY_DEPTH} levels`);
  const elementType = yield* readValueType(c, `element type of array '${key}'`);
  yield* c.need(8, `element count of array '${key}'`);
  const countAt = c.pos;
  const count = c.u64();
  const minBytes = count * BigInt(minEncodedSize(elementType));
  if (minBytes > BigInt(c.remaining)) {
    throw c.error(`array '${key}' claims ${count} ${valueTypeName(elementType)} elements (at least ${minBytes} bytes) but only ${c.remaining} bytes remain in the file`, countAt);
  }
  if (count > BigInt(MAX_ARRAY_LENGTH)) {
    throw c.error(`array '${key}' has ${count} elements, more than the supported ${MAX_ARRAY_LENGTH}`, countAt);
  }
  const length = Number(count);

  const numeric = NUMERIC_VALUE_TYPES.get(elementType);
  if (numeric) {
    yield* c.need(length * numeric.size, `elements of array '${key}'`);
    const values = numeric.newArray(length);
    for (let i = 0; i < length; i++) values[i] = c.numeric(numeric);
    return { elementType, value: values };
  }
  const values: GgufValue[] = [];
  if (elementType === GgufValueType.STRING) {
    for (let i = 0; i < length; i++) values.push(c.bufferedString() ?? (yield* readString(c, `string value of '${key}[${i}]'`)));
  } else {
    for (let i = 0; i < length; i++) values.push(yield* readValue(c, elementType, `${key}[${i}]`, depth));
  }
  return { elementType, value: values as GgufValue };
}

/** One key/value pair; `offset` is where the pair starts, so later checks can point at it. */
export function* readMetadataEntry(c: ByteCursor, index: number): Parse<GgufMetadataEntry> {
  const offset = c.pos;
  const key = yield* readString(c, `key of metadata entry #${index}`);
  const type = yield* readValueType(c, `value type of '${key}'`);
  if (type !== GgufValueType.ARRAY) return { key, type, value: yield* readValue(c, type, key, 0), offset };
  const { elementType, value } = yield* readArray(c, key, 1);
  return { key, type, arrayType: elementType, value, offset };
}
