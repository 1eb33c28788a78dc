import { GgufError } from '../errors.js';
import { GgufValueType, type GgufFile, type GgufMetadataEntry, type GgufValue } from './types.js';
import { NUMERIC_VALUE_TYPES, valueTypeName } from './value-types.js';

/** The array forms of GgufValue. */
export type GgufArrayValue = Exclude<GgufValue, number | bigint | boolean | string>;

/** "u32", "string", "array of f32", … */
export function describeEntryType(entry: Pick<GgufMetadataEntry, 'type' | 'arrayType'>): string {
  if (entry.type !== GgufValueType.ARRAY) return valueTypeName(entry.type);
  return `array of ${valueTypeName(entry.arrayType ?? GgufValueType.ARRAY)}`;
}

function wrongType(file: GgufFile, entry: GgufMetadataEntry, expected: string): GgufError {
  return new GgufError(file.path, entry.offset ?? 0, `metadata '${entry.key}' is ${describeEntryType(entry)}, expected ${expected}`);
}

/** Look up `key`; undefined if absent, GgufError if present but `accepts` rejects its type. */
function lookup(file: GgufFile, key: string, expected: string, accepts: (e: GgufMetadataEntry) => boolean) {
  const entry = file.metadata.get(key);
  if (entry && !accepts(entry)) throw wrongType(file, entry, expected);
  return entry;
}

export function getString(file: GgufFile, key: string): string | undefined {
  return lookup(file, key, 'string', (e) => e.type === GgufValueType.STRING)?.value as string | undefined;
}

export function getBoolean(file: GgufFile, key: string): boolean | undefined {
  return lookup(file, key, 'bool', (e) => e.type === GgufValueType.BOOL)?.value as boolean | undefined;
}

/** Any numeric scalar; 64-bit integers are converted and must be exactly representable. */
export function getNumber(file: GgufFile, key: string): number | undefined {
  const entry = lookup(file, key, 'a number', (e) => NUMERIC_VALUE_TYPES.has(e.type));
  if (!entry) return undefined;
  if (typeof entry.value !== 'bigint') return entry.value as number;
  const value = Number(entry.value);
  if (!Number.isSafeInteger(value)) throw wrongType(file, entry, 'a number below 2^53');
  return value;
}

/** An array value, optionally required to hold elements of `elementType`. */
export function getArray(file: GgufFile, key: string, elementType?: GgufValueType): GgufArrayValue | undefined {
  const expected = elementType === undefined ? 'an array' : `array of ${valueTypeName(elementType)}`;
  const entry = lookup(file, key, expected, (e) =>
    e.type === GgufValueType.ARRAY && (elementType === undefined || e.arrayType === elementType));
  return entry?.value as GgufArrayValue | undefined;
}

export function getStringArray(file: GgufFile, key: string): string[] | undefined {
  return getArray(file, key, GgufValueType.STRING) as string[] | undefined;
}
