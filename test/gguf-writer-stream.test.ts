// The streaming GGUF writer (writeGgufFile) must give exactly the bytes of the in-memory writer
// (writeGguf) for the same model, however the data arrives in chunks.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GgufValueType } from '../src/gguf/types.js';
import { readGguf } from '../src/gguf/reader.js';
import {
  ggufLayout, writeGguf, writeGgufFile, type GgufStreamTensor, type GgufWriteEntry, type GgufWriteTensor,
} from '../src/gguf/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-gguf-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const metadata: GgufWriteEntry[] = [
  { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
  { key: 'llama.block_count', type: GgufValueType.UINT32, value: 1 },
  { key: 'llama.rope.freq_base', type: GgufValueType.FLOAT32, value: 10000 },
  { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, arrayType: GgufValueType.STRING, value: ['<unk>', '<s>', 'é'] },
  { key: 'tokenizer.ggml.scores', type: GgufValueType.ARRAY, arrayType: GgufValueType.FLOAT32, value: new Float32Array([0, -1, -2.5]) },
];

/** Tensors whose sizes are not multiples of the alignment, so every padding rule is exercised. */
function smallModel(): GgufWriteTensor[] {
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
  return [
    { name: 'token_embd.weight', dims: [8, 3], type: 1, data: bytes(48, 1) },
    { name: 'blk.0.attn_norm.weight', dims: [8], type: 0, data: bytes(32, 2) },
    { name: 'blk.0.attn_q.weight', dims: [32, 1], type: 2, data: bytes(18, 3) },   // one Q4_0 block: 18 bytes
    { name: 'blk.0.ffn_down.weight', dims: [256, 1], type: 14, data: bytes(210, 4) }, // one Q6_K block
    { name: 'output.weight', dims: [5], type: 0, data: bytes(20, 5) },
  ];
}

const streamTensors = (ts: GgufWriteTensor[]): GgufStreamTensor[] =>
  ts.map(({ name, dims, type, data }) => ({ name, dims, type, nBytes: data.byteLength }));

/** A source yielding each tensor's bytes in uneven chunks (including empty ones) from one reused buffer. */
function* chunked(data: Uint8Array, chunk: number): Generator<Uint8Array> {
  const buf = new Uint8Array(chunk);
  yield buf.subarray(0, 0);
  for (let at = 0; at < data.byteLength; at += chunk) {
    const n = Math.min(chunk, data.byteLength - at);
    buf.set(data.subarray(at, at + n));
    yield buf.subarray(0, n);
  }
}

describe('writeGgufFile (streaming)', () => {
  for (const alignment of [undefined, 64]) {
    it(`writes the bytes writeGguf writes (alignment ${alignment ?? 'default'})`, async () => {
      const tensors = smallModel();
      const expected = writeGguf({ metadata, tensors, alignment });
      const path = join(dir, `small-${alignment ?? 32}.gguf`);
      const layout = await writeGgufFile(path, { metadata, tensors: streamTensors(tensors), alignment },
        (_t, i) => chunked(tensors[i].data, 7 + i));
      const written = readFileSync(path);
      expect(Buffer.compare(written, Buffer.from(expected))).toBe(0);
      expect(layout.fileSize).toBe(expected.byteLength);
      expect(ggufLayout({ metadata, tensors: streamTensors(tensors), alignment })).toEqual(layout);

      const file = await readGguf(path);
      expect(file.dataOffset).toBe(layout.dataOffset);
      expect(file.tensors.map((t) => t.offset)).toEqual(layout.offsets);
      expect(file.tensors.map((t) => t.nBytes)).toEqual(tensors.map((t) => t.data.byteLength));
    });
  }

  it('takes async sources, and writes a header-only file like writeGguf', async () => {
    const tensors = smallModel();
    const path = join(dir, 'async.gguf');
    await writeGgufFile(path, { metadata, tensors: streamTensors(tensors) }, async function* (_t, i) {
      yield tensors[i].data;
    });
    expect(Buffer.compare(readFileSync(path), Buffer.from(writeGguf({ metadata, tensors })))).toBe(0);

    const empty = join(dir, 'empty.gguf');
    const layout = await writeGgufFile(empty, { metadata }, () => []);
    expect(Buffer.compare(readFileSync(empty), Buffer.from(writeGguf({ metadata })))).toBe(0);
    expect(statSync(empty).size).toBe(layout.fileSize);
  });

  it('rejects a source that yields too many or too few bytes', async () => {
    const tensors = smallModel();
    const infos = streamTensors(tensors);
    await expect(writeGgufFile(join(dir, 'short.gguf'), { metadata, tensors: infos },
      (_t, i) => [tensors[i].data.subarray(0, i === 2 ? 17 : undefined)])).rejects.toThrow(/'blk.0.attn_q.weight' yields 17 bytes, expected 18/);
    await expect(writeGgufFile(join(dir, 'long.gguf'), { metadata, tensors: infos },
      (_t, i) => [tensors[i].data, ...(i === 1 ? [new Uint8Array(1)] : [])])).rejects.toThrow(/'blk.0.attn_norm.weight' yields more than its 32 bytes/);
  });
});
