import { open } from 'node:fs/promises';
import { DEFAULT_ALIGNMENT } from './header-parser.js';
import { GgufValueType, type GgufValue } from './types.js';
import { NUMERIC_VALUE_TYPES } from './value-types.js';

export interface GgufWriteEntry {
  readonly key: string;
  readonly type: GgufValueType;
  /** for numeric arrays, a typed array or any array of numbers/bigints; for nested arrays, the inner values */
  readonly value: GgufValue | readonly (number | bigint)[];
  /** element type when `type` is ARRAY; nested arrays' element types are inferred from their values */
  readonly arrayType?: GgufValueType;
}

export interface GgufWriteTensor {
  readonly name: string;
  /** ggml order (ne0 first) */
  readonly dims: readonly number[];
  /** ggml type id */
  readonly type: number;
  /** written as given: the writer does not check it against dims/type, so tests can build broken files */
  readonly data: Uint8Array;
  /** data offset relative to the data section; default: packed after the previous tensor, aligned */
  readonly offset?: number;
}

export interface GgufWriteInput {
  readonly metadata?: readonly GgufWriteEntry[];
  readonly tensors?: readonly GgufWriteTensor[];
  /** default 32; any other value is also recorded as `general.alignment` unless metadata sets it */
  readonly alignment?: number;
  /** header version field (default 3); v2 and v3 little-endian files are byte-identical otherwise */
  readonly version?: number;
}

const TYPED_ARRAY_ELEMENT_TYPES: ReadonlyArray<[Function, GgufValueType]> = [
  [Uint8Array, GgufValueType.UINT8], [Int8Array, GgufValueType.INT8],
  [Uint16Array, GgufValueType.UINT16], [Int16Array, GgufValueType.INT16],
  [Uint32Array, GgufValueType.UINT32], [Int32Array, GgufValueType.INT32],
  [Float32Array, GgufValueType.FLOAT32], [Float64Array, GgufValueType.FLOAT64],
  [BigUint64Array, GgufValueType.UINT64], [BigInt64Array, GgufValueType.INT64],
];

/** Element type of a nested array, which has no explicit `arrayType`: from its JS representation. */
function inferElementType(value: GgufValue, key: string): GgufValueType {
  const typed = TYPED_ARRAY_ELEMENT_TYPES.find(([ArrayType]) => value instanceof ArrayType);
  if (typed) return typed[1];
  if (!Array.isArray(value)) throw new Error(`writeGguf: nested value of '${key}' is not an array`);
  if (value.every((v) => typeof v === 'string')) return GgufValueType.STRING; // includes []
  if (value.every((v) => typeof v === 'boolean')) return GgufValueType.BOOL;
  if (value.every((v) => typeof v === 'object')) return GgufValueType.ARRAY;
  throw new Error(`writeGguf: cannot infer the element type of nested array '${key}'; use a typed array`);
}

/** Appends little-endian fields to a growing list of byte chunks. */
class ByteWriter {
  private readonly chunks: Uint8Array[] = [];
  length = 0;

  private fixed(size: number, write: (view: DataView) => void): void {
    const chunk = new Uint8Array(size);
    write(new DataView(chunk.buffer));
    this.raw(chunk);
  }

  raw(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  u32(value: number): void { this.fixed(4, (v) => v.setUint32(0, value, true)); }
  u64(value: number | bigint): void { this.fixed(8, (v) => v.setBigUint64(0, BigInt(value), true)); }

  zeros(count: number): void { this.raw(new Uint8Array(count)); }

  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u64(bytes.byteLength);
    this.raw(bytes);
  }

  value(type: GgufValueType, value: GgufWriteEntry['value'], key: string, arrayType?: GgufValueType): void {
    const numeric = NUMERIC_VALUE_TYPES.get(type);
    if (numeric) this.fixed(numeric.size, (v) => numeric.set(v, 0, value as number | bigint));
    else if (type === GgufValueType.BOOL) this.fixed(1, (v) => v.setUint8(0, value ? 1 : 0));
    else if (type === GgufValueType.STRING) this.string(value as string);
    else if (type === GgufValueType.ARRAY) this.array(value as ArrayLike<unknown>, key, arrayType);
    else throw new Error(`writeGguf: '${key}' has unknown value type ${type}`);
  }

  private array(values: ArrayLike<unknown>, key: string, arrayType = inferElementType(values as GgufValue, key)): void {
    this.u32(arrayType);
    this.u64(values.length);
    for (let i = 0; i < values.length; i++) {
      this.value(arrayType, values[i] as GgufWriteEntry['value'], `${key}[${i}]`);
    }
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}

const alignUp = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

/** A tensor's place in the data section: its size, and an explicit offset if it has one. */
interface TensorExtent { readonly nBytes: number; readonly offset?: number }

/** Data offsets: explicit ones as given, the others packed after the previous tensor's end. */
function layoutTensors(tensors: readonly TensorExtent[], alignment: number): { offsets: number[]; size: number } {
  let next = 0;
  let size = 0;
  const offsets = tensors.map((t) => {
    const offset = t.offset ?? alignUp(next, alignment);
    next = offset + t.nBytes;
    size = Math.max(size, next);
    return offset;
  });
  return { offsets, size };
}

type TensorHeader = Pick<GgufWriteTensor, 'name' | 'dims' | 'type'> & TensorExtent;

interface SerializedHeader {
  /** header, metadata and tensor infos; with tensors, padded to the start of the data section */
  readonly writer: ByteWriter;
  readonly alignment: number;
  readonly offsets: readonly number[];
  /** bytes of the data section, before its final padding */
  readonly dataSize: number;
}

/** Everything before the tensor data; shared by the in-memory and the streaming writer. */
function serializeHeader(input: Omit<GgufWriteInput, 'tensors'>, tensors: readonly TensorHeader[]): SerializedHeader {
  const alignment = input.alignment ?? DEFAULT_ALIGNMENT;
  const metadata = [...(input.metadata ?? [])];
  if (alignment !== DEFAULT_ALIGNMENT && !metadata.some((e) => e.key === 'general.alignment')) {
    metadata.push({ key: 'general.alignment', type: GgufValueType.UINT32, value: alignment });
  }
  const { offsets, size } = layoutTensors(tensors, alignment);

  const w = new ByteWriter();
  w.raw(new TextEncoder().encode('GGUF'));
  w.u32(input.version ?? 3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const entry of metadata) {
    w.string(entry.key);
    w.u32(entry.type);
    w.value(entry.type, entry.value, entry.key, entry.arrayType);
  }
  tensors.forEach((t, i) => {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const dim of t.dims) w.u64(dim);
    w.u32(t.type);
    w.u64(offsets[i]);
  });
  if (tensors.length > 0) w.zeros(alignUp(w.length, alignment) - w.length);
  return { writer: w, alignment, offsets, dataSize: size };
}

/** Serialize a GGUF (v3, little-endian) file: header, metadata, tensor infos, aligned data. */
export function writeGguf(input: GgufWriteInput): Uint8Array {
  const tensors = input.tensors ?? [];
  const { writer: w, alignment, offsets, dataSize } = serializeHeader(input, tensors.map((t) => ({ ...t, nBytes: t.data.byteLength })));
  if (tensors.length === 0) return w.toBytes();
  const data = new Uint8Array(alignUp(dataSize, alignment));
  tensors.forEach((t, i) => data.set(t.data, offsets[i]));
  w.raw(data);
  return w.toBytes();
}

// ---- streaming: files too big to hold in memory (the bench's 0.6–2.2 GB models) -------------------

/** A tensor whose data is produced while the file is written: `nBytes` must be known up front,
 *  because the tensor infos (with every data offset) precede the data. */
export interface GgufStreamTensor {
  readonly name: string;
  /** ggml order (ne0 first) */
  readonly dims: readonly number[];
  /** ggml type id */
  readonly type: number;
  /** bytes the tensor's data source yields; data is packed in order, each tensor aligned */
  readonly nBytes: number;
}

export interface GgufStreamInput extends Omit<GgufWriteInput, 'tensors'> {
  readonly tensors?: readonly GgufStreamTensor[];
}

/**
 * The data of one tensor, in chunks. Each chunk is written before the next is asked for, so a
 * source may refill and yield the same buffer again.
 */
export type GgufTensorSource = (tensor: GgufStreamTensor, index: number) => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface GgufLayout {
  /** bytes before the data section (header, metadata, tensor infos, padding) */
  readonly dataOffset: number;
  /** each tensor's offset relative to the data section */
  readonly offsets: readonly number[];
  /** the whole file's size */
  readonly fileSize: number;
}

function streamLayout(input: GgufStreamInput): { header: Uint8Array; layout: GgufLayout } {
  const tensors = input.tensors ?? [];
  const { writer, alignment, offsets, dataSize } = serializeHeader(input, tensors);
  const header = writer.toBytes();
  const fileSize = tensors.length === 0 ? header.byteLength : header.byteLength + alignUp(dataSize, alignment);
  return { header, layout: { dataOffset: header.byteLength, offsets, fileSize } };
}

/** Where everything goes and how big the file will be, without writing it (e.g. to check disk space). */
export function ggufLayout(input: GgufStreamInput): GgufLayout {
  return streamLayout(input).layout;
}

const PAD_CHUNK = new Uint8Array(4096);

/**
 * Write a GGUF file to `path` tensor by tensor: the header first, then each tensor's data as
 * `source` yields it, padded as `writeGguf` pads (the same input gives the same bytes), so only one
 * chunk is in memory at a time. A source that yields more or fewer than `nBytes` is an error; the
 * partial file is left for the caller to remove (write to a temporary name and rename).
 */
export async function writeGgufFile(path: string, input: GgufStreamInput, source: GgufTensorSource): Promise<GgufLayout> {
  const { header, layout } = streamLayout(input);
  const tensors = input.tensors ?? [];
  const fh = await open(path, 'w');
  try {
    let at = 0; // position in the file
    const write = async (bytes: Uint8Array) => {
      for (let done = 0; done < bytes.byteLength;) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, at);
        done += bytesWritten;
        at += bytesWritten;
      }
    };
    const padTo = async (end: number) => {
      while (at < end) await write(PAD_CHUNK.subarray(0, Math.min(PAD_CHUNK.byteLength, end - at)));
    };
    await write(header);
    for (const [i, t] of tensors.entries()) {
      await padTo(layout.dataOffset + layout.offsets[i]);
      const start = at;
      for await (const chunk of source(t, i)) {
        if (at - start + chunk.byteLength > t.nBytes) {
          throw new Error(`writeGgufFile: tensor '${t.name}' yields more than its ${t.nBytes} bytes`);
        }
        await write(chunk);
      }
      if (at - start !== t.nBytes) {
        throw new Error(`writeGgufFile: tensor '${t.name}' yields ${at - start} bytes, expected ${t.nBytes}`);
      }
    }
    await padTo(layout.fileSize);
  } finally {
    await fh.close();
  }
  return layout;
}
