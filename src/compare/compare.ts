// `compare`: run one prompt through several GGUF files of a model and say where they part ways.
import { QuantscopeError } from '../errors.js';
import { loadModel, type LoadModelOptions, type Model } from '../model.js';
import type { KvCacheType } from '../session.js';
import { ANOMALY_LEGEND } from '../stats/layer-table.js';
import { resolveLayers } from '../stats/selection.js';
import { argmax, rankOf } from '../stats/tokens.js';
import { cosineSimilarity, klDivergence, logSoftmax, overlapFraction, relativeRmsError, topK } from './metrics.js';
import { probeModel, type FileProbe } from './probe.js';
import type {
  CompareAnomaly, CompareFileInfo, CompareReport, Continuation, DivergenceRow, FileComparison, NextTokenColumn, ReferenceColumn, ScoredToken,
} from './report.js';

/**
 * Rules of the comparison's own ⚠ marks (the per-layer table's rules, ANOMALY_LEGEND, apply too):
 * - `divergence-jump`: a layer's relative RMS error against the base more than doubles the previous
 *   compared layer's and exceeds 5%: where a file's hidden state starts to leave the base's,
 *   as opposed to the slow build-up quantization noise gives layer after layer.
 * - `next-token`: the file's greedy next token is not the base file's.
 * - `reference`: llama.cpp's next token or greedy continuation for the file is not ours.
 */
export const COMPARE_RULES = { divergenceJumpRatio: 2, divergenceJumpFloor: 0.05 } as const;

export const COMPARE_LEGEND: Readonly<Record<string, string>> = {
  ...ANOMALY_LEGEND,
  'divergence-jump': `l_out relative RMS error vs base > ${COMPARE_RULES.divergenceJumpRatio}× the previous compared layer's and > ${COMPARE_RULES.divergenceJumpFloor}`,
  'next-token': 'greedy next token differs from the base file\'s',
  reference: 'llama.cpp\'s next token or greedy continuation differs from ours for the same file',
};

/** llama.cpp's answer for one file, as `compare` needs it (see reference/llamacpp.ts). */
export interface ReferenceAnswer {
  engine: string;
  /** next-token distribution over the whole vocabulary (softmax), when known */
  probs: Float32Array | null;
  top: { id: number; prob: number }[];
  greedy: number[];
}

/** Asks a reference engine about each file, given the token ids we evaluated; one answer or error per file. */
export type ReferenceProvider = (
  jobs: { modelPath: string; tokens: number[]; prompt: string; nPredict: number; topK: number; kvType?: 'f32' | 'f16' }[],
) => Promise<Array<ReferenceAnswer | { error: string }>>;

export interface CompareOptions {
  prompt: string;
  /** layers of the tables and the divergence (default all) */
  layers?: readonly number[] | 'all';
  /** greedy tokens to continue after the prompt, to see where the paths part (default 0) */
  nPredict?: number;
  /** size of the top-k lists and of the overlap measure (default 10) */
  topK?: number;
  /** index of the file to measure against; default the one with most bits per weight (first on a tie) */
  base?: number;
  contextSize?: number;
  /** what the sessions' KV cache stores (SessionOptions.kvType; default f32) */
  kvType?: KvCacheType;
  /** adds llama.cpp's column (e.g. `llamaCppReference` from reference/) */
  reference?: ReferenceProvider;
}

/** Compare already-loaded models (they stay loaded). */
export async function compareModels(models: readonly Model[], opts: CompareOptions): Promise<CompareReport> {
  const probes: FileProbe[] = [];
  for (const m of models) probes.push(await probeModel(m, probeOptions(opts, m.config.nLayer)));
  return buildReport(probes, opts);
}

export interface CompareFilesOptions extends CompareOptions {
  /** options for loading each file (progress, generic kernels) */
  load?: (path: string, index: number) => LoadModelOptions;
  /** called after each file is measured */
  onFile?: (info: CompareFileInfo, index: number) => void;
}

/** Load each file in turn, measure it, and free it before the next: memory holds one model at a time. */
export async function compareFiles(paths: readonly string[], opts: CompareFilesOptions): Promise<CompareReport> {
  if (paths.length < 2) throw new QuantscopeError('invalid_argument', `compare needs at least two files, got ${paths.length}`);
  const probes: FileProbe[] = [];
  for (const [i, path] of paths.entries()) {
    const model = await loadModel(path, opts.load?.(path, i) ?? {});
    try {
      probes.push(await probeModel(model, probeOptions(opts, model.config.nLayer)));
    } finally {
      model.dispose();
    }
    opts.onFile?.(probes[i].info, i);
  }
  return buildReport(probes, opts);
}

function probeOptions(opts: CompareOptions, nLayer: number) {
  const nPredict = opts.nPredict ?? 0;
  if (!Number.isInteger(nPredict) || nPredict < 0) throw new QuantscopeError('invalid_argument', `nPredict must be a non-negative integer, got ${nPredict}`);
  return { prompt: opts.prompt, layers: resolveLayers(opts.layers ?? 'all', nLayer), nPredict, contextSize: opts.contextSize, kvType: opts.kvType };
}

/** The highest-precision file: most tensor-data bits per weight, the first of equals. */
export function pickBase(probes: readonly FileProbe[]): number {
  let best = 0;
  for (let i = 1; i < probes.length; i++) if (probes[i].info.bitsPerWeight > probes[best].info.bitsPerWeight) best = i;
  return best;
}

function checkComparable(probes: readonly FileProbe[]): void {
  const [first] = probes;
  for (const p of probes.slice(1)) {
    if (p.vocabHash !== first.vocabHash || p.nVocab !== first.nVocab) {
      throw new QuantscopeError('invalid_argument',
        `${p.info.name} and ${first.info.name} have different vocabularies (${p.nVocab} and ${first.nVocab} tokens): compare needs files that share one tokenizer`);
    }
    const layers = (q: FileProbe) => q.rows.map((r) => r.layer).join(',');
    if (layers(p) !== layers(first)) {
      throw new QuantscopeError('invalid_argument', `${p.info.name} and ${first.info.name} do not have the same layers`);
    }
  }
}

async function buildReport(probes: FileProbe[], opts: CompareOptions): Promise<CompareReport> {
  checkComparable(probes);
  const k = opts.topK ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new QuantscopeError('invalid_argument', `topK must be a positive integer, got ${k}`);
  const baseIndex = opts.base ?? pickBase(probes);
  if (!Number.isInteger(baseIndex) || baseIndex < 0 || baseIndex >= probes.length) {
    throw new QuantscopeError('invalid_argument', `base must be a file index in 0–${probes.length - 1}, got ${baseIndex}`);
  }
  const base = probes[baseIndex];
  const text = base.tokenText;
  const logProbs = probes.map((p) => logSoftmax(p.logits));
  const tops = probes.map((p) => topK(p.logits, k));
  const layers = base.rows.map((r) => r.layer);
  const nPredict = opts.nPredict ?? 0;

  const scored = (i: number, id: number): ScoredToken => ({
    id, text: text(id), logit: probes[i].logits[id], prob: Math.exp(logProbs[i][id]), rank: rankOf(probes[i].logits, id),
  });

  const files: FileComparison[] = probes.map((p, i) => {
    const nextId = argmax(p.logits);
    const next: NextTokenColumn = { ...scored(i, nextId), rankIn: probes.map((q) => rankOf(q.logits, nextId)), top: tops[i].map((id) => scored(i, id)) };
    const isBase = i === baseIndex;
    const divergence: DivergenceRow[] = isBase ? [] : layers.map((layer) => ({
      layer,
      cosine: cosineSimilarity(p.hidden.get(layer)!, base.hidden.get(layer)!),
      relRms: relativeRmsError(p.hidden.get(layer)!, base.hidden.get(layer)!),
    }));
    return {
      file: p.info,
      promptTokens: p.promptTokens,
      next,
      layers: p.rows,
      divergence,
      agreement: isBase ? null : {
        kl: klDivergence(logProbs[baseIndex], logProbs[i]),
        topKOverlap: overlapFraction(tops[baseIndex], tops[i]),
        sameTop1: nextId === argmax(base.logits),
      },
      continuation: nPredict > 0 ? continuationOf(p, base.continuation) : null,
    };
  });

  if (opts.reference) {
    const answers = await opts.reference(probes.map((p) => ({
      modelPath: p.info.path, tokens: p.promptTokens, prompt: opts.prompt, nPredict, topK: k, kvType: opts.kvType ?? 'f32',
    })));
    answers.forEach((a, i) => { files[i].reference = 'error' in a ? { error: a.error } : referenceColumn(a, probes[i], logProbs[i], files[i]); });
  }

  return {
    schema: 1,
    prompt: opts.prompt,
    tokens: base.promptTokens.map((id) => ({ id, text: text(id) })),
    baseIndex,
    layers,
    topK: k,
    nPredict,
    files,
    anomalies: findAnomalies(files, baseIndex),
    anomalyRules: { ...COMPARE_LEGEND },
  };
}

function continuationOf(p: FileProbe, base: readonly number[]): Continuation {
  const ids = p.continuation;
  let partsAt: number | null = null;
  for (let j = 0; j < Math.max(ids.length, base.length); j++) if (ids[j] !== base[j]) { partsAt = j; break; }
  return { ids, pieces: ids.map((id) => p.tokenText(id)), text: p.continuationText, partsAt };
}

function referenceColumn(a: ReferenceAnswer, p: FileProbe, ours: Float64Array, f: FileComparison): ReferenceColumn {
  let greedyPartsAt: number | null = null;
  const mine = f.continuation?.ids ?? [];
  // llama.cpp's list ends with the end-of-generation token where ours stops before it
  const theirs = a.greedy.length === mine.length + 1 && p.isEog(a.greedy[mine.length]) ? a.greedy.slice(0, mine.length) : a.greedy;
  for (let j = 0; j < Math.max(theirs.length, mine.length); j++) if (theirs[j] !== mine[j]) { greedyPartsAt = j; break; }
  const kl = a.probs ? klDivergence(Float64Array.from(a.probs, Math.log), ours) : null;
  return {
    engine: a.engine,
    top: a.top.map((t) => ({ id: t.id, text: p.tokenText(t.id), prob: t.prob })),
    greedy: a.greedy,
    greedyText: a.greedy.map((id) => p.tokenText(id)).join(''),
    nextAgrees: a.top[0]?.id === f.next.id,
    greedyPartsAt,
    kl,
  };
}

export function findAnomalies(files: readonly FileComparison[], baseIndex: number): CompareAnomaly[] {
  const out: CompareAnomaly[] = [];
  const f6 = (x: number) => x.toPrecision(4);
  files.forEach((f, i) => {
    for (const r of f.layers) {
      for (const rule of r.anomalies) {
        const detail = rule === 'swiglu-mean' ? `SwiGLU mean ${f6(r.swigluMean)}, RMS ${f6(r.swigluRms)}`
          : rule === 'growth' ? `RMS ${f6(r.inputRms)} → ${f6(r.outputRms)}`
            : 'NaN/Inf in l_out or ffn_gate_par';
        out.push({ file: i, layer: r.layer, rule, detail });
      }
    }
    const { divergenceJumpRatio, divergenceJumpFloor } = COMPARE_RULES;
    f.divergence.forEach((d, j) => {
      const prev = f.divergence[j - 1];
      if (prev && d.relRms > divergenceJumpFloor && d.relRms > divergenceJumpRatio * prev.relRms) {
        out.push({ file: i, layer: d.layer, rule: 'divergence-jump', detail: `rel. RMS error ${f6(prev.relRms)} → ${f6(d.relRms)}` });
      }
    });
    if (i !== baseIndex && f.agreement && !f.agreement.sameTop1) {
      const b = files[baseIndex].next;
      out.push({ file: i, layer: null, rule: 'next-token', detail: `${JSON.stringify(f.next.text)} (${f.next.id}) where the base has ${JSON.stringify(b.text)} (${b.id}), rank ${b.rankIn[i]} here` });
    }
    const ref = f.reference;
    if (ref && !('error' in ref) && (!ref.nextAgrees || ref.greedyPartsAt !== null)) {
      const what = !ref.nextAgrees ? `llama.cpp's next token is ${ref.top[0]?.id} ${JSON.stringify(ref.top[0]?.text)}, ours ${f.next.id}`
        : `greedy continuations part at token ${ref.greedyPartsAt}`;
      out.push({ file: i, layer: null, rule: 'reference', detail: what });
    }
  });
  return out;
}
