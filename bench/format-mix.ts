// Which ggml type each tensor of a llama model gets in a file of a given llama.cpp file type — the
// rules of llama-quantize (llama_tensor_get_type in llama.cpp's src/llama-quant.cpp) for the presets
// the bench writes, without an imatrix:
//   - 1-D tensors (norms) stay F32;
//   - output.weight: Q6_K, except in Q8_0 files (stays Q8_0) and F16 files (no quantization rules);
//   - token_embd.weight: the file's main type (the exceptions are the IQ1/IQ2/IQ3/TQ presets);
//   - Q4_K_M / Q5_K_M: attn_v and ffn_down become Q6_K in the layers use_more_bits picks — the first
//     1/8 of the layers, the last 1/8 and every third in between (10 of TinyLlama's 22);
//   - a K-quant on rows whose length is not a multiple of 256 falls back as llama-quantize does
//     (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0).
// The test fixtures kjv-austen-4l-256d.{Q4_K_M,Q5_K_M,Q4_0,Q6_K,Q8_0}.gguf, made by llama-quantize,
// follow exactly these assignments.
import { GGML_TYPES } from '../src/quant/ggml-types.js';

export interface ModelShape {
  /** short name for file names and the report */
  readonly name: string;
  readonly nLayer: number;
  readonly nEmbd: number;
  readonly nFf: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly nVocab: number;
  readonly nCtx: number;
  readonly ropeFreqBase: number;
  readonly rmsEps: number;
}

/** TinyLlama-1.1B's hyper-parameters (its vocabulary is Llama 2's 32000-token SPM one). */
export const TINYLLAMA: ModelShape = {
  name: 'tinyllama-1.1b', nLayer: 22, nEmbd: 2048, nFf: 5632, nHead: 32, nHeadKv: 4, nVocab: 32000, nCtx: 2048,
  ropeFreqBase: 10000, rmsEps: 1e-5,
};

/** A small shape with the same structure (GQA, the full vocabulary), for CI smoke runs. */
export const QUICK: ModelShape = {
  name: 'quick', nLayer: 2, nEmbd: 256, nFf: 512, nHead: 4, nHeadKv: 2, nVocab: 32000, nCtx: 2048,
  ropeFreqBase: 10000, rmsEps: 1e-5,
};

/** The llama.cpp file types (presets) the bench synthesizes: llama_ftype id and main tensor type. */
export const BENCH_FTYPES = {
  F16: { fileType: 1, main: 'F16' },
  Q8_0: { fileType: 7, main: 'Q8_0' },
  Q6_K: { fileType: 18, main: 'Q6_K' },
  Q5_K_M: { fileType: 17, main: 'Q5_K' },
  Q4_K_M: { fileType: 15, main: 'Q4_K' },
  Q4_0: { fileType: 2, main: 'Q4_0' },
} as const;
export type BenchFtype = keyof typeof BENCH_FTYPES;
export const BENCH_FTYPE_NAMES = Object.keys(BENCH_FTYPES) as BenchFtype[];

export interface TensorPlan {
  readonly name: string;
  /** ggml order: [row length, rows] */
  readonly dims: readonly number[];
  readonly type: number;
  readonly nElements: number;
  readonly nBytes: number;
}

const typeId = (name: string) => [...GGML_TYPES.values()].find((t) => t.name === name)!.id;

/** llama.cpp's use_more_bits(i_layer, n_layers) */
export function useMoreBits(i: number, n: number): boolean {
  const eighth = Math.floor(n / 8);
  return i < eighth || i >= Math.floor((7 * n) / 8) || (i - eighth) % 3 === 2;
}

const K_FALLBACK: Record<string, string> = { Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0' };

/** The type llama-quantize gives one tensor (`layer` for the per-layer rules). */
function tensorType(ftype: BenchFtype, role: string, rowLength: number, layer: number, nLayer: number): string {
  const main = BENCH_FTYPES[ftype].main;
  let type: string = main;
  if (ftype === 'F16') return 'F16';
  if (role === 'output') type = main === 'Q8_0' ? 'Q8_0' : 'Q6_K';
  else if ((role === 'attn_v' || role === 'ffn_down') && (ftype === 'Q4_K_M' || ftype === 'Q5_K_M') && useMoreBits(layer, nLayer)) type = 'Q6_K';
  const block = GGML_TYPES.get(typeId(type))!.blockSize;
  return rowLength % block === 0 ? type : (K_FALLBACK[type] ?? type);
}

/** Every tensor of a llama model of this shape in this file type, in the order convert_hf writes them. */
export function planTensors(shape: ModelShape, ftype: BenchFtype): TensorPlan[] {
  const { nLayer, nEmbd, nFf, nHead, nHeadKv, nVocab } = shape;
  const headDim = nEmbd / nHead;
  const plans: TensorPlan[] = [];
  const add = (name: string, dims: number[], typeName: string) => {
    const t = GGML_TYPES.get(typeId(typeName))!;
    const nElements = dims.reduce((a, b) => a * b, 1);
    plans.push({ name, dims, type: t.id, nElements, nBytes: (nElements / t.blockSize) * t.typeSize });
  };
  const matrix = (name: string, role: string, cols: number, rows: number, layer = -1) =>
    add(name, [cols, rows], tensorType(ftype, role, cols, layer, nLayer));

  matrix('token_embd.weight', 'token_embd', nEmbd, nVocab);
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}.`;
    add(p + 'attn_norm.weight', [nEmbd], 'F32');
    matrix(p + 'attn_q.weight', 'attn_q', nEmbd, nHead * headDim, l);
    matrix(p + 'attn_k.weight', 'attn_k', nEmbd, nHeadKv * headDim, l);
    matrix(p + 'attn_v.weight', 'attn_v', nEmbd, nHeadKv * headDim, l);
    matrix(p + 'attn_output.weight', 'attn_output', nHead * headDim, nEmbd, l);
    add(p + 'ffn_norm.weight', [nEmbd], 'F32');
    matrix(p + 'ffn_gate.weight', 'ffn_gate', nEmbd, nFf, l);
    matrix(p + 'ffn_up.weight', 'ffn_up', nEmbd, nFf, l);
    matrix(p + 'ffn_down.weight', 'ffn_down', nFf, nEmbd, l);
  }
  add('output_norm.weight', [nEmbd], 'F32');
  matrix('output.weight', 'output', nEmbd, nVocab);
  return plans;
}
