import { GGML_TYPES, type GgmlTypeInfo } from '../quant/ggml-types.js';
import type { ByteCursor, Parse } from './byte-cursor.js';
import { readString } from './metadata-parser.js';
import type { GgufTensorInfo } from './types.js';

/** GGML_MAX_DIMS */
export const MAX_TENSOR_DIMS = 4;
/** name length + empty name + n_dims + one dim + type + offset: no tensor info is shorter */
export const MIN_TENSOR_INFO_SIZE = 8 + 4 + 8 + 4 + 8;

/** Type ids ggml once had and dropped; files using them come from old or experimental converters. */
const REMOVED_GGML_TYPES: ReadonlyMap<number, string> = new Map([
  [4, 'Q4_2'], [5, 'Q4_3'],
  [31, 'Q4_0_4_4'], [32, 'Q4_0_4_8'], [33, 'Q4_0_8_8'],
  [36, 'IQ4_NL_4_4'], [37, 'IQ4_NL_4_8'], [38, 'IQ4_NL_8_8'],
]);

/** A tensor info before the data section's position is known, plus where its fields were read. */
export interface ParsedTensorInfo {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: number;
  readonly offset: number;
  readonly nElements: number;
  readonly nBytes: number;
  readonly nameAt: number;
  readonly offsetAt: number;
}

function unknownTypeReason(name: string, typeId: number): string {
  const removed = REMOVED_GGML_TYPES.get(typeId);
  if (removed) return `tensor '${name}' has ggml type ${typeId} (${removed}), which was removed from ggml; re-convert the model with a current llama.cpp`;
  return `tensor '${name}' has unknown ggml type id ${typeId}`;
}

function* readShape(c: ByteCursor, name: string): Parse<{ dims: number[]; nElements: bigint }> {
  yield* c.need(4, `dimension count of tensor '${name}'`);
  const nDimsAt = c.pos;
  const nDims = c.u32();
  if (nDims === 0 || nDims > MAX_TENSOR_DIMS) {
    throw c.error(`tensor '${name}' has ${nDims} dimensions (must be 1 to ${MAX_TENSOR_DIMS})`, nDimsAt);
  }
  yield* c.need(8 * nDims, `dimensions of tensor '${name}'`);
  const dims: number[] = [];
  let nElements = 1n;
  for (let i = 0; i < nDims; i++) {
    const dimAt = c.pos;
    // ggml stores ne as int64: a u64 with the top bit set is a negative dimension
    const dim = c.i64();
    if (dim <= 0n) throw c.error(`tensor '${name}' dimension ${i} is ${dim} (must be at least 1)`, dimAt);
    nElements *= dim;
    if (nElements > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw c.error(`tensor '${name}' element count overflows 2^53 at dimension ${i}`, dimAt);
    }
    dims.push(Number(dim));
  }
  return { dims, nElements };
}

function* readGgmlType(c: ByteCursor, name: string, rowLength: number): Parse<GgmlTypeInfo> {
  yield* c.need(4, `type of tensor '${name}'`);
  const typeAt = c.pos;
  const typeId = c.u32();
  const type = GGML_TYPES.get(typeId);
  if (!type) throw c.error(unknownTypeReason(name, typeId), typeAt);
  if (rowLength % type.blockSize !== 0) {
    throw c.error(`tensor '${name}' row length ${rowLength} is not a multiple of the ${type.name} block size ${type.blockSize}`, typeAt);
  }
  return type;
}

/** name, n_dims, dims, ggml type, offset — each checked as soon as it is read. */
export function* readTensorInfo(c: ByteCursor, index: number, alignment: number): Parse<ParsedTensorInfo> {
  const nameAt = c.pos;
  const name = yield* readString(c, `name of tensor #${index}`);
  const { dims, nElements } = yield* readShape(c, name);
  const type = yield* readGgmlType(c, name, dims[0]);
  yield* c.need(8, `data offset of tensor '${name}'`);
  const offsetAt = c.pos;
  const offset = c.u64();
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw c.error(`tensor '${name}' data offset ${offset} exceeds 2^53`, offsetAt);
  if (offset % BigInt(alignment) !== 0n) {
    throw c.error(`tensor '${name}' data offset ${offset} is not a multiple of the alignment ${alignment}`, offsetAt);
  }
  const nBytes = (nElements / BigInt(type.blockSize)) * BigInt(type.typeSize);
  return {
    name, dims, type: type.id, offset: Number(offset), nElements: Number(nElements), nBytes: Number(nBytes), nameAt, offsetAt,
  };
}

/**
 * Place the tensors in the file once the data section's start is known, rejecting data past EOF
 * and overlapping tensors (which would let one tensor's writes clobber another's in the engine).
 */
export function placeTensors(c: ByteCursor, infos: readonly ParsedTensorInfo[], dataOffset: number): GgufTensorInfo[] {
  const placed = infos.map(({ name, dims, type, offset, nElements, nBytes }) =>
    ({ name, dims, type, offset, fileOffset: dataOffset + offset, nElements, nBytes }));
  infos.forEach((info, i) => {
    const end = placed[i].fileOffset + info.nBytes;
    if (end > c.fileSize) {
      throw c.error(`tensor '${info.name}' data (bytes ${placed[i].fileOffset} to ${end}) extends past the end of the file (size ${c.fileSize})`, info.offsetAt);
    }
  });
  const byOffset = infos.map((_, i) => i).sort((a, b) => infos[a].offset - infos[b].offset);
  for (let k = 1; k < byOffset.length; k++) {
    const previous = infos[byOffset[k - 1]];
    const current = infos[byOffset[k]];
    if (previous.offset + previous.nBytes > current.offset) {
      throw c.error(`tensor '${current.name}' data at offset ${current.offset} overlaps tensor '${previous.name}' (offset ${previous.offset}, ${previous.nBytes} bytes)`, current.offsetAt);
    }
  }
  return placed;
}
