import type { LayerRow, Anomaly } from './layer-table.js';
import { ANOMALY_LEGEND } from './layer-table.js';
import type { TapStatsEntry } from './collect.js';
import type { TokenInfo } from './tokens.js';

/** Six decimals like the seed notes' tables; exponent form for very large magnitudes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e6 ? x.toExponential(5) : x.toFixed(6);
}

const quote = (text: string) => JSON.stringify(text);
const pad = (s: string, w: number) => s.padStart(w);

/** `next token: id 4033 "," logit 10.447296 rank 1 prob 0.595825` */
export function formatToken(label: string, t: TokenInfo): string {
  const prob = t.prob !== 0 && t.prob < 1e-4 ? t.prob.toExponential(3) : fmt(t.prob);
  return `${label}: id ${t.id} ${quote(t.text)} logit ${fmt(t.logit)} rank ${t.rank} prob ${prob}\n`;
}

export function formatPositionHeader(pos: number, id: number, text: string): string {
  return `position ${pos} (token ${id} ${quote(text)})\n`;
}

const LAYER_COLUMNS = ['layer', 'input RMS', 'output RMS', 'mean', 'SwiGLU RMS', 'SwiGLU mean'] as const;
const W = 13;

/** The seed notes' per-layer table for one position, ⚠ marking anomalous rows. */
export function formatLayerRows(rows: readonly LayerRow[]): string {
  let s = pad(LAYER_COLUMNS[0], 5) + LAYER_COLUMNS.slice(1).map((c) => pad(c, W)).join('') + '\n';
  for (const r of rows) {
    s += pad(String(r.layer), 5) + [r.inputRms, r.outputRms, r.mean, r.swigluRms, r.swigluMean].map((x) => pad(fmt(x), W)).join('');
    s += r.anomalies.length ? `  ⚠ ${r.anomalies.join(', ')}` : '';
    s += '\n';
  }
  return s;
}

/** One line describing every anomaly rule. */
export function formatLegend(): string {
  return '⚠ ' + (Object.entries(ANOMALY_LEGEND) as Array<[Anomaly, string]>).map(([k, v]) => `${k}: ${v}`).join('; ') + '\n';
}

const TAP_COLUMNS = ['rms', 'mean', 'std', 'min', 'max'] as const;

/** Full statistics, one line per (tap, layer) entry; layer −1 (output taps) shows as "out". */
export function formatTapEntries(entries: readonly TapStatsEntry[]): string {
  const nameW = Math.max(3, ...entries.map((e) => e.name.length));
  let s = 'tap'.padEnd(nameW) + pad('layer', 6) + TAP_COLUMNS.map((c) => pad(c, W)).join('') + pad('absmax@idx', 18) + pad('nan', 6) + pad('inf', 6) + '\n';
  for (const { name, layer, stats: t } of entries) {
    s += name.padEnd(nameW) + pad(layer < 0 ? 'out' : String(layer), 6) +
      [t.rms, t.mean, t.std, t.min, t.max].map((x) => pad(fmt(x), W)).join('') +
      pad(`${fmt(t.absmax)}@${t.absmaxIndex}`, 18) + pad(String(t.nan), 6) + pad(String(t.inf), 6) + '\n';
  }
  return s;
}
