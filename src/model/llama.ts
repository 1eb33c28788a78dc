import type { Engine } from '../wasm/instance.js';
import { activationRowBytes, type ActivationFormat } from '../quant/formats.js';
import type { LlamaConfig } from './config.js';
import { dequantizeRow, type LlamaWeights, type QTensor } from './weights.js';
import type { KvCache } from './kv-cache.js';
import type { RunState } from './run-state.js';
import type { TapFn, TapName } from './taps.js';

export interface ForwardModel {
  readonly cfg: LlamaConfig;
  readonly weights: LlamaWeights;
  readonly engine: Engine;
}

/** Which positions of the batch get logits in `state.logits`. */
export type LogitsMode = 'last' | 'all' | 'none';

/**
 * One llama forward pass over `tokens` at positions pos0 … pos0+nTok-1 (nTok ≤ state.batch),
 * appending their keys and values to the cache. Logits land in state.logits, row-major
 * [nOut][nVocab] where nOut is 1 for 'last' and nTok for 'all'.
 */
export function forward(
  m: ForwardModel, s: RunState, kv: KvCache, tokens: ArrayLike<number>, pos0: number,
  logitsMode: LogitsMode, tap?: TapFn,
): void {
  const { cfg, weights: w, engine } = m;
  const k = engine.kernels;
  const arena = engine.arena;
  const nTok = tokens.length;
  const { nEmbd, nHead, nHeadKv, headDim, nFf } = cfg;
  const qDim = nHead * headDim;
  const kvDim = nHeadKv * headDim;
  const F = 4; // bytes per f32

  const emit = tap
    ? (name: TapName, layer: number, ptr: number, width: number, rows = nTok, first = pos0) =>
        tap(name, layer, arena.f32(ptr, rows * width), rows, width, first)
    : undefined;

  // the input of the current projection, as the weight at hand reads it (set by `input`)
  let x = 0, xRowBytes = 0;
  let converted: ActivationFormat | undefined;
  /** x = `rows` rows of `cols` f32 values at src in wt's activation format: converted into s.act
   *  (Q8_0 blocks, f16-rounded rows, …) unless already there, or src itself for f32 */
  const input = (wt: QTensor, src: number, rows: number, cols: number) => {
    const { quantize } = wt.format;
    if (!quantize) {
      x = src;
      xRowBytes = cols * F;
      return;
    }
    xRowBytes = activationRowBytes(wt.activation, cols);
    if (converted !== wt.activation) {
      for (let t = 0; t < rows; t++) quantize(src + t * cols * F, s.act + t * xRowBytes, cols);
      converted = wt.activation;
    }
    x = s.act;
  };

  /**
   * out_i = W_i · src for weights sharing one input, src converted once per activation format.
   * Weights that all read one format (Q, K, V; gate, up) run as one pool job, one synchronisation;
   * otherwise one mul_mat each.
   */
  const project = (src: number, rows: number, ...targets: Array<[wt: QTensor, out: number, outRowFloats: number]>) => {
    const first = targets[0][0], cols = first.cols; // every weight here reads the same input rows
    converted = undefined;
    if (targets.length > 1 && targets.every(([wt]) => wt.activation === first.activation)) {
      input(first, src, rows, cols);
      s.jobs.mulMats(engine, x, xRowBytes, rows, targets);
      return;
    }
    for (const [wt, out, outRowFloats] of targets) {
      input(wt, src, rows, cols);
      engine.mulMat(wt.format.vecDot, wt.format.vecDotBatch, wt.ptr, wt.rowBytes, x, xRowBytes, out, outRowFloats, wt.rows, cols, rows);
    }
  };
  const rmsNormRows = (src: number, weight: QTensor, dst: number, rows = nTok) => {
    for (let t = 0; t < rows; t++) k.rms_norm(src + t * nEmbd * F, weight.ptr, dst + t * nEmbd * F, nEmbd, cfg.rmsEps);
  };

  // token embeddings → x [nTok][nEmbd]
  for (let t = 0; t < nTok; t++) {
    const id = tokens[t];
    dequantizeRow(w.tokenEmbd, id, s.x + t * nEmbd * F);
  }

  const scale = 1 / Math.sqrt(headDim);
  const f16Cache = kv.type === 'f16';
  for (let l = 0; l < cfg.nLayer; l++) {
    const L = w.layers[l];

    // attention block
    rmsNormRows(s.x, L.attnNorm, s.xb);                                   // xb = attn_norm(x)   [nTok][nEmbd]
    emit?.('attn_norm', l, s.xb, nEmbd);
    // an F32 cache takes the new keys in place; an F16 one gets them rounded after RoPE (ggml_cpy)
    const kCur = f16Cache ? s.k : kv.kRow(l, pos0);
    project(s.xb, nTok,
      [L.wq, s.q, qDim],                                                   // q                   [nTok][qDim]
      [L.wk, kCur, kvDim],                                                 // k                   [nTok][kvDim]
      [L.wv, s.v, kvDim]);                                                 // v                   [nTok][kvDim]
    if (f16Cache) k.store_transposed_f16(s.v, nTok, kvDim, kv.v[l], kv.vStride, pos0); // vᵀ → cache columns  [kvDim][pos]
    else k.store_transposed(s.v, nTok, kvDim, kv.v[l], kv.vStride, pos0);
    for (let t = 0; t < nTok; t++) {
      k.rope_cache(s.rope, pos0 + t, cfg.nRot, cfg.ropeFreqBase, cfg.ropeFreqScale);
      k.rope_norm(s.q + t * qDim * F, nHead, headDim, cfg.nRot, s.rope);
      k.rope_norm(kCur + t * kvDim * F, nHeadKv, headDim, cfg.nRot, s.rope);
    }
    if (f16Cache) k.store_rows_f16(kCur, nTok * kvDim, kv.kRow(l, pos0)); // k → cache rows      [pos][kvDim]
    emit?.('Qcur', l, s.q, qDim);
    emit?.('Kcur', l, kCur, kvDim);
    emit?.('Vcur', l, s.v, kvDim);
    s.jobs.attention(engine, {                                            // att = softmax(qKᵀ/√d)V per token and head
      q: s.q, kc: kv.k[l], vt: kv.v[l], out: s.att, nHead, nHeadKv, headDim,
      nKv0: pos0 + 1, kvRow: kvDim, vtStride: kv.vStride, scale, nTok, f16: f16Cache,
    });
    project(s.att, nTok, [L.wo, s.xb2, nEmbd]);                             // xb2 = wo·att        [nTok][nEmbd]
    emit?.('kqv_out', l, s.xb2, nEmbd);
    k.add(s.x, s.xb2, s.x, nTok * nEmbd);                                  // x += attention
    emit?.('ffn_inp', l, s.x, nEmbd);

    // feed-forward block (SwiGLU)
    rmsNormRows(s.x, L.ffnNorm, s.xb);                                    // xb = ffn_norm(x)
    emit?.('ffn_norm', l, s.xb, nEmbd);
    project(s.xb, nTok,
      [L.wGate, s.hb, nFf],                                                // hb = gate·xb        [nTok][nFf]
      [L.wUp, s.hb2, nFf]);                                                // hb2 = up·xb         [nTok][nFf]
    emit?.('ffn_gate', l, s.hb, nFf);
    emit?.('ffn_up', l, s.hb2, nFf);
    s.jobs.siluMul(engine, s.hb, s.hb2, s.hb, nFf, nTok);                 // hb = silu(hb)·hb2
    emit?.('ffn_gate_par', l, s.hb, nFf);
    project(s.hb, nTok, [L.wDown, s.xb2, nEmbd]);                           // xb2 = down·hb       [nTok][nEmbd]
    emit?.('ffn_out', l, s.xb2, nEmbd);
    k.add(s.x, s.xb2, s.x, nTok * nEmbd);                                  // x += ffn
    emit?.('l_out', l, s.x, nEmbd);
  }

  if (logitsMode === 'none') return;
  // final norm and LM head, for the last position only (as llama.cpp's inp_out_ids) or all
  const first = logitsMode === 'last' ? nTok - 1 : 0;
  const nOut = nTok - first;
  rmsNormRows(s.x + first * nEmbd * F, w.outputNorm, s.xb, nOut);         // xb = output_norm(x) [nOut][nEmbd]
  emit?.('result_norm', -1, s.xb, nEmbd, nOut, pos0 + first);
  project(s.xb, nOut, [w.output, s.logits, cfg.nVocab]);                   // logits              [nOut][nVocab]
  emit?.('result_output', -1, s.logits, cfg.nVocab, nOut, pos0 + first);
}
