import { QuantscopeError } from '../errors.js';
import type { Model } from '../model.js';
import type { Session } from '../session.js';
import { collectStats, type StatsResult } from './collect.js';
import { embeddingRow } from './embedding.js';
import { resolveLayers } from './selection.js';
import { computeStats, type TensorStats } from './tensor-stats.js';

/**
 * Anomaly rules of the per-layer table (heuristics that point at rows worth a look, not verdicts):
 * - `swiglu-mean`: the SwiGLU product silu(gate)·up has a mean that is both sizeable and not chance:
 *   |mean| > 0.05·RMS and |mean| > 4 standard errors (4·std/√n, n = its width). The first part is
 *   the seed notes' scale (Q4_0 layer 21: 0.015373 against RMS 0.181741, 8%); the second keeps
 *   narrow layers quiet, whose means wander by rms/√n (±3.6% of the RMS at n = 768) by chance alone.
 *   On the seed's tables it flags exactly the row they flag.
 * - `growth`: a layer after the first more than doubles the residual stream's RMS (output RMS >
 *   2 × input RMS; the fixtures' layers grow 1.2–1.6×). Layer 0 is exempt: its input is the raw
 *   embedding row, whose scale is the model's choice (×20–30 in the TinyStories and KJV fixtures).
 * - `non-finite`: NaN or ±Inf in the layer's output or in its SwiGLU product.
 */
export const ANOMALY_RULES = { swigluMeanRatio: 0.05, swigluMeanSigmas: 4, growthRatio: 2 } as const;

export type Anomaly = 'swiglu-mean' | 'growth' | 'non-finite';

export const ANOMALY_LEGEND: Readonly<Record<Anomaly, string>> = {
  'swiglu-mean': `|SwiGLU mean| > ${ANOMALY_RULES.swigluMeanRatio}·SwiGLU RMS and > ${ANOMALY_RULES.swigluMeanSigmas}·std/√n`,
  growth: `layer ≥ 1 with output RMS > ${ANOMALY_RULES.growthRatio}× input RMS`,
  'non-finite': 'NaN or Inf in l_out or ffn_gate_par',
};

/** One row of the seed notes' tables: a layer at a position. */
export interface LayerRow {
  layer: number;
  pos: number;
  /** RMS of the layer's input: l_out of layer N−1, or for layer 0 the token's embedding row */
  inputRms: number;
  /** RMS and mean of the layer's output `l_out-N` */
  outputRms: number;
  mean: number;
  /** RMS and mean of the SwiGLU product `ffn_gate_par-N` */
  swigluRms: number;
  swigluMean: number;
  anomalies: Anomaly[];
}

/** The taps and layers the table needs for `layers`: l_out of the layer before each one too. */
export function layerTableLayers(layers: readonly number[]): number[] {
  return [...new Set(layers.flatMap((l) => (l > 0 ? [l - 1, l] : [l])))].sort((a, b) => a - b);
}

export function anomaliesOf(layer: number, inputRms: number, out: TensorStats, swiglu: TensorStats): Anomaly[] {
  const found: Anomaly[] = [];
  const m = Math.abs(swiglu.mean);
  const { swigluMeanRatio, swigluMeanSigmas, growthRatio } = ANOMALY_RULES;
  if (m > swigluMeanRatio * swiglu.rms && m > (swigluMeanSigmas * swiglu.std) / Math.sqrt(swiglu.finite)) found.push('swiglu-mean');
  if (layer > 0 && out.rms > growthRatio * inputRms) found.push('growth');
  if (out.nan + out.inf + swiglu.nan + swiglu.inf > 0) found.push('non-finite');
  return found;
}

/** Table rows for `layers` × the result's positions, from a result holding l_out and ffn_gate_par. */
export function layerRows(model: Model, result: StatsResult, layers: readonly number[]): LayerRow[] {
  const need = (name: 'l_out' | 'ffn_gate_par', layer: number, pos: number): TensorStats => {
    const s = result.get(name, layer, pos);
    if (!s) throw new QuantscopeError('invalid_argument', `the statistics hold no ${name}-${layer} at position ${pos}`);
    return s;
  };
  const rows: LayerRow[] = [];
  for (const pos of result.positions) {
    for (const layer of layers) {
      const inputRms = layer === 0 ? computeStats(embeddingRow(model, result.tokenAt(pos))).rms : need('l_out', layer - 1, pos).rms;
      const out = need('l_out', layer, pos);
      const swiglu = need('ffn_gate_par', layer, pos);
      rows.push({
        layer, pos, inputRms, outputRms: out.rms, mean: out.mean, swigluRms: swiglu.rms, swigluMean: swiglu.mean,
        anomalies: anomaliesOf(layer, inputRms, out, swiglu),
      });
    }
  }
  return rows;
}

export interface LayerTableOptions {
  layers?: readonly number[] | 'all';
  positions?: 'last' | 'all' | readonly number[];
}

/** Evaluate `tokens` and build the per-layer table (collecting only l_out and ffn_gate_par). */
export function collectLayerTable(session: Session, tokens: readonly number[], opts: LayerTableOptions = {}): { result: StatsResult; rows: LayerRow[] } {
  const model = session.model;
  const layers = resolveLayers(opts.layers ?? 'all', model.config.nLayer);
  const result = collectStats(session, tokens, {
    taps: ['l_out', 'ffn_gate_par'], layers: layerTableLayers(layers), positions: opts.positions,
  });
  return { result, rows: layerRows(model, result, layers) };
}
