// The compare report as a document of titled sections (tables and lines), built once and rendered
// as terminal text or Markdown, so both show the same numbers.
import { fmt } from '../stats/format.js';
import type { CompareReport, FileComparison } from './report.js';

export interface Table {
  headers: string[];
  rows: string[][];
  /** per column: right-align numbers (default: first column left, the rest right) */
  align?: Array<'left' | 'right'>;
}

export interface Section {
  title: string;
  /** paragraphs before the table */
  lines?: string[];
  /** a bulleted list before the table */
  items?: string[];
  table?: Table;
  /** lines after the table (footnotes) */
  notes?: string[];
}

/** Token text made visible: quotes, with newlines and tabs escaped. */
export const showText = (t: string) => JSON.stringify(t);

/** 4 significant digits; exponent form below 1e-4. */
export function sig(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-4) return x.toExponential(2);
  return x.toPrecision(4);
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

/** Column labels: the format name, or the file name where two files share a format. */
export function fileLabels(r: CompareReport): string[] {
  const formats = r.files.map((f) => f.file.format);
  return r.files.map((f, i) => (formats.indexOf(f.file.format) === formats.lastIndexOf(f.file.format) ? formats[i] : f.file.name));
}

const mark = (r: CompareReport, i: number, layer: number | null) =>
  r.anomalies.some((a) => a.file === i && a.layer === layer) ? ' ⚠' : '';

export function buildDocument(r: CompareReport): Section[] {
  const labels = fileLabels(r);
  const base = r.files[r.baseIndex];
  const sections: Section[] = [];
  const promptLine = `prompt ${showText(r.prompt)}: ${r.tokens.length} token${r.tokens.length === 1 ? '' : 's'} ` +
    r.tokens.map((t) => `${t.id} ${showText(t.text)}`).join(', ');

  sections.push({
    title: 'Files',
    lines: [promptLine, `base (highest precision; divergence and KL are measured against it): ${base.file.name}`],
    table: {
      headers: ['#', 'file', 'format', 'MB', 'bits/weight', 'tensor types'],
      rows: r.files.map((f, i) => [String(i), f.file.name + (i === r.baseIndex ? ' (base)' : ''), f.file.format, mb(f.file.weightBytes),
        f.file.bitsPerWeight.toFixed(2), Object.entries(f.file.tensorTypes).map(([t, n]) => `${t}×${n}`).join(' ')]),
      align: ['right', 'left', 'left', 'right', 'right', 'left'],
    },
  });

  const withRef = r.files.some((f) => f.reference);
  sections.push({
    title: 'Next token',
    table: {
      headers: ['file', 'id', 'text', 'logit', 'prob', `rank in ${labels.join(' / ')}`, 'KL vs base', `top-${r.topK} overlap`, ...(withRef ? ['llama.cpp'] : [])],
      rows: r.files.map((f, i) => [
        labels[i] + mark(r, i, null), String(f.next.id), showText(f.next.text), fmt(f.next.logit), sig(f.next.prob), f.next.rankIn.join(' / '),
        f.agreement ? sig(f.agreement.kl) : 'base', f.agreement ? `${Math.round(f.agreement.topKOverlap * r.topK)}/${r.topK}` : 'base',
        ...(withRef ? [referenceCell(f)] : []),
      ]),
      align: ['left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
    },
    notes: ['rank: 1 + the number of tokens the file scores higher; KL(base ‖ file) in nats over the whole vocabulary'],
  });

  const metric = (title: string, pick: (row: FileComparison['layers'][number]) => number, footer: string[][] = []): Section => ({
    title,
    table: {
      headers: ['layer', ...labels],
      rows: [...r.layers.map((layer, j) => [String(layer), ...r.files.map((f) => fmt(pick(f.layers[j])) + (f.layers[j].anomalies.length ? ' ⚠' : ''))]), ...footer],
    },
  });
  const first = r.layers[0];
  const last = r.layers[r.layers.length - 1];
  const growth = ['×growth', ...r.files.map((f) => (f.layers.length ? `×${sig(f.layers[f.layers.length - 1].outputRms / f.layers[0].inputRms)}` : ''))];
  sections.push(metric('Input RMS (layer 0: the token embedding; layer N: l_out-(N−1))', (x) => x.inputRms));
  sections.push({
    ...metric('Output RMS (l_out)', (x) => x.outputRms, [growth]),
    notes: [`×growth: output RMS of layer ${last} / input RMS of layer ${first}`],
  });
  sections.push(metric('Output mean (l_out)', (x) => x.mean));
  sections.push(metric('SwiGLU RMS (ffn_gate_par)', (x) => x.swigluRms));
  sections.push(metric('SwiGLU mean (ffn_gate_par)', (x) => x.swigluMean));

  const others = r.files.map((f, i) => i).filter((i) => i !== r.baseIndex);
  const divergence = (title: string, pick: (d: FileComparison['divergence'][number]) => string) => ({
    title,
    table: {
      headers: ['layer', ...others.map((i) => labels[i])],
      rows: r.layers.map((layer, j) => [String(layer), ...others.map((i) => pick(r.files[i].divergence[j]) +
        (r.anomalies.some((a) => a.file === i && a.layer === layer && a.rule === 'divergence-jump') ? ' ⚠' : ''))]),
    },
  });
  sections.push(divergence(`Divergence from ${labels[r.baseIndex]}: relative RMS error of l_out, ‖h − h_base‖ / ‖h_base‖`, (d) => sig(d.relRms)));
  sections.push(divergence(`Divergence from ${labels[r.baseIndex]}: cosine similarity of l_out`, (d) => d.cosine.toFixed(6)));

  if (r.nPredict > 0) {
    sections.push({
      title: `Greedy continuation (${r.nPredict} tokens)`,
      table: {
        headers: ['file', 'parts from base at', 'text', ...(withRef ? ['llama.cpp parts at'] : [])],
        rows: r.files.map((f, i) => [labels[i], i === r.baseIndex ? 'base' : partsAt(f.continuation?.partsAt ?? null), showText(f.continuation?.text ?? ''),
          ...(withRef ? [f.reference && !('error' in f.reference) ? partsAt(f.reference.greedyPartsAt) : '—'] : [])]),
        align: ['left', 'right', 'left', 'right'],
      },
      notes: ['parts at: index of the first token that differs (0 = the first generated token); — = never'],
    });
  }

  sections.push({
    title: '⚠ Anomalies',
    items: r.anomalies.length === 0 ? ['none'] : r.anomalies.map((a) => `${labels[a.file]}${a.layer === null ? '' : ` layer ${a.layer}`}: ${a.rule} — ${a.detail}`),
    notes: Object.entries(r.anomalyRules).map(([k, v]) => `${k}: ${v}`),
  });
  return sections;
}

const partsAt = (j: number | null) => (j === null ? '—' : String(j));

function referenceCell(f: FileComparison): string {
  const ref = f.reference;
  if (!ref) return '';
  if ('error' in ref) return `error: ${ref.error}`;
  const t = ref.top[0];
  return `${t ? `${t.id} ${showText(t.text)} p=${sig(t.prob)}` : '?'} ${ref.nextAgrees ? '✓' : '✗ differs'}${ref.kl === null ? '' : ` KL ${sig(ref.kl)}`}`;
}
