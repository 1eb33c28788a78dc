import type { GgufFile } from '../gguf/types.js';
import { QuantscopeError } from '../errors.js';

/** Hyper-parameters of a llama-family model, read from GGUF metadata (llama.cpp's llm_load_hparams). */
export interface LlamaConfig {
  readonly architecture: string;
  readonly nVocab: number;
  readonly nCtxTrain: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  readonly nFf: number;
  /** how many leading values of each head RoPE rotates (`rope.dimension_count`) */
  readonly nRot: number;
  readonly ropeFreqBase: number;
  readonly ropeFreqScale: number;
  readonly rmsEps: number;
}

const SUPPORTED_ARCHITECTURES = ['llama'];

export function readConfig(file: GgufFile): LlamaConfig {
  const md = file.metadata;
  const fail = (msg: string): never => {
    throw new QuantscopeError('unsupported_model', `${file.path}: ${msg}`);
  };
  const arch = md.get('general.architecture')?.value;
  if (typeof arch !== 'string') fail('no general.architecture in metadata');
  const architecture = arch as string;
  if (!SUPPORTED_ARCHITECTURES.includes(architecture)) {
    fail(`architecture '${architecture}' is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  }
  const num = (key: string, fallback?: number): number => {
    const v = md.get(`${architecture}.${key}`)?.value;
    if (v === undefined) {
      if (fallback === undefined) fail(`missing metadata ${architecture}.${key}`);
      return fallback!;
    }
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    return fail(`metadata ${architecture}.${key} is not a number`);
  };

  const nEmbd = num('embedding_length');
  const nHead = num('attention.head_count');
  const nHeadKv = num('attention.head_count_kv', nHead);
  const tokens = md.get('tokenizer.ggml.tokens')?.value;
  const nVocab = num('vocab_size', Array.isArray(tokens) ? tokens.length : 0);
  const headDim = nEmbd / nHead;
  const scalingType = md.get(`${architecture}.rope.scaling.type`)?.value;
  if (scalingType !== undefined && scalingType !== 'none' && scalingType !== 'linear') {
    fail(`rope scaling '${String(scalingType)}' is not supported`);
  }
  const scalingFactor = num('rope.scaling.factor', 0);
  const cfg: LlamaConfig = {
    architecture,
    nVocab,
    nCtxTrain: num('context_length'),
    nEmbd,
    nLayer: num('block_count'),
    nHead,
    nHeadKv,
    headDim,
    nFf: num('feed_forward_length'),
    nRot: num('rope.dimension_count', headDim),
    ropeFreqBase: num('rope.freq_base', 10000),
    ropeFreqScale: scalingType === 'linear' && scalingFactor > 0 ? 1 / scalingFactor : 1,
    rmsEps: num('attention.layer_norm_rms_epsilon', 1e-5),
  };
  if (!Number.isInteger(headDim) || nHead <= 0) fail(`embedding_length ${nEmbd} is not a multiple of head_count ${nHead}`);
  if (nHeadKv <= 0 || nHead % nHeadKv !== 0) fail(`head_count ${nHead} is not a multiple of head_count_kv ${nHeadKv}`);
  if (cfg.nRot > headDim || cfg.nRot % 2 !== 0) fail(`rope.dimension_count ${cfg.nRot} must be even and ≤ head size ${headDim}`);
  if (nVocab <= 0) fail('vocabulary is empty');
  return cfg;
}
