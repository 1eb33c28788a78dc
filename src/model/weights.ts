import { open } from 'node:fs/promises';
import type { GgufFile, GgufTensorInfo } from '../gguf/types.js';
import { GgufError, QuantscopeError, UnsupportedTensorTypeError } from '../errors.js';
import { ggmlTypeName } from '../quant/ggml-types.js';
import { supportedTypeNames, type ActivationFormat } from '../quant/formats.js';
import type { BoundFormat, Engine } from '../wasm/instance.js';
import type { LlamaConfig } from './config.js';

/** A weight matrix in linear memory: `rows` rows of `cols` values, ggml type `type`. */
export interface QTensor {
  readonly name: string;
  readonly type: number;
  readonly rows: number;
  readonly cols: number;
  readonly rowBytes: number;
  readonly activation: ActivationFormat;
  /** this tensor's kernels */
  readonly format: BoundFormat;
  readonly ptr: number;
  /** its whole groups of four rows are in the four-row layout (assembly/ops/rows4.ts), as mul_mat
   *  reads a format with a four-row kernel; read a row with `dequantizeRow` */
  readonly rows4: boolean;
}

export interface LayerWeights {
  readonly attnNorm: QTensor; // [nEmbd]
  readonly wq: QTensor;       // [nHead·headDim rows][nEmbd]
  readonly wk: QTensor;       // [nHeadKv·headDim][nEmbd]
  readonly wv: QTensor;       // [nHeadKv·headDim][nEmbd]
  readonly wo: QTensor;       // [nEmbd][nHead·headDim]
  readonly ffnNorm: QTensor;  // [nEmbd]
  readonly wGate: QTensor;    // [nFf][nEmbd]
  readonly wUp: QTensor;      // [nFf][nEmbd]
  readonly wDown: QTensor;    // [nEmbd][nFf]
}

export interface LlamaWeights {
  readonly tokenEmbd: QTensor;  // [nVocab][nEmbd]
  readonly layers: readonly LayerWeights[];
  readonly outputNorm: QTensor; // [nEmbd]
  /** `output.weight`, or `token_embd.weight` when the file ties them */
  readonly output: QTensor;     // [nVocab][nEmbd]
  readonly tiedOutput: boolean;
  readonly bytes: number;
}

export interface LoadProgress {
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

const READ_CHUNK = 8 << 20;

/**
 * Copies every tensor the forward pass needs straight from the file into linear memory
 * (no intermediate copy on the JS heap), checking names, shapes and types first. Matrices of a
 * format with a four-row kernel go into the four-row layout in place, a read chunk (whole groups
 * of rows) at a time while its bytes are still in cache.
 */
export async function loadWeights(
  file: GgufFile, cfg: LlamaConfig, engine: Engine, onProgress?: (p: LoadProgress) => void,
): Promise<LlamaWeights> {
  const { arena, formats } = engine;
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const { nEmbd, nHead, nHeadKv, headDim, nFf, nVocab } = cfg;
  const qDim = nHead * headDim;
  const kvDim = nHeadKv * headDim;

  const plan: Array<{ info: GgufTensorInfo; shape: number[] }> = [];
  const want = (name: string, shape: number[], optional = false): GgufTensorInfo | undefined => {
    const info = byName.get(name);
    if (!info) {
      if (optional) return undefined;
      throw new QuantscopeError('unsupported_model', `${file.path}: tensor '${name}' is missing`);
    }
    const dims = [...info.dims];
    while (dims.length > shape.length && dims[dims.length - 1] === 1) dims.pop();
    if (dims.length !== shape.length || dims.some((d, i) => d !== shape[i])) {
      throw new QuantscopeError('unsupported_model',
        `${file.path}: tensor '${name}' has shape [${info.dims.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (shape.length === 1 && info.type !== 0) {
      throw new UnsupportedTensorTypeError(file.path, name, ggmlTypeName(info.type), info.type, ['F32 (for norm vectors)']);
    }
    if (!formats.has(info.type)) {
      throw new UnsupportedTensorTypeError(file.path, name, ggmlTypeName(info.type), info.type, supportedTypeNames());
    }
    plan.push({ info, shape });
    return info;
  };

  want('token_embd.weight', [nEmbd, nVocab]);
  for (let l = 0; l < cfg.nLayer; l++) {
    const p = `blk.${l}.`;
    want(p + 'attn_norm.weight', [nEmbd]);
    want(p + 'attn_q.weight', [nEmbd, qDim]);
    want(p + 'attn_k.weight', [nEmbd, kvDim]);
    want(p + 'attn_v.weight', [nEmbd, kvDim]);
    want(p + 'attn_output.weight', [qDim, nEmbd]);
    want(p + 'ffn_norm.weight', [nEmbd]);
    want(p + 'ffn_gate.weight', [nEmbd, nFf]);
    want(p + 'ffn_up.weight', [nEmbd, nFf]);
    want(p + 'ffn_down.weight', [nFf, nEmbd]);
  }
  want('output_norm.weight', [nEmbd]);
  const hasOutput = want('output.weight', [nEmbd, nVocab], true) !== undefined;

  const totalBytes = plan.reduce((s, p) => s + p.info.nBytes, 0);
  const tensors = new Map<string, QTensor>();
  const rowsOf = (shape: number[]) => (shape.length > 1 ? shape[1] : 1);
  const interleaved = (p: { info: GgufTensorInfo; shape: number[] }) => formats.get(p.info.type)!.rows4 && rowsOf(p.shape) >= 4;
  // working space of the four-row layout: four rows of the widest such matrix
  const scratchBytes = Math.max(0, ...plan.filter(interleaved).map((p) => 4 * (p.info.nBytes / rowsOf(p.shape))));
  const scratch = scratchBytes > 0 ? arena.alloc(scratchBytes, 'four-row layout scratch') : 0;
  const fh = await open(file.path, 'r');
  let loadedBytes = 0;
  try {
    for (const p of plan) {
      const { info, shape } = p;
      const cols = shape[0];
      const rows = rowsOf(shape);
      const rowBytes = info.nBytes / rows;
      const format = formats.get(info.type)!;
      const rows4 = interleaved(p);
      // read chunks of whole groups of four rows, so each can go into the four-row layout at once
      const chunk = rows4 ? Math.max(1, Math.floor(READ_CHUNK / (4 * rowBytes))) * 4 * rowBytes : READ_CHUNK;
      const ptr = arena.alloc(info.nBytes, `tensor ${info.name}`);
      const readChunk = async (done: number): Promise<number> => {
        const n = Math.min(chunk, info.nBytes - done);
        const { bytesRead } = await fh.read(arena.bytes(ptr + done, n), 0, n, info.fileOffset + done);
        if (bytesRead !== n) {
          throw new GgufError(file.path, info.fileOffset + done + bytesRead, `file ends inside the data of tensor '${info.name}'`);
        }
        return n;
      };
      // the next chunk is read while this one goes into the four-row layout (other bytes; the read
      // runs on libuv's threads), so the layout costs no load time
      let pending: Promise<number> | undefined = readChunk(0);
      for (let done = 0; pending !== undefined; ) {
        const n: number = await pending;
        pending = done + n < info.nBytes ? readChunk(done + n) : undefined;
        pending?.catch(() => {}); // awaited next time round; a throw below must not leave it unhandled
        if (rows4) engine.exports.interleave_rows4(ptr + done, n / rowBytes, rowBytes, format.spec.type.typeSize, scratch);
        done += n;
        loadedBytes += n;
        onProgress?.({ loadedBytes, totalBytes });
      }
      tensors.set(info.name, {
        name: info.name, type: info.type, rows, cols, rowBytes, activation: format.spec.activation, format, ptr, rows4,
      });
    }
  } finally {
    await fh.close();
    if (scratch) arena.release(scratch);
  }

  const t = (name: string) => tensors.get(name)!;
  const tokenEmbd = t('token_embd.weight');
  return {
    tokenEmbd,
    layers: Array.from({ length: cfg.nLayer }, (_, l) => {
      const p = `blk.${l}.`;
      return {
        attnNorm: t(p + 'attn_norm.weight'), wq: t(p + 'attn_q.weight'), wk: t(p + 'attn_k.weight'),
        wv: t(p + 'attn_v.weight'), wo: t(p + 'attn_output.weight'), ffnNorm: t(p + 'ffn_norm.weight'),
        wGate: t(p + 'ffn_gate.weight'), wUp: t(p + 'ffn_up.weight'), wDown: t(p + 'ffn_down.weight'),
      };
    }),
    outputNorm: t('output_norm.weight'),
    output: hasOutput ? t('output.weight') : tokenEmbd,
    tiedOutput: !hasOutput,
    bytes: totalBytes,
  };
}

/**
 * Row `row` of t as f32 values at dst (`cols` of them), from whichever layout it is in: a row of a
 * group of the four-row layout has its blocks four blocks apart (assembly/ops/rows4.ts), and
 * dequantization goes block by block, so each block is dequantized where it lies.
 */
export function dequantizeRow(t: QTensor, row: number, dst: number): void {
  const { format, rowBytes } = t;
  if (!t.rows4 || row >= t.rows - (t.rows % 4)) {
    format.dequantize(t.ptr + row * rowBytes, dst, t.cols);
    return;
  }
  const { typeSize, blockSize } = format.spec.type;
  const first = t.ptr + (row - (row % 4)) * rowBytes + (row % 4) * typeSize;
  for (let i = 0; i < t.cols / blockSize; i++) format.dequantize(first + 4 * i * typeSize, dst + 4 * i * blockSize, blockSize);
}
