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
 * (no intermediate copy on the JS heap), checking names, shapes and types first.
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
  const fh = await open(file.path, 'r');
  let loadedBytes = 0;
  try {
    for (const { info, shape } of plan) {
      const ptr = arena.alloc(info.nBytes, `tensor ${info.name}`);
      for (let done = 0; done < info.nBytes; ) {
        const n = Math.min(READ_CHUNK, info.nBytes - done);
        const { bytesRead } = await fh.read(arena.bytes(ptr + done, n), 0, n, info.fileOffset + done);
        if (bytesRead !== n) {
          throw new GgufError(file.path, info.fileOffset + done + bytesRead, `file ends inside the data of tensor '${info.name}'`);
        }
        done += n;
        loadedBytes += n;
        onProgress?.({ loadedBytes, totalBytes });
      }
      const cols = shape[0];
      const rows = shape.length > 1 ? shape[1] : 1;
      const format = formats.get(info.type)!;
      tensors.set(info.name, {
        name: info.name, type: info.type, rows, cols, rowBytes: info.nBytes / rows,
        activation: format.spec.activation, format, ptr,
      });
    }
  } finally {
    await fh.close();
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
