// The compare report as one self-contained HTML page: inline CSS and inline SVG charts, no scripts,
// no external resources (a Content-Security-Policy says so to the browser too), every text escaped.
// Sections: files; next token (ranks across files, KL, top-k, llama.cpp); charts of RMS growth,
// SwiGLU RMS and divergence per layer; per-layer tables with ⚠ marks; greedy continuations.
import { ANOMALY_LEGEND } from '../stats/layer-table.js';
import type { CompareAnomaly, CompareReport, FileComparison, ReferenceColumn } from './report.js';
import { UNSAFE_CHARS, codePointEscape, escapeXml, renderLineChart, seriesStyle, visibleWhitespace, type ChartSeries } from './svg-chart.js';

export interface CompareHtmlOptions {
  /** page title; default `quantscope compare — <the files' common name>` */
  title?: string;
  /** when the report was made, shown as given; default now (UTC) */
  generatedAt?: string;
}

const esc = escapeXml;

/**
 * `x` with `sig` significant digits; exponent form below 1e-3 (tiny KL, means) and from 1e6 up;
 * NaN and ±∞ spelled out.
 */
export function formatNumber(x: number, sig = 5): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return a >= 10 ** sig ? x.toFixed(0) : x.toPrecision(sig);
  const [m, e] = x.toExponential(Math.max(0, sig - 1)).split('e');
  return `${m}e${Number(e)}`;
}

const SPECIAL = new RegExp(`[\\n\\r\\t]|${UNSAFE_CHARS.source}`, 'g');

/** Text with newlines, tabs, control and bidi characters shown as dim `\n`, `\t`, `\x01`, `\u{202E}` marks. */
function visibleHtml(text: string, keepNewlines = false): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(SPECIAL)) {
    const ch = m[0];
    out += esc(text.slice(last, m.index));
    const shown = ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : codePointEscape(ch);
    out += `<span class="esc">${esc(shown)}</span>${keepNewlines && ch === '\n' ? '\n' : ''}`;
    last = m.index + ch.length;
  }
  return out + esc(text.slice(last));
}

/** A token's text in a box (white-space kept, so leading spaces show), with its id in the tooltip. */
function tokenChip(text: string, id?: number): string {
  const title = id === undefined ? '' : ` title="token ${id}"`;
  // a token of nothing but spaces would be an empty-looking box: show its spaces as ␣
  const body = /^ +$/.test(text) ? `<span class="esc">${'␣'.repeat(text.length)}</span>` : visibleHtml(text);
  return `<code class="tok${text === '' ? ' empty' : ''}"${title}>${body}</code>`;
}

/**
 * Decimals for a table column: enough for `sig` significant digits on its largest magnitude, so the
 * column lines up on the decimal point; null (use exponent form) when that magnitude is ≥ 1e6.
 */
export function columnDecimals(values: readonly number[], sig = 6): number | null {
  const finite = values.filter(Number.isFinite).map(Math.abs);
  const max = finite.length ? Math.max(...finite) : 0;
  if (max === 0) return sig;
  if (max >= 1e6) return null;
  return Math.max(0, Math.min(9, sig - 1 - Math.floor(Math.log10(max))));
}

function fixed(x: number, decimals: number | null): string {
  if (!Number.isFinite(x) || decimals === null) return formatNumber(x, 6);
  const s = x.toFixed(decimals);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A cosine near 1 with enough decimals to show how far from 1 it is (two significant digits of 1 − cos). */
export function formatCosine(cos: number): string {
  if (!Number.isFinite(cos)) return formatNumber(cos);
  const d = Math.abs(1 - cos);
  const decimals = d > 0 ? Math.max(6, Math.min(12, Math.ceil(-Math.log10(d)) + 1)) : 6;
  return cos.toFixed(decimals);
}

/** Display names: the file name, or the path where two files share a name (and `#i` if even that repeats). */
export function fileDisplayNames(report: CompareReport): string[] {
  const names = report.files.map((f) => f.file.name);
  const paths = report.files.map((f) => f.file.path);
  const count = <T>(xs: T[], x: T) => xs.filter((y) => y === x).length;
  return report.files.map((_, i) => {
    if (count(names, names[i]) === 1) return names[i]!;
    if (count(paths, paths[i]) === 1) return paths[i]!;
    return `${names[i]} #${i}`;
  });
}

function commonStem(names: readonly string[]): string {
  if (names.length === 0) return '';
  let prefix = names[0]!;
  for (const n of names.slice(1)) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.replace(/[-._ ]+$/, '');
  return prefix.length >= 3 ? prefix : '';
}

function defaultDate(): string {
  return new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** `0–21` or `0, 5, 10–12`. */
function layerRanges(layers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < layers.length; ) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j]! + 1) j++;
    parts.push(j > i + 1 ? `${layers[i]}–${layers[j]}` : j === i + 1 ? `${layers[i]}, ${layers[j]}` : String(layers[i]));
    i = j + 1;
  }
  return parts.join(', ');
}

interface Ctx {
  r: CompareReport;
  names: string[];
  colors: string[];
  /** (file, layer|null) → the anomalies there, merged from LayerRow.anomalies and report.anomalies */
  marks: Map<string, { rule: string; detail: string }[]>;
}

const markKey = (file: number, layer: number | null) => `${file}:${layer === null ? 'file' : layer}`;
const anchorId = (file: number, layer: number | null) => `anom-${file}-${layer === null ? 'file' : layer}`;

function collectMarks(r: CompareReport): Map<string, { rule: string; detail: string }[]> {
  const marks = new Map<string, { rule: string; detail: string }[]>();
  const add = (file: number, layer: number | null, rule: string, detail: string) => {
    const key = markKey(file, layer);
    const list = marks.get(key) ?? [];
    const same = list.find((m) => m.rule === rule);
    if (same) {
      if (detail && !same.detail.includes(detail)) same.detail = same.detail ? `${same.detail}; ${detail}` : detail;
    } else list.push({ rule, detail });
    marks.set(key, list);
  };
  r.files.forEach((f, i) => {
    for (const row of f.layers) for (const rule of row.anomalies) add(i, row.layer, rule, '');
  });
  for (const a of r.anomalies as CompareAnomaly[]) add(a.file, a.layer, a.rule, a.detail);
  return marks;
}

const ruleText = (r: CompareReport, rule: string) => r.anomalyRules[rule] ?? (ANOMALY_LEGEND as Record<string, string>)[rule] ?? '';

function warnLink(c: Ctx, file: number, layer: number | null, showRules = true): string {
  const list = c.marks.get(markKey(file, layer));
  if (!list?.length) return '';
  const title = list.map((m) => `${m.rule}: ${ruleText(c.r, m.rule)}${m.detail ? ` — ${m.detail}` : ''}`).join('\n');
  const rules = showRules ? ` ${list.map((m) => esc(m.rule)).join(', ')}` : '';
  return `<a class="warn" href="#${anchorId(file, layer)}" title="${esc(title)}">⚠${rules}</a>`;
}

function swatch(c: Ctx, i: number): string {
  return `<i class="sw" style="background:${c.colors[i]}"></i>`;
}

function fileCell(c: Ctx, i: number): string {
  const base = i === c.r.baseIndex ? ' <span class="badge">base</span>' : '';
  return `${swatch(c, i)}<span class="fname">${visibleHtml(c.names[i]!)}</span>${base}`;
}

// ---------------------------------------------------------------------------------------------
// sections

function header(c: Ctx, title: string, date: string): string {
  const { r } = c;
  const base = r.files[r.baseIndex];
  const prompt = r.prompt === '' ? '<span class="muted">(empty)</span>' : visibleHtml(r.prompt, true);
  const tokens = r.tokens.map((t) => `<span class="ptok"><span class="tid">${t.id}</span>${tokenChip(t.text, t.id)}</span>`).join(' ');
  return `<header>
<h1>${esc(title)}</h1>
<p class="sub">quantscope compare · ${r.files.length} files · ${esc(date)}</p>
<dl class="meta">
<dt>Prompt</dt><dd><pre class="prompt">${prompt}</pre></dd>
<dt>Prompt tokens</dt><dd>${r.tokens.length} token${r.tokens.length === 1 ? '' : 's'} (base tokenizer): <span class="ptoks">${tokens}</span></dd>
<dt>Base file</dt><dd>${base ? `${fileCell(c, r.baseIndex)} <span class="muted">(${esc(base.file.format)}; highest precision — divergence and KL are measured against it)</span>` : '—'}</dd>
<dt>Date</dt><dd>${esc(date)}</dd>
<dt>Settings</dt><dd>top-k ${r.topK} · greedy continuation ${r.nPredict} token${r.nPredict === 1 ? '' : 's'} · layers ${esc(layerRanges(r.layers)) || '—'} (${r.layers.length})</dd>
</dl>
</header>`;
}

function filesSection(c: Ctx): string {
  const { r } = c;
  const baseTokens = r.files[r.baseIndex]?.promptTokens ?? [];
  const rows = r.files.map((f, i) => {
    const types = Object.entries(f.file.tensorTypes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([t, n]) => `<span class="tt">${esc(t)}&thinsp;×${n}</span>`).join(' ');
    const same = f.promptTokens.length === baseTokens.length && f.promptTokens.every((t, j) => t === baseTokens[j]);
    const tokens = i === r.baseIndex ? `${f.promptTokens.length}` : `${f.promptTokens.length} ${same ? '<span class="ok" title="same ids as the base file">= base</span>' : '<span class="bad" title="the ids differ from the base file\'s">≠ base</span>'}`;
    return `<tr><td class="num">${i}</td><td title="${esc(f.file.path)}">${fileCell(c, i)}</td><td>${esc(f.file.format)}</td>` +
      `<td class="num">${formatNumber(f.file.weightBytes / 1e6, 4)}</td><td class="num">${formatNumber(f.file.bitsPerWeight, 4)}</td>` +
      `<td class="types">${types}</td><td class="num">${tokens}</td></tr>`;
  }).join('\n');
  return `<section id="files"><h2>1. Files</h2>
<table class="grid"><thead><tr><th>#</th><th>file</th><th>format</th><th title="bytes of tensor data / 10⁶">weights (MB)</th><th title="tensor data bits per weight, over all tensors">bits/weight</th><th>tensor types</th><th>prompt tokens</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>`;
}

function referenceCell(ref: FileComparison['reference']): string {
  if (!ref) return '<td class="muted">—</td>';
  if ('error' in ref) {
    const text = String(ref.error);
    const body = `<span class="err">error:</span> <span class="errtext">${visibleHtml(text, true)}</span>`;
    return text.length > 160 ? `<td class="ref"><details><summary><span class="err">error</span> (${text.length} chars)</summary>${body}</details></td>` : `<td class="ref">${body}</td>`;
  }
  const col = ref as ReferenceColumn;
  const agree = col.nextAgrees ? '<span class="ok">✓ same next token</span>' : '<span class="bad">✗ next token differs</span>';
  const top = col.top.slice(0, 3).map((t) => `${tokenChip(t.text, t.id)}&nbsp;<span class="p">${formatNumber(t.prob, 4)}</span>`).join(' ');
  const kl = col.kl === null ? '' : ` · KL(llama.cpp‖ours) ${formatNumber(col.kl, 4)}`;
  return `<td class="ref">${agree}<br>${top || '<span class="muted">no tokens</span>'}<br><span class="small">${esc(col.engine)}${kl}</span></td>`;
}

function nextSection(c: Ctx): string {
  const { r } = c;
  const withRef = r.files.some((f) => f.reference);
  const rows = r.files.map((f, i) => {
    const a = f.agreement;
    const kl = a ? formatNumber(a.kl, 4) : '<span class="muted">base</span>';
    const overlap = a ? `${Math.round(a.topKOverlap * r.topK)}/${r.topK}` : '<span class="muted">base</span>';
    const same = a ? (a.sameTop1 ? '<span class="ok">✓</span>' : '<span class="bad">✗</span>') : '<span class="muted">base</span>';
    return `<tr><td>${fileCell(c, i)} ${warnLink(c, i, null)}</td><td class="num">${f.next.id}</td><td>${tokenChip(f.next.text, f.next.id)}</td>` +
      `<td class="num">${formatNumber(f.next.logit, 6)}</td><td class="num">${formatNumber(f.next.prob, 4)}</td>` +
      `<td class="num">${kl}</td><td class="num">${overlap}</td><td class="c">${same}</td>${withRef ? referenceCell(f.reference) : ''}</tr>`;
  }).join('\n');

  const rankClass = (rank: number) => (rank === 1 ? 'r1' : rank <= r.topK ? 'rk' : 'rx');
  const matrix = r.files.map((f, i) => `<tr><th class="rowh">${fileCell(c, i)}<br>${tokenChip(f.next.text, f.next.id)}</th>${r.files.map((_, j) => {
    const rank = j === i ? f.next.rank : f.next.rankIn[j];
    return rank === undefined ? '<td class="muted">—</td>' : `<td class="num ${rankClass(rank)}${j === i ? ' self' : ''}">${rank}</td>`;
  }).join('')}</tr>`).join('\n');

  const kShown = Math.min(r.topK, 20);
  const topRows: string[] = [];
  for (let k = 0; k < kShown; k++) {
    topRows.push(`<tr><td class="num">${k + 1}</td>${r.files.map((f) => {
      const t = f.next.top[k];
      return t ? `<td class="topcell">${tokenChip(t.text, t.id)} <span class="p">${formatNumber(t.prob, 4)}</span></td>` : '<td></td>';
    }).join('')}</tr>`);
  }
  const fileHeads = r.files.map((_, i) => `<th>${fileCell(c, i)}</th>`).join('');

  return `<section id="next"><h2>2. Next token</h2>
<p class="note">The token each file puts first after the prompt (greedy), its logit and softmax probability; KL(base ‖ file) in nats over the whole vocabulary; the share of the base file's top-${r.topK} in the file's top-${r.topK}.</p>
<div class="scroll"><table class="grid">
<thead><tr><th>file</th><th>id</th><th>token</th><th>logit</th><th>prob</th><th>KL vs base</th><th>top-${r.topK} overlap</th><th>same top-1</th>${withRef ? '<th>llama.cpp</th>' : ''}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
<h3>Rank of each file's next token in every file's distribution</h3>
<p class="note">Row: a file's next token; column: the file whose distribution ranks it (1 = its top token; equal logits share a rank).</p>
<div class="scroll"><table class="grid matrix">
<thead><tr><th>next token of ↓ / rank in →</th>${fileHeads}</tr></thead>
<tbody>
${matrix}
</tbody></table></div>
<h3>Top-${r.topK} per file</h3>
<div class="scroll"><table class="grid topk">
<thead><tr><th>rank</th>${fileHeads}</tr></thead>
<tbody>
${topRows.join('\n')}
</tbody></table></div>${kShown < r.topK ? `<p class="note">First ${kShown} of ${r.topK} shown.</p>` : ''}
</section>`;
}

function chartsSection(c: Ctx): string {
  const { r, names, colors } = c;
  const styleOf = (i: number) => ({ ...seriesStyle(i), color: colors[i]!, lineWidth: i === r.baseIndex ? 4 : 2 });
  const perFile = (pick: (row: FileComparison['layers'][number]) => number): ChartSeries[] =>
    r.files.map((f, i) => ({ name: names[i]!, points: f.layers.map((row) => ({ x: row.layer, y: pick(row) })), ...styleOf(i) }));
  const others = r.files.map((_, i) => i).filter((i) => i !== r.baseIndex);
  const perOther = (pick: (d: FileComparison['divergence'][number]) => number): ChartSeries[] =>
    others.map((i) => ({ name: names[i]!, points: r.files[i]!.divergence.map((d) => ({ x: d.layer, y: pick(d) })), ...styleOf(i) }));
  const baseName = names[r.baseIndex] ?? 'base';

  const charts = [
    renderLineChart({
      id: 'chart-rms', title: 'Residual stream RMS per layer (l_out)', xLabel: 'layer', yLabel: 'output RMS', logY: true,
      series: perFile((row) => row.outputRms),
    }),
    renderLineChart({
      id: 'chart-swiglu', title: 'SwiGLU RMS per layer (ffn_gate_par)', xLabel: 'layer', yLabel: 'SwiGLU RMS', logY: 'auto',
      series: perFile((row) => row.swigluRms),
    }),
    renderLineChart({
      id: 'chart-divergence', title: `Divergence from the base: ‖h − h_base‖ / ‖h_base‖`, xLabel: 'layer', yLabel: 'relative RMS error', logY: 'auto',
      series: perOther((d) => d.relRms), emptyText: 'no file besides the base',
    }),
    renderLineChart({
      id: 'chart-cosine', title: 'Divergence from the base: cosine distance 1 − cos∠(h, h_base)', xLabel: 'layer', yLabel: '1 − cosine', logY: 'auto',
      series: perOther((d) => 1 - d.cosine), emptyText: 'no file besides the base', formatY: (y) => `${formatNumber(y, 4)} (cos ${formatNumber(1 - y, 7)})`,
    }),
  ];

  let divTable = '';
  if (others.length > 0 && r.layers.length > 0) {
    const heads = others.map((i) => `<th colspan="2">${fileCell(c, i)}</th>`).join('');
    const sub = others.map(() => '<th>rel. RMS</th><th>cos</th>').join('');
    const rows = r.layers.map((layer) => `<tr><td class="num">${layer}</td>${others.map((i) => {
      const d = r.files[i]!.divergence.find((x) => x.layer === layer);
      const jump = c.marks.get(markKey(i, layer))?.some((m) => m.rule === 'divergence-jump');
      return d ? `<td class="num${jump ? ' hl' : ''}">${formatNumber(d.relRms, 4)}${jump ? ` ${warnLink(c, i, layer, false)}` : ''}</td><td class="num">${formatCosine(d.cosine)}</td>` : '<td></td><td></td>';
    }).join('')}</tr>`).join('\n');
    divTable = `<h3>Divergence from ${visibleHtml(baseName)} at l_out (last prompt position)</h3>
<div class="scroll"><table class="grid div">
<thead><tr><th rowspan="2">layer</th>${heads}</tr><tr>${sub}</tr></thead>
<tbody>
${rows}
</tbody></table></div>`;
  }

  return `<section id="charts"><h2>3. Layer by layer</h2>
<p class="note">At the prompt's last position. Hover a point for its value. Lines break where a value is not finite (the chart says which).</p>
<div class="charts">
${charts.map((svg) => `<figure class="chart">${svg}</figure>`).join('\n')}
</div>
${divTable}
</section>`;
}

function layersSection(c: Ctx): string {
  const { r } = c;
  const cols: Array<[string, keyof FileComparison['layers'][number]]> = [
    ['input RMS', 'inputRms'], ['output RMS', 'outputRms'], ['mean', 'mean'], ['SwiGLU RMS', 'swigluRms'], ['SwiGLU mean', 'swigluMean'],
  ];
  // the cell a rule points at
  const hot: Record<string, ReadonlyArray<string>> = {
    'swiglu-mean': ['swigluMean'], growth: ['inputRms', 'outputRms'], 'non-finite': ['outputRms', 'swigluRms', 'swigluMean'],
  };
  const decimals = new Map(cols.map(([, key]) => [key, columnDecimals(r.files.flatMap((f) => f.layers.map((row) => row[key] as number)))]));
  const tables = r.files.map((f, i) => {
    const rows = f.layers.map((row) => {
      const list = c.marks.get(markKey(i, row.layer)) ?? [];
      const hotCols = new Set(list.flatMap((m) => hot[m.rule] ?? []));
      const cells = cols.map(([, key]) => {
        const v = row[key] as number;
        return `<td class="num${hotCols.has(key) ? ' hl' : ''}${Number.isFinite(v) ? '' : ' bad'}">${fixed(v, decimals.get(key) ?? null)}</td>`;
      }).join('');
      return `<tr${list.length ? ' class="flag"' : ''}><td class="num">${row.layer}</td>${cells}<td class="w">${warnLink(c, i, row.layer)}</td></tr>`;
    }).join('\n');
    const first = f.layers[0];
    const last = f.layers[f.layers.length - 1];
    const growth = first && last && first.inputRms !== 0
      ? `<tfoot><tr><td colspan="7" class="small">×growth ${formatNumber(last.outputRms / first.inputRms, 4)}: output RMS of layer ${last.layer} / input RMS of layer ${first.layer}; l_out ×${formatNumber(last.outputRms / first.outputRms, 4)} from layer ${first.layer} to ${last.layer}</td></tr></tfoot>`
      : '';
    return `<div class="ltable"><table class="grid layers">
<caption>${fileCell(c, i)} <span class="muted">${esc(f.file.format)}</span></caption>
<thead><tr><th>layer</th>${cols.map(([h]) => `<th>${h}</th>`).join('')}<th>⚠</th></tr></thead>
<tbody>
${rows}
</tbody>${growth}</table></div>`;
  }).join('\n');

  const legend = Object.entries({ ...ANOMALY_LEGEND, ...r.anomalyRules })
    .map(([k, v]) => `<dt><code>${esc(k)}</code></dt><dd>${esc(v)}</dd>`).join('\n');

  const notes = [...c.marks.entries()].map(([key, list]) => {
    const [fs, ls] = key.split(':');
    const file = Number(fs);
    const layer = ls === 'file' ? null : Number(ls);
    return { file, layer, list };
  }).sort((a, b) => a.file - b.file || (a.layer ?? -1) - (b.layer ?? -1))
    .map(({ file, layer, list }) => `<li id="${anchorId(file, layer)}">⚠ ${fileCell(c, file)} ${layer === null ? '<span class="muted">(file)</span>' : `layer ${layer}`}: ${list.map((m) =>
      `<code>${esc(m.rule)}</code> — ${esc(ruleText(r, m.rule))}${m.detail ? ` <span class="detail">(${visibleHtml(m.detail)})</span>` : ''}`).join('; ')}</li>`).join('\n');

  return `<section id="layers"><h2>4. Per-layer tables</h2>
<p class="note">Input RMS: the token embedding for layer 0, l_out of the layer before otherwise. Output: l_out. SwiGLU: ffn_gate_par = silu(gate)·up. Each column has the same decimals in every file: six significant digits of its largest value. ⚠ marks rows a rule flags (hover for the rule and the numbers, click for the note).</p>
<div class="ltables">
${tables}
</div>
<h3>⚠ Anomaly rules</h3>
<dl class="rules">
${legend}
</dl>
<h3>⚠ Marks (${c.marks.size})</h3>
${notes ? `<ol class="anoms">\n${notes}\n</ol>` : '<p class="muted">none</p>'}
</section>`;
}

/** Token pieces; before `partsAt` plain, at it highlighted, after it dimmed. */
function tokenStream(pieces: readonly string[], ids: readonly number[], partsAt: number | null): string {
  return pieces.map((p, j) => {
    const cls = partsAt === null || j < partsAt ? 's' : j === partsAt ? 'd' : 'a';
    const title = `token ${j}: id ${ids[j] ?? '?'}${j === partsAt ? ' — first to differ' : ''}`;
    return `<span class="t ${cls} t${j % 2}" title="${esc(title)}">${visibleHtml(p, true)}</span>`;
  }).join('');
}

function continuationsSection(c: Ctx): string {
  const { r } = c;
  if (r.nPredict === 0 || r.files.every((f) => !f.continuation)) {
    return `<section id="continuations"><h2>5. Greedy continuations</h2><p class="muted">None asked for (n-predict 0).</p></section>`;
  }
  const blocks = r.files.map((f, i) => {
    const cont = f.continuation;
    if (!cont) return `<div class="cont"><div class="conthead">${fileCell(c, i)}</div><p class="muted">none</p></div>`;
    const status = i === r.baseIndex ? '<span class="muted">the base</span>'
      : cont.partsAt === null ? '<span class="ok">✓ same as the base</span>'
        : `<span class="bad">parts from the base at token ${cont.partsAt}</span>`;
    let ref = '';
    const rc = f.reference;
    if (rc && 'error' in rc) ref = `<div class="refline"><span class="lbl">llama.cpp</span> <span class="muted">unavailable (see the next-token table)</span></div>`;
    else if (rc) {
      const k = rc.greedyPartsAt;
      const prefix = k === null ? rc.greedyText : cont.pieces.slice(0, k).join('');
      let body: string;
      if (k === null) body = `<span class="t s">${visibleHtml(rc.greedyText, true)}</span>`;
      else if (rc.greedyText.startsWith(prefix)) {
        body = `<span class="t s">${visibleHtml(prefix, true)}</span><span class="t d" title="from token ${k} on, llama.cpp's tokens differ from ours">${visibleHtml(rc.greedyText.slice(prefix.length), true)}</span>`;
      } else body = `<span class="t a">${visibleHtml(rc.greedyText, true)}</span>`;
      const st = k === null ? '<span class="ok">✓ same as ours</span>' : `<span class="bad">parts from ours at token ${k}</span>`;
      ref = `<div class="refline"><span class="lbl">llama.cpp</span> ${st}<div class="stream">${body}</div></div>`;
    }
    return `<div class="cont"><div class="conthead">${fileCell(c, i)} ${status}</div><div class="stream">${tokenStream(cont.pieces, cont.ids, i === r.baseIndex ? null : cont.partsAt)}</div>${ref}</div>`;
  }).join('\n');
  return `<section id="continuations"><h2>5. Greedy continuations (${r.nPredict} tokens)</h2>
<p class="note">After the prompt. <span class="t d">Highlighted</span>: the first token that differs from the base file's; <span class="t a">dimmed</span>: what follows it. Hover a token for its index and id.</p>
${blocks}
</section>`;
}

const CSS = `
:root{color-scheme:light;--fg:#1d2127;--muted:#6b7280;--line:#dfe2e6;--head:#f5f6f8;--ok:#1a7f37;--bad:#b42318;--hl:#fff3c4}
*{box-sizing:border-box}
body{margin:0;padding:24px 28px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff;max-width:1400px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:20px 0 6px}
.sub{color:var(--muted);margin:0 0 12px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;min-width:0}
pre.prompt{margin:0;white-space:pre-wrap;word-break:break-word;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f7f7f9;border:1px solid var(--line);border-radius:4px;padding:6px 8px}
.ptoks{line-height:2}.ptok{white-space:nowrap}.tid{color:var(--muted);font-size:11px;margin-right:2px}
table.grid{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:4px 0}
table.grid th,table.grid td{border:1px solid var(--line);padding:3px 8px;vertical-align:top;text-align:left}
table.grid th{background:var(--head);font-weight:600;font-size:13px}
table.grid td.num,table.grid th.num{text-align:right;white-space:nowrap}table.grid td.c{text-align:center}
td.types{max-width:420px}.tt{white-space:nowrap;font-size:12px;color:#374151}
.scroll{overflow-x:auto;max-width:100%}
code.tok{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre;background:#f1f3f5;border:1px solid #d9dde2;border-radius:3px;padding:0 3px;display:inline-block;min-width:1.2em;line-height:1.35}
code.tok.empty::after{content:"∅";color:var(--muted)}
.esc{color:#8a5a00;background:#fff1d6;border-radius:2px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:baseline}
.fname{word-break:break-all}
.badge{font-size:11px;background:#e8eefc;color:#2447a8;border-radius:8px;padding:0 6px;margin-left:4px;white-space:nowrap}
.muted{color:var(--muted)}.small{font-size:12px;color:var(--muted)}.note{color:var(--muted);font-size:13px;margin:4px 0 8px;max-width:900px}
.ok{color:var(--ok)}.bad{color:var(--bad)}.err{color:var(--bad);font-weight:600}.errtext{white-space:pre-wrap;word-break:break-word}
td.ref{min-width:220px;max-width:380px}.p{color:var(--muted);font-size:12px}
a.warn{color:#b54708;text-decoration:none;white-space:nowrap;font-weight:600}a.warn:hover{text-decoration:underline}
table.grid.matrix td{text-align:center}th.rowh{font-weight:normal}td.r1{color:var(--ok);font-weight:600}td.rk{color:#8a5a00}td.rx{color:var(--bad)}td.self{background:#f3f4f6}
td.topcell{white-space:nowrap}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px;background:#fff;break-inside:avoid}
figure.chart svg{display:block;width:100%;height:auto}
.ltables{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.ltable{overflow-x:auto;max-width:100%}
table.layers{font-size:12.5px}table.layers th,table.layers td{padding:2px 6px}table.layers th{font-size:12px}
table.layers caption{text-align:left;font-weight:600;padding:4px 0;font-size:13.5px}
table.layers td.w{white-space:nowrap;min-width:2em;font-size:11.5px}
tr.flag td{background:#fffaeb}td.hl{background:var(--hl)!important;font-weight:600}
dl.rules{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dl.rules dd{margin:0}
ol.anoms{padding-left:22px}ol.anoms li{margin:2px 0}ol.anoms li:target{background:var(--hl)}.detail{color:#374151}
.cont{margin:10px 0;padding:8px 10px;border:1px solid var(--line);border-radius:6px}
.conthead{margin-bottom:4px}
.stream{font:13px/1.6 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
.t.t1{background:#f6f7f9}.t.d{background:#ffd8a8;outline:1px solid #e8590c;border-radius:2px;font-weight:600}.t.a{color:#6b7280}
.refline{margin-top:6px;padding-top:6px;border-top:1px dashed var(--line)}.lbl{font-size:12px;font-weight:600;color:#374151}
footer{margin-top:36px;color:var(--muted);font-size:12px}
@media print{body{padding:0}.scroll{overflow:visible}}
`;

/** The report as a self-contained HTML page. */
export function renderCompareHtml(report: CompareReport, opts: CompareHtmlOptions = {}): string {
  const names = fileDisplayNames(report);
  const c: Ctx = {
    r: report,
    names,
    colors: report.files.map((_, i) => seriesStyle(i).color),
    marks: collectMarks(report),
  };
  const stem = commonStem(report.files.map((f) => f.file.name));
  const title = opts.title ?? (stem ? `quantscope compare — ${stem}` : 'quantscope compare');
  const date = opts.generatedAt ?? defaultDate();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="quantscope compare (report schema ${Number(report.schema)})">
<title>${esc(visibleWhitespace(title))}</title>
<style>${CSS}</style>
</head>
<body>
${header(c, visibleWhitespace(title), date)}
${filesSection(c)}
${nextSection(c)}
${chartsSection(c)}
${layersSection(c)}
${continuationsSection(c)}
<footer>Generated by quantscope compare · report schema ${Number(report.schema)} · self-contained: no scripts, no external resources.</footer>
</body>
</html>
`;
}
