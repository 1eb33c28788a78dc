import type { ByteCursor, Parse } from './byte-cursor.js';
import { readMetadataEntry } from './metadata-parser.js';
import { MIN_TENSOR_INFO_SIZE, placeTensors, readTensorInfo, type ParsedTensorInfo } from './tensor-info-parser.js';
import { GgufValueType, type GgufFile, type GgufMetadataEntry } from './types.js';
import { valueTypeName } from './value-types.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const SUPPORTED_VERSIONS: readonly number[] = [2, 3];
export const DEFAULT_ALIGNMENT = 32;
const TENSOR_COUNT_AT = 8;
const METADATA_COUNT_AT = 16;
/** key length + empty key + value type + the smallest value (one byte) */
const MIN_METADATA_ENTRY_SIZE = 8 + 4 + 1;

const hex = (bytes: number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
const bytesOf = (u32: number) => [u32 & 0xff, (u32 >>> 8) & 0xff, (u32 >>> 16) & 0xff, u32 >>> 24];
const byteSwap = (u32: number) => ((u32 & 0xff) << 24 | (u32 & 0xff00) << 8 | (u32 >>> 8) & 0xff00 | u32 >>> 24) >>> 0;

function* readMagicAndVersion(c: ByteCursor): Parse<number> {
  yield* c.need(4, 'the GGUF magic');
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) throw c.error(`not a GGUF file: magic is ${hex(bytesOf(magic))}, expected 47 47 55 46 ("GGUF")`, 0);
  yield* c.need(4, 'the GGUF version');
  const version = c.u32();
  if (SUPPORTED_VERSIONS.includes(version)) return version;
  // A big-endian file stores the version with its bytes swapped: 3 reads as 0x03000000.
  const swapped = byteSwap(version);
  if (swapped >= 1 && swapped <= 3) {
    throw c.error(`big-endian GGUF file (version ${swapped} stored big-endian); only little-endian files are supported`, 4);
  }
  const hint = version === 1 ? ' (GGUF v1 is obsolete; re-convert the model with a current llama.cpp)' : '';
  throw c.error(`unsupported version ${version}${hint}; supported versions: ${SUPPORTED_VERSIONS.join(', ')}`, 4);
}

/** Check that `count` items of at least `minSize` bytes each fit in the rest of the file. */
function checkCount(c: ByteCursor, count: bigint, minSize: number, what: string, countAt: number): number {
  const minBytes = count * BigInt(minSize);
  if (minBytes > BigInt(c.remaining)) {
    throw c.error(`${what} is ${count}, but that many need at least ${minBytes} bytes and only ${c.remaining} remain after byte ${c.pos}`, countAt);
  }
  return Number(count);
}

function* readMetadata(c: ByteCursor, count: number): Parse<Map<string, GgufMetadataEntry>> {
  const metadata = new Map<string, GgufMetadataEntry>();
  for (let i = 0; i < count; i++) {
    const entry = yield* readMetadataEntry(c, i);
    const first = metadata.get(entry.key);
    if (first) throw c.error(`duplicate metadata key '${entry.key}' (first defined at byte ${first.offset})`, entry.offset);
    metadata.set(entry.key, entry);
  }
  return metadata;
}

/** `general.alignment`: optional u32, a nonzero power of two. */
function alignmentOf(c: ByteCursor, metadata: ReadonlyMap<string, GgufMetadataEntry>): number {
  const entry = metadata.get('general.alignment');
  if (!entry) return DEFAULT_ALIGNMENT;
  if (entry.type !== GgufValueType.UINT32) throw c.error(`general.alignment must be a u32, found ${valueTypeName(entry.type)}`, entry.offset);
  const alignment = entry.value as number;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw c.error(`general.alignment is ${alignment}, must be a nonzero power of two`, entry.offset);
  }
  return alignment;
}

function* readTensorInfos(c: ByteCursor, count: number, alignment: number): Parse<ParsedTensorInfo[]> {
  const infos: ParsedTensorInfo[] = [];
  const firstAt = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const info = yield* readTensorInfo(c, i, alignment);
    const first = firstAt.get(info.name);
    if (first !== undefined) throw c.error(`duplicate tensor name '${info.name}' (first defined at byte ${first})`, info.nameAt);
    firstAt.set(info.name, info.nameAt);
    infos.push(info);
  }
  return infos;
}

/**
 * The whole GGUF header: magic, version, counts, metadata, tensor infos. Tensor data is not read;
 * it starts at the end of the header rounded up to the alignment.
 */
export function* parseHeader(c: ByteCursor): Parse<GgufFile> {
  const version = yield* readMagicAndVersion(c);
  yield* c.need(16, 'the tensor and metadata counts');
  const tensorCount = c.u64();
  const metadataCount = c.u64();
  const metadata = yield* readMetadata(c, checkCount(c, metadataCount, MIN_METADATA_ENTRY_SIZE, 'metadata entry count', METADATA_COUNT_AT));
  const alignment = alignmentOf(c, metadata);
  // checked only now, against what is left after the metadata, where the tensor infos start
  const checkedTensorCount = checkCount(c, tensorCount, MIN_TENSOR_INFO_SIZE, 'tensor count', TENSOR_COUNT_AT);
  const infos = yield* readTensorInfos(c, checkedTensorCount, alignment);
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const tensors = placeTensors(c, infos, dataOffset);
  return { path: c.file, version, fileSize: c.fileSize, alignment, dataOffset, metadata, tensors };
}
