import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GgufError } from '../src/errors.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';
import { inspectGguf, formatInspect } from '../src/gguf/inspect.js';
import {
  getArray, getBoolean, getNumber, getString, getStringArray, parseGguf, readGguf,
} from '../src/gguf/reader.js';
import { GgufValueType, type GgufFile } from '../src/gguf/types.js';
import { writeGguf, type GgufWriteEntry, type GgufWriteTensor } from '../src/gguf/writer.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODELS_DIR = join(ROOT, 'test/fixtures/models');
const STORIES = join(ROOT, 'models/stories260K.gguf');
const KJV_F16 = join(MODELS_DIR, 'kjv-austen-4l-256d.F16.gguf');
const F32 = 0;
const F16 = 1;
const Q8_0 = 8;

// ---------------------------------------------------------------- helpers

let tempDir = '';
let tempCount = 0;
beforeAll(() => { tempDir = mkdtempSync(join(tmpdir(), 'quantscope-gguf-')); });
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

function tempFile(bytes: Uint8Array): string {
  const path = join(tempDir, `case-${tempCount++}.gguf`);
  writeFileSync(path, bytes);
  return path;
}

const storiesBytes = () => new Uint8Array(readFileSync(STORIES));
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Absolute offset of the last occurrence of `text` before `end` (names in the header). */
function lastOffsetOf(bytes: Uint8Array, text: string, end = bytes.byteLength): number {
  const at = asBuffer(bytes).lastIndexOf(text, end);
  if (at < 0) throw new Error(`'${text}' not found`);
  return at;
}

/** Where each field of a tensor info lies, found from the tensor's name. */
function tensorInfoFields(bytes: Uint8Array, name: string, nDims: number, end?: number) {
  const nameAt = lastOffsetOf(bytes, name, end) - 8;
  const nDimsAt = nameAt + 8 + Buffer.byteLength(name);
  const dimsAt = nDimsAt + 4;
  const typeAt = dimsAt + 8 * nDims;
  return { nameAt, nDimsAt, dimsAt, typeAt, offsetAt: typeAt + 4 };
}

/** A copy of `bytes` with one little-endian field overwritten. */
function patched(bytes: Uint8Array, at: number, value: number | bigint, size: 4 | 8 = 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (size === 4) view.setUint32(at, Number(value), true);
  else view.setBigUint64(at, BigInt(value), true);
  return copy;
}

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function asyncErrorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectGgufError(error: unknown, file: string, offset: number, fragment: string): void {
  expect(error).toBeInstanceOf(GgufError);
  const e = error as GgufError;
  expect(e.message).toContain(fragment);
  expect(e.offset).toBe(offset);
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file}: at byte ${offset}: `)).toBe(true);
}

/** Both entry points (in memory and chunked from a temp file) must report the same GgufError. */
async function expectMalformed(bytes: Uint8Array, offset: number, fragment: string): Promise<GgufError> {
  const path = tempFile(bytes);
  const fromMemory = errorOf(() => parseGguf(bytes, path));
  expectGgufError(fromMemory, path, offset, fragment);
  const fromFile = await asyncErrorOf(() => readGguf(path, { chunkSize: 64 }));
  expectGgufError(fromFile, path, offset, fragment);
  expect((fromFile as GgufError).message).toBe((fromMemory as GgufError).message);
  return fromMemory as GgufError;
}

const ARCH: GgufWriteEntry = { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' };

function f32Tensor(name: string, dims: number[], offset?: number): GgufWriteTensor {
  const count = dims.reduce((a, b) => a * b, 1);
  return { name, dims, type: F32, data: new Uint8Array(4 * count), offset };
}

/** A small valid model; tests break one thing in it. */
function model(tensors: GgufWriteTensor[] = [f32Tensor('tensor.alpha', [8])], metadata: GgufWriteEntry[] = [ARCH]) {
  return writeGguf({ metadata, tensors });
}

/** Properties every successfully parsed file must have. */
function expectConsistent(file: GgufFile): void {
  expect(file.dataOffset % file.alignment).toBe(0);
  for (const t of file.tensors) {
    const type = GGML_TYPES.get(t.type)!;
    expect(t.nElements).toBe(t.dims.reduce((a, b) => a * b, 1));
    expect(t.nBytes).toBe((t.nElements / type.blockSize) * type.typeSize);
    expect(t.fileOffset).toBe(file.dataOffset + t.offset);
    expect(t.offset % file.alignment).toBe(0);
    expect(t.fileOffset + t.nBytes).toBeLessThanOrEqual(file.fileSize);
  }
}

// ---------------------------------------------------------------- real files

describe('readGguf on real files', () => {
  it('parses every model fixture consistently, identically in memory and in small chunks', async () => {
    const paths = [
      ...readdirSync(MODELS_DIR).filter((f) => f.endsWith('.gguf')).map((f) => join(MODELS_DIR, f)),
      STORIES,
    ];
    expect(paths.length).toBeGreaterThanOrEqual(18);
    for (const path of paths) {
      const file = await readGguf(path);
      expectConsistent(file);
      expect(file.version).toBe(3);
      expect(getString(file, 'general.architecture')).toBe('llama');
      expect(parseGguf(readFileSync(path), path)).toStrictEqual(file);
      expect(await readGguf(path, { chunkSize: 4096 })).toStrictEqual(file);
    }
  });

  it('stories260K: 48 F32 tensors, llama hyper-parameters, 512-token vocab', async () => {
    const file = await readGguf(STORIES);
    expect(file.fileSize).toBe(1185376);
    expect(file.alignment).toBe(32);
    expect(file.dataOffset).toBe(14176);
    expect(file.tensors).toHaveLength(48);
    expect(file.tensors.every((t) => t.type === F32)).toBe(true);
    expect(file.tensors[0]).toStrictEqual({
      name: 'token_embd.weight', dims: [64, 512], type: F32, offset: 0, fileOffset: 14176, nElements: 32768, nBytes: 131072,
    });
    expect(getNumber(file, 'llama.embedding_length')).toBe(64);
    expect(getNumber(file, 'llama.block_count')).toBe(5);
    expect(getNumber(file, 'llama.attention.head_count_kv')).toBe(4);
    expect(getNumber(file, 'llama.attention.layer_norm_rms_epsilon')).toBe(Math.fround(1e-5));
    const tokens = getStringArray(file, 'tokenizer.ggml.tokens')!;
    expect(tokens).toHaveLength(512);
    expect(tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(getArray(file, 'tokenizer.ggml.scores')).toBeInstanceOf(Float32Array);
    expect(getArray(file, 'tokenizer.ggml.token_type', GgufValueType.INT32)).toBeInstanceOf(Int32Array);
    expect(file.metadata.get('tokenizer.ggml.tokens')).toMatchObject({ type: GgufValueType.ARRAY, arrayType: GgufValueType.STRING, offset: 24 });
  });

  it('kjv-austen F16 and Q8_0: data offset 96000, 39 tensors', async () => {
    const f16 = await readGguf(KJV_F16);
    expect(f16.dataOffset).toBe(96000);
    expect(f16.tensors).toHaveLength(39);
    const embedding = f16.tensors.find((t) => t.name === 'token_embd.weight')!;
    expect(embedding).toMatchObject({ dims: [256, 4096], type: F16, nBytes: 2097152, fileOffset: 96000 });
    expect(getNumber(f16, 'general.file_type')).toBe(1);
    expect(getBoolean(f16, 'tokenizer.ggml.add_bos_token')).toBe(true);

    const q8 = await readGguf(join(MODELS_DIR, 'kjv-austen-4l-256d.Q8_0.gguf'));
    expect(q8.dataOffset).toBe(96000);
    expect(q8.tensors.filter((t) => t.type === Q8_0)).toHaveLength(30);
    expect(q8.tensors.find((t) => t.name === 'token_embd.weight')).toMatchObject({ type: Q8_0, nBytes: 1114112 });
  });

  it('TinyStories-656K in F16 and Q8_0', async () => {
    const q8 = await readGguf(join(MODELS_DIR, 'tinystories-656k-q8_0.gguf'));
    expect(q8.tensors.filter((t) => t.type === Q8_0)).toHaveLength(15);
    expect(q8.tensors.filter((t) => t.type === F32)).toHaveLength(5);
    expect(q8.dataOffset).toBe(50336);
    expect(getString(q8, 'general.name')).toBe('TinyStories-656K');
    expect(getStringArray(q8, 'tokenizer.ggml.tokens')![1]).toBe('<|start_story|>');

    const f16 = await readGguf(join(MODELS_DIR, 'TinyStories-656K.f16.gguf'));
    expect(f16.dataOffset).toBe(50784);
    expect(f16.tensors.filter((t) => t.type === F16)).toHaveLength(15);
    expect(getNumber(f16, 'llama.rope.freq_base')).toBe(10000);
  });

  it('llama-2-tiny-random and the vocab-only SPM file: 32000-token vocabularies', async () => {
    const tiny = await readGguf(join(MODELS_DIR, 'llama-2-tiny-random.gguf'));
    expect(tiny.tensors).toHaveLength(12);
    expect(tiny.dataOffset).toBe(724416);
    expect(getNumber(tiny, 'llama.embedding_length')).toBe(8);
    expect(getStringArray(tiny, 'tokenizer.ggml.tokens')).toHaveLength(32000);

    // a vocab-only file (like llama.cpp's models/ggml-vocab-*.gguf): tokenizer metadata, no tensors
    const metadata = [...tiny.metadata.values()].filter((e) => e.key.startsWith('tokenizer.'))
      .map((e) => ({ key: e.key, type: e.type, value: e.value, arrayType: e.arrayType }));
    const vocab = parseGguf(writeGguf({ metadata }), 'vocab-only.gguf');
    expect(vocab.tensors).toHaveLength(0);
    expect(getStringArray(vocab, 'tokenizer.ggml.tokens')).toHaveLength(32000);
    expect(getArray(vocab, 'tokenizer.ggml.scores')).toHaveLength(32000);
  });

  it('refills across chunk boundaries, even with a 7-byte chunk', async () => {
    const expected = parseGguf(storiesBytes(), STORIES);
    expect(await readGguf(STORIES, { chunkSize: 7 })).toStrictEqual(expected);
  });

  it('reads a header larger than the default 1 MiB chunk', async () => {
    const tokens = Array.from({ length: 40000 }, (_, i) => `token-${i}`);
    const bytes = writeGguf({
      metadata: [
        ARCH,
        { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, arrayType: GgufValueType.STRING, value: tokens },
        { key: 'big.string', type: GgufValueType.STRING, value: 'x'.repeat(700_000) },
      ],
      tensors: [f32Tensor('tensor.alpha', [8])],
    });
    const path = tempFile(bytes);
    const file = await readGguf(path);
    expect(file.dataOffset).toBeGreaterThan(1 << 20);
    expect(getStringArray(file, 'tokenizer.ggml.tokens')![39999]).toBe('token-39999');
    expect(file).toStrictEqual(parseGguf(bytes, path));
  });

  it('reads only the header of a 4+ GiB (sparse) file', async () => {
    const header = writeGguf({
      metadata: [ARCH],
      tensors: [
        { name: 'tensor.huge', dims: [2 ** 30], type: F32, data: new Uint8Array(0), offset: 0 },
        { name: 'tensor.after', dims: [8], type: F32, data: new Uint8Array(0), offset: 0 },
      ],
    });
    const afterOffset = 2 ** 32;
    const bytes = patched(header, tensorInfoFields(header, 'tensor.after', 1).offsetAt, afterOffset, 8);
    const path = tempFile(bytes);
    const dataOffset = bytes.byteLength; // the writer ends the header at the data section
    await truncate(path, dataOffset + afterOffset + 32);
    const started = performance.now();
    const file = await readGguf(path);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(file.fileSize).toBe(dataOffset + afterOffset + 32);
    expect(file.tensors[0]).toMatchObject({ nBytes: 2 ** 32, fileOffset: dataOffset });
    expect(file.tensors[1]).toMatchObject({ offset: afterOffset, fileOffset: dataOffset + afterOffset });
  });

  it('reports a missing or unreadable file as a GgufError', async () => {
    const path = join(tempDir, 'does-not-exist.gguf');
    expectGgufError(await asyncErrorOf(() => readGguf(path)), path, 0, 'cannot open file');
    expectGgufError(await asyncErrorOf(() => readGguf(tempDir)), tempDir, 0, 'not a regular file');
  });
});

// ---------------------------------------------------------------- writer

describe('writeGguf round trip', () => {
  const entries: GgufWriteEntry[] = [
    { key: 'v.u8', type: GgufValueType.UINT8, value: 250 },
    { key: 'v.i8', type: GgufValueType.INT8, value: -120 },
    { key: 'v.u16', type: GgufValueType.UINT16, value: 65000 },
    { key: 'v.i16', type: GgufValueType.INT16, value: -32000 },
    { key: 'v.u32', type: GgufValueType.UINT32, value: 4_000_000_000 },
    { key: 'v.i32', type: GgufValueType.INT32, value: -2_000_000_000 },
    { key: 'v.f32', type: GgufValueType.FLOAT32, value: 1.5 },
    { key: 'v.bool', type: GgufValueType.BOOL, value: true },
    { key: 'v.string', type: GgufValueType.STRING, value: 'héllo ✓ 世界' },
    { key: 'v.u64', type: GgufValueType.UINT64, value: 2n ** 64n - 1n },
    { key: 'v.i64', type: GgufValueType.INT64, value: -(2n ** 63n) },
    { key: 'v.f64', type: GgufValueType.FLOAT64, value: Math.PI },
    { key: 'a.u8', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT8, value: new Uint8Array([0, 255]) },
    { key: 'a.i8', type: GgufValueType.ARRAY, arrayType: GgufValueType.INT8, value: new Int8Array([-128, 127]) },
    { key: 'a.u16', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT16, value: new Uint16Array([1, 65535]) },
    { key: 'a.i16', type: GgufValueType.ARRAY, arrayType: GgufValueType.INT16, value: new Int16Array([-1, 2]) },
    { key: 'a.u32', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT32, value: new Uint32Array([7, 4294967295]) },
    { key: 'a.i32', type: GgufValueType.ARRAY, arrayType: GgufValueType.INT32, value: new Int32Array([-7, 3]) },
    { key: 'a.f32', type: GgufValueType.ARRAY, arrayType: GgufValueType.FLOAT32, value: new Float32Array([0.25, -1e30]) },
    { key: 'a.f64', type: GgufValueType.ARRAY, arrayType: GgufValueType.FLOAT64, value: new Float64Array([Math.E]) },
    { key: 'a.u64', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT64, value: new BigUint64Array([0n, 2n ** 63n]) },
    { key: 'a.i64', type: GgufValueType.ARRAY, arrayType: GgufValueType.INT64, value: new BigInt64Array([-1n]) },
    { key: 'a.bool', type: GgufValueType.ARRAY, arrayType: GgufValueType.BOOL, value: [true, false, true] },
    { key: 'a.string', type: GgufValueType.ARRAY, arrayType: GgufValueType.STRING, value: ['a', '', 'ünï'] },
    { key: 'a.empty', type: GgufValueType.ARRAY, arrayType: GgufValueType.FLOAT32, value: new Float32Array(0) },
    {
      key: 'a.nested', type: GgufValueType.ARRAY, arrayType: GgufValueType.ARRAY,
      value: [new Int32Array([1, 2]), ['x', 'y'], [[true], [false, false]], new BigUint64Array([5n])],
    },
  ];

  it('preserves every value type, including nested, 64-bit and bool arrays', () => {
    const file = parseGguf(writeGguf({ metadata: entries }));
    expect([...file.metadata.keys()]).toEqual(entries.map((e) => e.key));
    for (const entry of entries) {
      const { key, type, arrayType, value } = file.metadata.get(entry.key)!;
      expect({ key, type, arrayType, value }).toStrictEqual({ ...entry, arrayType: entry.arrayType });
    }
    expect(file.version).toBe(3);
    expect(file.tensors).toHaveLength(0);
  });

  it('accepts plain number arrays for numeric element types', () => {
    const file = parseGguf(writeGguf({
      metadata: [{ key: 'a', type: GgufValueType.ARRAY, arrayType: GgufValueType.INT16, value: [1, -2, 3] }],
    }));
    expect(getArray(file, 'a')).toStrictEqual(new Int16Array([1, -2, 3]));
  });

  it('lays out tensors aligned, with their data at fileOffset', () => {
    const q8 = new Uint8Array(2 * 34).map((_, i) => i);
    const f32 = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const bytes = writeGguf({
      metadata: [ARCH],
      tensors: [
        { name: 'tensor.f32', dims: [3], type: F32, data: f32 },
        { name: 'tensor.q8', dims: [32, 2], type: Q8_0, data: q8 },
      ],
      alignment: 64,
    });
    const file = parseGguf(bytes);
    expect(file.alignment).toBe(64);
    expect(getNumber(file, 'general.alignment')).toBe(64);
    expect(file.dataOffset % 64).toBe(0);
    expect(file.tensors.map((t) => t.offset)).toEqual([0, 64]);
    for (const [tensor, data] of [[file.tensors[0], f32], [file.tensors[1], q8]] as const) {
      expect(tensor.nBytes).toBe(data.byteLength);
      expect(bytes.subarray(tensor.fileOffset, tensor.fileOffset + tensor.nBytes)).toStrictEqual(data);
    }
  });

  it('writes version 2 files, which parse like version 3', () => {
    expect(parseGguf(writeGguf({ metadata: [ARCH], version: 2 })).version).toBe(2);
    const stories = patched(storiesBytes(), 4, 2);
    expect(parseGguf(stories).tensors).toHaveLength(48);
  });
});

// ---------------------------------------------------------------- accessors

describe('metadata accessors', () => {
  const file = parseGguf(writeGguf({
    metadata: [
      ARCH,
      { key: 'n', type: GgufValueType.UINT64, value: 12n },
      { key: 'too.big', type: GgufValueType.UINT64, value: 2n ** 60n },
      { key: 'flag', type: GgufValueType.BOOL, value: false },
      { key: 'list', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT32, value: new Uint32Array([1]) },
    ],
  }), 'acc.gguf');

  it('return values, and undefined when the key is missing', () => {
    expect(getString(file, 'general.architecture')).toBe('llama');
    expect(getNumber(file, 'n')).toBe(12);
    expect(getBoolean(file, 'flag')).toBe(false);
    expect(getArray(file, 'list', GgufValueType.UINT32)).toStrictEqual(new Uint32Array([1]));
    for (const get of [getString, getNumber, getBoolean, getArray, getStringArray]) expect(get(file, 'missing')).toBeUndefined();
  });

  it('throw a GgufError at the entry when the type is wrong', () => {
    const at = (key: string) => file.metadata.get(key)!.offset!;
    expectGgufError(errorOf(() => getString(file, 'n')), 'acc.gguf', at('n'), "metadata 'n' is u64, expected string");
    expectGgufError(errorOf(() => getNumber(file, 'general.architecture')), 'acc.gguf', at('general.architecture'), 'expected a number');
    expectGgufError(errorOf(() => getNumber(file, 'too.big')), 'acc.gguf', at('too.big'), 'below 2^53');
    expectGgufError(errorOf(() => getArray(file, 'flag')), 'acc.gguf', at('flag'), 'is bool, expected an array');
    expectGgufError(errorOf(() => getStringArray(file, 'list')), 'acc.gguf', at('list'), 'is array of u32, expected array of string');
  });
});

// ---------------------------------------------------------------- malformed files

describe('malformed files: magic and version', () => {
  it('wrong magic', async () => {
    const bytes = storiesBytes();
    bytes.set(new TextEncoder().encode('GGML'), 0);
    await expectMalformed(bytes, 0, 'not a GGUF file: magic is 47 47 4d 4c');
  });

  it('GGUF v1 is unsupported', async () => {
    await expectMalformed(writeGguf({ metadata: [ARCH], version: 1 }), 4, 'unsupported version 1');
  });

  it('unknown future version', async () => {
    await expectMalformed(patched(storiesBytes(), 4, 4), 4, 'unsupported version 4; supported versions: 2, 3');
  });

  it('big-endian file (version bytes swapped)', async () => {
    const bytes = storiesBytes();
    bytes.set([0, 0, 0, 3], 4);
    await expectMalformed(bytes, 4, 'big-endian GGUF file (version 3');
  });
});

describe('malformed files: truncation', () => {
  const stories = storiesBytes();
  const storiesFile = parseGguf(stories);
  const keys = [...storiesFile.metadata.keys()];
  const entryAt = (key: string) => storiesFile.metadata.get(key)!.offset!;
  const archAt = entryAt('general.architecture');
  const archIndex = keys.indexOf('general.architecture');
  // entries start after the key's length and text, the value type, element type and count
  const elementsAt = (key: string) => entryAt(key) + 8 + key.length + 4 + 4 + 8;
  const scoresCountAt = elementsAt('tokenizer.ggml.scores') - 8;
  const tokens = getStringArray(storiesFile, 'tokenizer.ggml.tokens')!;
  const tokenAt = (k: number) => elementsAt('tokenizer.ggml.tokens') + tokens.slice(0, k).reduce((sum, t) => sum + 8 + Buffer.byteLength(t), 0);
  const firstInfoAt = tensorInfoFields(stories, 'token_embd.weight', 2, storiesFile.dataOffset).nameAt;
  const lastInfo = tensorInfoFields(stories, 'blk.4.ffn_norm.weight', 1, storiesFile.dataOffset);

  // Cuts early in the metadata fail the entry-count check first (19 entries need ≥ 247 bytes),
  // so the cuts inside entries are taken past that point.
  it.each([
    ['inside the magic', 2, 0, 'the GGUF magic needs 4 bytes but only 2 remain'],
    ['inside the counts', 20, 8, 'the tensor and metadata counts needs 16 bytes'],
    ['at the start of the metadata', 100, 16, 'metadata entry count is 19, but that many need at least 247 bytes and only 76 remain'],
    ['inside a key length', archAt + 4, archAt, `file truncated: length of key of metadata entry #${archIndex} needs 8 bytes`],
    ['inside a key', archAt + 8 + 5, archAt, `key of metadata entry #${archIndex} claims 20 bytes but only 5 remain`],
    ['inside an array count', scoresCountAt + 3, scoresCountAt, "element count of array 'tokenizer.ggml.scores' needs 8 bytes"],
    ['inside a string element', tokenAt(300) + 8 + 1, tokenAt(300), `string value of 'tokenizer.ggml.tokens[300]' claims ${Buffer.byteLength(tokens[300])} bytes but only 1 remain`],
    ['inside a f32 array', scoresCountAt + 8 + 100, scoresCountAt, "array 'tokenizer.ggml.scores' claims 512 f32 elements (at least 2048 bytes) but only 100"],
    ['right after the metadata', firstInfoAt + 10, 8, 'tensor count is 48, but that many need at least 1536 bytes'],
    ['inside a tensor info', lastInfo.nDimsAt + 2, lastInfo.nDimsAt, "dimension count of tensor 'blk.4.ffn_norm.weight' needs 4 bytes"],
    ['inside the tensor data', stories.byteLength - 1, lastInfo.offsetAt, "tensor 'blk.4.ffn_norm.weight' data (bytes 1185120 to 1185376) extends past the end of the file (size 1185375)"],
  ])('%s', async (_, length, offset, fragment) => {
    await expectMalformed(stories.subarray(0, length), offset, fragment);
  });

  it('truncating stories260K anywhere always yields a GgufError pointing inside the kept bytes', () => {
    const cuts = [
      ...Array.from({ length: 1200 }, (_, i) => i),
      ...Array.from({ length: 1000 }, (_, i) => 1200 + i * 13).filter((n) => n < storiesFile.dataOffset + 64),
      storiesFile.dataOffset, stories.byteLength - 1,
    ];
    for (const cut of cuts) {
      const error = errorOf(() => parseGguf(stories.subarray(0, cut), 'cut.gguf'));
      if (!(error instanceof GgufError)) throw new Error(`cut at ${cut}: expected a GgufError, got ${String(error)}`);
      expect(error.offset).toBeLessThanOrEqual(cut);
    }
  });
});

describe('malformed files: hostile lengths and counts', () => {
  // key 'k' at 24: length (8) + 'k' (1), value type at 33, value at 37
  const withArray = (arrayType: GgufValueType, value: GgufWriteEntry['value']) =>
    writeGguf({ metadata: [{ key: 'k', type: GgufValueType.ARRAY, arrayType, value }] });
  const ARRAY_COUNT_AT = 41;

  it('fails fast, without allocating, on lengths of 2^40 and counts of 2^60', async () => {
    const started = performance.now();
    const bytes = withArray(GgufValueType.UINT32, new Uint32Array([1, 2, 3]));
    await expectMalformed(patched(bytes, 24, 2n ** 40n, 8), 24, 'claims 1099511627776 bytes but only');
    await expectMalformed(patched(bytes, ARRAY_COUNT_AT, 2n ** 60n, 8), ARRAY_COUNT_AT, "array 'k' claims 1152921504606846976 u32 elements");
    const strings = withArray(GgufValueType.STRING, ['a']);
    await expectMalformed(patched(strings, ARRAY_COUNT_AT, 2n ** 60n, 8), ARRAY_COUNT_AT, 'claims 1152921504606846976 string elements');
    await expectMalformed(patched(bytes, 16, 2n ** 60n, 8), 16, 'metadata entry count is 1152921504606846976');
    await expectMalformed(patched(bytes, 8, 2n ** 60n, 8), 8, 'tensor count is 1152921504606846976');
    await expectMalformed(patched(bytes, ARRAY_COUNT_AT, 2n ** 64n - 1n, 8), ARRAY_COUNT_AT, 'claims 18446744073709551615 u32');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('an array of N u32 needs 4N bytes left', async () => {
    const bytes = withArray(GgufValueType.UINT32, new Uint32Array([7, 8, 9])); // 12 bytes of elements, then EOF
    expect(parseGguf(patched(bytes, ARRAY_COUNT_AT, 3n, 8)).metadata.get('k')!.value).toStrictEqual(new Uint32Array([7, 8, 9]));
    await expectMalformed(patched(bytes, ARRAY_COUNT_AT, 4n, 8), ARRAY_COUNT_AT, 'claims 4 u32 elements (at least 16 bytes) but only 12 bytes remain');
  });

  it('a string array needs at least 8 bytes per element', async () => {
    const bytes = withArray(GgufValueType.STRING, ['ab', 'cd']); // 20 bytes of elements
    await expectMalformed(patched(bytes, ARRAY_COUNT_AT, 3n, 8), ARRAY_COUNT_AT, 'claims 3 string elements (at least 24 bytes) but only 20');
  });

  it('arrays nested deeper than 8 levels', async () => {
    const nested = (levels: number): GgufWriteEntry['value'] => (levels === 1 ? ['x'] : [nested(levels - 1)] as never);
    const deep = (levels: number) => writeGguf({
      metadata: [{ key: 'deep', type: GgufValueType.ARRAY, arrayType: levels === 1 ? GgufValueType.STRING : GgufValueType.ARRAY, value: nested(levels) }],
    });
    expect(parseGguf(deep(8)).metadata.get('deep')!.value).toStrictEqual(nested(8));
    // 'deep' at 24 → value type at 36 → level-1 array header at 40; each level adds a 12-byte header
    await expectMalformed(deep(9), 40 + 8 * 12, 'nested deeper than 8 levels');
  });
});

describe('malformed files: metadata', () => {
  it('unknown metadata value type', async () => {
    const bytes = writeGguf({ metadata: [{ key: 'k', type: GgufValueType.UINT32, value: 1 }] });
    await expectMalformed(patched(bytes, 33, 13), 33, "unknown metadata value type 13 in value type of 'k'");
  });

  it('unknown array element type', async () => {
    const bytes = writeGguf({ metadata: [{ key: 'k', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT8, value: new Uint8Array(4) }] });
    await expectMalformed(patched(bytes, 37, 99), 37, "unknown metadata value type 99 in element type of array 'k'");
  });

  it('duplicate metadata key', async () => {
    const name = (value: string): GgufWriteEntry => ({ key: 'general.name', type: GgufValueType.STRING, value });
    const bytes = model(undefined, [ARCH, name('one'), name('two')]);
    const secondAt = lastOffsetOf(bytes, 'general.name') - 8;
    const firstAt = asBuffer(bytes).indexOf('general.name') - 8;
    await expectMalformed(bytes, secondAt, `duplicate metadata key 'general.name' (first defined at byte ${firstAt})`);
  });

  it.each([
    ['zero', GgufValueType.UINT32, 0, 'general.alignment is 0, must be a nonzero power of two'],
    ['not a power of two', GgufValueType.UINT32, 48, 'general.alignment is 48, must be a nonzero power of two'],
    ['not a u32', GgufValueType.UINT64, 32n, 'general.alignment must be a u32, found u64'],
  ])('general.alignment %s', async (_, type, value, fragment) => {
    const bytes = model(undefined, [ARCH, { key: 'general.alignment', type, value }]);
    await expectMalformed(bytes, lastOffsetOf(bytes, 'general.alignment') - 8, fragment);
  });
});

describe('malformed files: tensor infos', () => {
  const fieldsOf = (bytes: Uint8Array, nDims: number, name = 'tensor.alpha') => tensorInfoFields(bytes, name, nDims);

  it.each([[0, []], [5, [1, 1, 1, 1, 8]]])('%i dimensions', async (nDims, dims) => {
    const bytes = model([f32Tensor('tensor.alpha', dims)]);
    await expectMalformed(bytes, fieldsOf(bytes, nDims).nDimsAt, `tensor 'tensor.alpha' has ${nDims} dimensions (must be 1 to 4)`);
  });

  it.each([[0, '0'], [-1, '-1']])('a dimension of %i', async (dim, shown) => {
    const bytes = model([{ name: 'tensor.alpha', dims: [8, dim], type: F32, data: new Uint8Array(0) }]);
    await expectMalformed(bytes, fieldsOf(bytes, 2).dimsAt + 8, `tensor 'tensor.alpha' dimension 1 is ${shown} (must be at least 1)`);
  });

  it('element count beyond 2^53', async () => {
    const bytes = model([{ name: 'tensor.alpha', dims: [2 ** 27, 2 ** 27], type: F32, data: new Uint8Array(0) }]);
    await expectMalformed(bytes, fieldsOf(bytes, 2).dimsAt + 8, "tensor 'tensor.alpha' element count overflows 2^53 at dimension 1");
  });

  it('unknown ggml type id', async () => {
    const bytes = model([{ ...f32Tensor('tensor.alpha', [8]), type: 99 }]);
    await expectMalformed(bytes, fieldsOf(bytes, 1).typeAt, "tensor 'tensor.alpha' has unknown ggml type id 99");
  });

  it.each([
    [4, 'Q4_2'], [5, 'Q4_3'], [31, 'Q4_0_4_4'], [32, 'Q4_0_4_8'], [33, 'Q4_0_8_8'],
    [36, 'IQ4_NL_4_4'], [37, 'IQ4_NL_4_8'], [38, 'IQ4_NL_8_8'],
  ])('ggml type %i (%s), removed from ggml', async (type, name) => {
    const bytes = model([{ ...f32Tensor('tensor.alpha', [32]), type }]);
    await expectMalformed(bytes, fieldsOf(bytes, 1).typeAt, `has ggml type ${type} (${name}), which was removed from ggml`);
  });

  it('row length not a multiple of the block size', async () => {
    const bytes = model([{ name: 'tensor.alpha', dims: [48, 2], type: Q8_0, data: new Uint8Array(102) }]);
    await expectMalformed(bytes, fieldsOf(bytes, 2).typeAt, "tensor 'tensor.alpha' row length 48 is not a multiple of the Q8_0 block size 32");
  });

  it('data offset not a multiple of the alignment', async () => {
    const bytes = model([f32Tensor('tensor.alpha', [8], 16)]);
    await expectMalformed(bytes, fieldsOf(bytes, 1).offsetAt, "tensor 'tensor.alpha' data offset 16 is not a multiple of the alignment 32");
  });

  it('data offset beyond 2^53', async () => {
    const bytes = model();
    const { offsetAt } = fieldsOf(bytes, 1);
    await expectMalformed(patched(bytes, offsetAt, 2n ** 60n, 8), offsetAt, 'data offset 1152921504606846976 exceeds 2^53');
  });

  it('tensor data past the end of the file', async () => {
    const bytes = model([f32Tensor('tensor.alpha', [8])]); // 32 bytes of data, no padding after
    const end = bytes.byteLength;
    await expectMalformed(bytes.subarray(0, end - 1), fieldsOf(bytes, 1).offsetAt, `data (bytes ${end - 32} to ${end}) extends past the end of the file (size ${end - 1})`);
  });

  it('overlapping tensors', async () => {
    const bytes = model([f32Tensor('tensor.alpha', [16], 0), f32Tensor('tensor.beta', [8], 32)]);
    await expectMalformed(bytes, fieldsOf(bytes, 1, 'tensor.beta').offsetAt, "tensor 'tensor.beta' data at offset 32 overlaps tensor 'tensor.alpha' (offset 0, 64 bytes)");
  });

  it('duplicate tensor names', async () => {
    const bytes = model([f32Tensor('tensor.alpha', [8]), f32Tensor('tensor.alpha', [8])]);
    const firstAt = asBuffer(bytes).indexOf('tensor.alpha') - 8;
    await expectMalformed(bytes, fieldsOf(bytes, 1).nameAt, `duplicate tensor name 'tensor.alpha' (first defined at byte ${firstAt})`);
  });
});

// ---------------------------------------------------------------- inspect

describe('inspectGguf / formatInspect', () => {
  it('reports kjv-austen F16', async () => {
    const report = inspectGguf(await readGguf(KJV_F16));
    expect(report).toMatchObject({
      file: KJV_F16, fileSize: 10590976, version: 3, alignment: 32, dataOffset: 96000,
      architecture: 'llama', name: 'kjv-austen-4l-256d', fileType: { id: 1, name: 'MOSTLY_F16' },
      totalParameters: 5245184, totalTensorBytes: 10494976,
    });
    expect(report.hyperParameters).toStrictEqual({
      context_length: 256, embedding_length: 256, block_count: 4, feed_forward_length: 768,
      'attention.head_count': 8, 'attention.head_count_kv': 4, 'rope.dimension_count': 32, 'rope.freq_base': 10000,
      'attention.layer_norm_rms_epsilon': 1e-5, vocab_size: 4096,
    });
    expect(report.tokenizer).toStrictEqual({
      model: 'llama', pre: 'default', vocabSize: 4096, bosId: 1, eosId: 2, unkId: 0, padId: null,
      addBosToken: true, addEosToken: false, hasScores: true, hasTokenTypes: true, hasMerges: false,
      byteTokens: 256, controlTokens: 2,
    });
    expect(report.otherMetadata).toStrictEqual([
      { key: 'general.type', type: 'string', preview: '"model"' },
      { key: 'general.size_label', type: 'string', preview: '"5.2M"' },
      { key: 'general.quantization_version', type: 'u32', preview: '2' },
    ]);
    expect(report.tensors).toHaveLength(39);
    expect(report.tensors[0]).toStrictEqual({
      name: 'token_embd.weight', type: 'F16', dims: [256, 4096], nElements: 1048576, nBytes: 2097152, offset: 0, fileOffset: 96000,
    });
    expect(report.tensorTypes).toStrictEqual([{ type: 'F16', count: 30, bytes: 10485760 }, { type: 'F32', count: 9, bytes: 9216 }]);
    expect(JSON.parse(JSON.stringify(report))).toStrictEqual(report);

    const text = formatInspect(report);
    for (const fragment of ['MOSTLY_F16 (1)', 'kjv-austen-4l-256d', 'tensors (39)', '[256, 4096]', 'data offset   96,000', 'parameters    5,245,184']) {
      expect(text).toContain(fragment);
    }
    const lines = text.split('\n');
    const header = lines.indexOf('tensors (39)') + 1;
    const rows = lines.slice(header + 1, header + 40);
    expect(rows.every((row) => row.includes('.weight'))).toBe(true);
    expect(new Set(rows.map((row) => row.search(/ F(16|32) /))).size).toBe(1); // the type column is aligned
  });

  it('reports stories260K (no file type, no pre-tokenizer)', async () => {
    const report = inspectGguf(await readGguf(STORIES));
    expect(report).toMatchObject({
      dataOffset: 14176, architecture: 'llama', name: 'llama', fileType: null,
      totalParameters: 292800, totalTensorBytes: 1171200,
      tensorTypes: [{ type: 'F32', count: 48, bytes: 1171200 }],
    });
    expect(report.hyperParameters).toMatchObject({ embedding_length: 64, block_count: 5, 'rope.freq_base': null, vocab_size: null });
    expect(report.tokenizer).toMatchObject({ pre: null, vocabSize: 512, padId: 4294967295, addBosToken: null, byteTokens: 256, controlTokens: 2 });
    expect(report.otherMetadata).toStrictEqual([{ key: 'tokenizer.ggml.seperator_token_id', type: 'u32', preview: '4294967295' }]);
    expect(JSON.parse(JSON.stringify(report))).toStrictEqual(report);
    expect(formatInspect(report)).toContain('file type     -');
  });

  it('previews values briefly and stays JSON-serializable with bigint and typed-array metadata', () => {
    const report = inspectGguf(parseGguf(writeGguf({
      metadata: [
        ARCH,
        { key: 'llama.feed_forward_length', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT32, value: new Uint32Array([64, 128]) },
        { key: 'x.long', type: GgufValueType.ARRAY, arrayType: GgufValueType.UINT32, value: new Uint32Array(100) },
        { key: 'x.big', type: GgufValueType.UINT64, value: 2n ** 60n },
        { key: 'x.text', type: GgufValueType.STRING, value: 'y'.repeat(500) },
        { key: 'x.nested', type: GgufValueType.ARRAY, arrayType: GgufValueType.ARRAY, value: [['a'], ['b']] },
        { key: 'x.f32', type: GgufValueType.FLOAT32, value: 0.1 },
      ],
    })));
    expect(report.hyperParameters.feed_forward_length).toBe('[64, 128]');
    const preview = Object.fromEntries(report.otherMetadata.map((m) => [m.key, m.preview]));
    expect(preview['x.long']).toBe('[100 × u32]');
    expect(preview['x.big']).toBe('1152921504606846976');
    expect(preview['x.text']).toMatch(/^"y+… \(500 chars\)$/);
    expect(preview['x.text'].length).toBeLessThan(80);
    expect(preview['x.nested']).toBe('[2 × array]');
    expect(preview['x.f32']).toBe('0.1');
    expect(report.tokenizer).toBeNull();
    expect(() => JSON.stringify(report)).not.toThrow();
    expect(formatInspect(report)).toContain('(no tokenizer metadata)');
  });
});
