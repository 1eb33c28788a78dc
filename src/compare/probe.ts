// One file's measurements for a comparison: everything the report needs from a loaded model, as
// plain arrays, so the model can be disposed before the next file is loaded (several 1B-class
// files need not fit in memory together).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Model } from '../model.js';
import { QuantscopeError } from '../errors.js';
import { llamaFileTypeName } from '../gguf/file-types.js';
import { ggmlTypeName } from '../quant/ggml-types.js';
import { collectStats } from '../stats/collect.js';
import { layerRows, layerTableLayers, type LayerRow } from '../stats/layer-table.js';
import type { CompareFileInfo } from './report.js';
import type { KvCacheType } from '../session.js';

export interface FileProbe {
  info: CompareFileInfo;
  promptTokens: number[];
  /** fingerprint of the vocabulary (token texts), to refuse comparing files that do not share one */
  vocabHash: string;
  nVocab: number;
  /** logits of the prompt's last position */
  logits: Float32Array;
  /** `l_out` of each compared layer at the prompt's last position */
  hidden: Map<number, Float32Array>;
  rows: LayerRow[];
  /** greedy continuation (stops early at an end-of-generation token) */
  continuation: number[];
  /** text of a token id under this file's vocabulary */
  tokenText: (id: number) => string;
  /** whether a token id ends generation (EOS, EOT, …) */
  isEog: (id: number) => boolean;
  /** the continuation decoded as text */
  continuationText: string;
}

export interface ProbeOptions {
  prompt: string;
  layers: readonly number[];
  nPredict: number;
  contextSize?: number;
  kvType?: KvCacheType;
}

/** Describe a loaded file: its llama.cpp format name, tensor types, size and bits per weight. */
export function describeFile(model: Model): CompareFileInfo {
  const tensors = model.gguf.tensors;
  const bytes = tensors.reduce((s, t) => s + t.nBytes, 0);
  const elements = tensors.reduce((s, t) => s + t.nElements, 0);
  return {
    path: model.path,
    name: basename(model.path),
    format: formatName(model),
    tensorTypes: model.tensorTypes,
    weightBytes: bytes,
    bitsPerWeight: elements > 0 ? (bytes * 8) / elements : 0,
  };
}

/** `general.file_type` as llama.cpp names it without its MOSTLY_/ALL_ prefix, else the type holding most matrix bytes. */
function formatName(model: Model): string {
  const ft = model.gguf.metadata.get('general.file_type')?.value;
  if (typeof ft === 'number') {
    const name = llamaFileTypeName(ft);
    if (!name.startsWith('unknown')) return name.replace(/^(MOSTLY|ALL)_/, '');
  }
  const bytesByType = new Map<number, number>();
  for (const t of model.gguf.tensors) if (t.dims.length >= 2) bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + t.nBytes);
  const top = [...bytesByType].sort((a, b) => b[1] - a[1])[0];
  return top ? ggmlTypeName(top[0]) : 'unknown';
}

function vocabFingerprint(model: Model): string {
  const h = createHash('sha256');
  for (const t of model.vocab.tokens) h.update(t).update('\0');
  return h.digest('hex');
}

/** Evaluate the prompt on `model`, gather what the comparison needs, and continue greedily. */
export async function probeModel(model: Model, opts: ProbeOptions): Promise<FileProbe> {
  const promptTokens = model.tokenize(opts.prompt);
  if (promptTokens.length === 0) {
    throw new QuantscopeError('invalid_argument', `the prompt has no tokens under ${model.path} (and it adds no BOS): give a prompt`);
  }
  for (const l of opts.layers) {
    if (l >= model.config.nLayer) throw new QuantscopeError('invalid_argument', `layer ${l} does not exist in ${model.path} (${model.config.nLayer} layers)`);
  }
  const session = model.createSession({ contextSize: opts.contextSize ?? Math.max(promptTokens.length + opts.nPredict, 1), kvType: opts.kvType });
  try {
    const last = promptTokens.length - 1;
    const hidden = new Map<number, Float32Array>();
    const result = collectStats(session, promptTokens, {
      taps: ['l_out', 'ffn_gate_par'],
      layers: layerTableLayers(opts.layers),
      positions: [last],
      onTap: (name, layer, _pos, view) => { if (name === 'l_out') hidden.set(layer, view.slice()); },
    });
    const rows = layerRows(model, result, opts.layers);
    const logits = result.logits;
    let continuation: number[] = [];
    let continuationText = '';
    if (opts.nPredict > 0) {
      const gen = await session.complete([], { maxTokens: opts.nPredict, temperature: 0 });
      continuation = gen.tokens;
      continuationText = gen.text;
    }
    return {
      info: describeFile(model), promptTokens, vocabHash: vocabFingerprint(model), nVocab: model.config.nVocab,
      logits, hidden, rows, continuation, continuationText, tokenText: (id) => model.tokenText(id), isEog: (id) => model.isEndOfGeneration(id),
    };
  } finally {
    session.dispose();
  }
}
