// A llama model of a given shape and llama.cpp file type with random weights, written with the
// project's streaming GGUF writer: TinyLlama-1.1B's shape by default, so the bench measures speed on
// the sizes people run, without downloading anything. The vocabulary is Llama 2's SPM one, copied
// (every tokenizer.ggml.* key) from test/fixtures/models/llama-2-tiny-random.gguf, whose tokenizer
// metadata is exactly ggml-vocab-llama-spm.gguf's.
import { join } from 'node:path';
import { readGguf } from '../src/gguf/reader.js';
import { GgufValueType } from '../src/gguf/types.js';
import { ggufLayout, writeGgufFile, type GgufStreamInput, type GgufWriteEntry } from '../src/gguf/writer.js';
import { packageRoot } from '../src/paths.js';
import { BENCH_FTYPES, planTensors, type BenchFtype, type ModelShape } from './format-mix.js';
import { hashString } from './random.js';
import { tensorData } from './synth-weights.js';

/** Bump when the bytes a shape and file type give change: cached files carry it in their name. */
export const GENERATOR_VERSION = 1;

export const VOCAB_SOURCE = join(packageRoot(), 'test', 'fixtures', 'models', 'llama-2-tiny-random.gguf');

async function vocabMetadata(nVocab: number): Promise<GgufWriteEntry[]> {
  const vocab = await readGguf(VOCAB_SOURCE);
  const entries = [...vocab.metadata.values()].filter((e) => e.key.startsWith('tokenizer.ggml.'));
  const tokens = vocab.metadata.get('tokenizer.ggml.tokens')?.value;
  if (!Array.isArray(tokens) || tokens.length !== nVocab) {
    throw new Error(`synth-model: ${VOCAB_SOURCE} has ${Array.isArray(tokens) ? tokens.length : 0} tokens, the shape wants ${nVocab}`);
  }
  return entries.map(({ key, type, arrayType, value }) => ({ key, type, arrayType, value }));
}

/** Header and tensor list of a synthesized model (the data comes from synth-weights.ts). */
export async function benchModelInput(shape: ModelShape, ftype: BenchFtype): Promise<GgufStreamInput> {
  const u32 = (key: string, value: number): GgufWriteEntry => ({ key, type: GgufValueType.UINT32, value });
  const f32 = (key: string, value: number): GgufWriteEntry => ({ key, type: GgufValueType.FLOAT32, value });
  const metadata: GgufWriteEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
    { key: 'general.name', type: GgufValueType.STRING, value: `quantscope bench ${shape.name} (random weights)` },
    u32('general.file_type', BENCH_FTYPES[ftype].fileType),
    u32('general.quantization_version', 2),
    u32('llama.vocab_size', shape.nVocab),
    u32('llama.context_length', shape.nCtx),
    u32('llama.embedding_length', shape.nEmbd),
    u32('llama.block_count', shape.nLayer),
    u32('llama.feed_forward_length', shape.nFf),
    u32('llama.rope.dimension_count', shape.nEmbd / shape.nHead),
    u32('llama.attention.head_count', shape.nHead),
    u32('llama.attention.head_count_kv', shape.nHeadKv),
    f32('llama.attention.layer_norm_rms_epsilon', shape.rmsEps),
    f32('llama.rope.freq_base', shape.ropeFreqBase),
    ...(await vocabMetadata(shape.nVocab)),
  ];
  const tensors = planTensors(shape, ftype).map(({ name, dims, type, nBytes }) => ({ name, dims, type, nBytes }));
  return { metadata, tensors };
}

/** The size the file will have. */
export async function benchModelSize(shape: ModelShape, ftype: BenchFtype): Promise<number> {
  return ggufLayout(await benchModelInput(shape, ftype)).fileSize;
}

/** Write the model to `path` (one ~4 MiB chunk in memory at a time); returns the file size. */
export async function writeBenchModel(path: string, shape: ModelShape, ftype: BenchFtype): Promise<number> {
  const input = await benchModelInput(shape, ftype);
  const plans = planTensors(shape, ftype);
  const layout = await writeGgufFile(path, input, (t, i) => tensorData(t.type, plans[i].nElements, hashString(`${t.name}/${ftype}`)));
  return layout.fileSize;
}
