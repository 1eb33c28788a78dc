// A small, dependency-free SVG line chart for self-contained HTML reports: named series of (x, y)
// points, axes with ticks and labels, an optional log-scale y axis, a legend, distinct colours and
// marker shapes, and a note naming every point that could not be plotted (NaN, ±Inf, or ≤ 0 on a
// log axis). Everything is drawn in absolute coordinates (no transforms, no scripts, no fonts to
// load), and every piece of text is escaped.
//
// Structure, for tests and styling: <svg class="qs-chart" data-chart=id> holds <rect class="qs-plot">
// (the plot area), one <g class="qs-series" data-series=name> per series with a <path class="qs-line">
// (absent when no two consecutive points are plottable) and a <path class="qs-pt"> per plotted point,
// <g class="qs-legend"> with <text class="qs-legend-label"> per series, and <text class="qs-note">
// lines for what was left out.

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Code points that must not reach the page raw: C0 controls other than tab/LF/CR, DEL and C1
 * controls, lone surrogates, the noncharacters U+FFFE/U+FFFF, the BOM, and the bidi controls that
 * would reorder the text around them.
 */
export const UNSAFE_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `\x01`, `\u{202E}`: a visible stand-in for a code point. */
export function codePointEscape(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16).toUpperCase()}}`;
}

/**
 * Escape text for HTML or SVG content and for quoted attribute values (`&<>"'`); unsafe code points
 * (see UNSAFE_CHARS) become visible `\xNN` / `\u{…}` escapes.
 */
export function escapeXml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c).replace(UNSAFE_CHARS, codePointEscape);
}

/** Newlines, carriage returns and tabs as `\n`, `\r`, `\t` (for one-line labels); nothing else changes. */
export function visibleWhitespace(text: string): string {
  return String(text).replace(/[\n\r\t]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

/**
 * Fifteen colours that stay apart on white: D3's category10 and five dark tones of category20b.
 * Series beyond the palette reuse its colours with a dashed line (and the marker shapes cycle
 * separately), so up to 30 series are told apart by colour + marker.
 */
export const PALETTE: readonly string[] = [
  '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
  '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173',
];

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down' | 'cross';
export const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross'];

/** The colour, marker and dash the i-th series gets by default. */
export function seriesStyle(i: number): { color: string; marker: MarkerShape; dashed: boolean } {
  const n = PALETTE.length;
  return { color: PALETTE[i % n]!, marker: MARKERS[i % MARKERS.length]!, dashed: Math.floor(i / n) % 2 === 1 };
}

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** defaults to seriesStyle(index) */
  color?: string;
  marker?: MarkerShape;
  dashed?: boolean;
  /** line width; default 2. Wider lines are drawn first, so a wide reference line shows beneath the others */
  lineWidth?: number;
}

export interface LineChartOptions {
  /** used for data-chart and as the prefix of element ids; letters, digits, '-' and '_' */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** log-scale y; 'auto' picks log when every plottable y is > 0 and they span more than 30× */
  logY?: boolean | 'auto';
  /** total width in SVG units (the element scales to its container); default 640 */
  width?: number;
  /** height of the plot area; default 260 */
  plotHeight?: number;
  /** x ticks at integers only (layers); default true */
  integerX?: boolean;
  /** how values read in point tooltips; default 5 significant digits */
  formatY?: (y: number) => string;
  /** shown instead of the plot when no series has a plottable point */
  emptyText?: string;
}

interface Scale {
  toPx(v: number): number;
  ticks: number[];
  minor: number[];
  label(v: number): string;
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const num = (v: number) => String(round2(v));

/** 1, 2, 5 × 10^k steps covering [lo, hi] with about `count` ticks. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  let step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function stepDecimals(ticks: readonly number[]): number {
  if (ticks.length < 2) return 3;
  const step = Math.abs(ticks[1]! - ticks[0]!);
  return Math.max(0, Math.min(12, -Math.floor(Math.log10(step) + 1e-9)));
}

function linearLabel(ticks: readonly number[]): (v: number) => string {
  const big = ticks.some((t) => Math.abs(t) >= 1e6);
  const dec = stepDecimals(ticks);
  if (big || dec > 5) {
    return (v) => {
      if (v === 0) return '0';
      const [m, e] = v.toExponential(3).split('e');
      return `${Number(m)}e${Number(e)}`;
    };
  }
  return (v) => v.toFixed(dec);
}

const SUPERSCRIPT: Readonly<Record<string, string>> = {
  '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
};

/** 10^e: plain for 0.001 … 10000, `10⁻⁵` otherwise; m·10^e for in-between ticks. */
function logLabel(v: number): string {
  const e = Math.floor(Math.log10(v) + 1e-9);
  const m = Math.round(v / 10 ** e);
  if (e >= -3 && e <= 4) return String(Number((m * 10 ** e).toPrecision(3)));
  const p = '10' + String(e).split('').map((c) => SUPERSCRIPT[c] ?? c).join('');
  return m === 1 ? p : `${m}·${p}`;
}

function linearScale(lo: number, hi: number, pxLo: number, pxHi: number, integer: boolean, count: number): Scale {
  if (!(hi > lo)) {
    const pad = integer ? 1 : Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  let ticks = niceTicks(lo, hi, count, integer);
  if (!integer && ticks.length >= 2) {
    // extend the domain to whole ticks, so the grid frames the data
    const step = ticks[1]! - ticks[0]!;
    if (ticks[0]! > lo + step * 1e-9) ticks = [ticks[0]! - step, ...ticks];
    if (ticks[ticks.length - 1]! < hi - step * 1e-9) ticks = [...ticks, ticks[ticks.length - 1]! + step];
    lo = Math.min(lo, ticks[0]!);
    hi = Math.max(hi, ticks[ticks.length - 1]!);
    ticks = ticks.map((t) => Number(t.toPrecision(12)));
  }
  const span = hi - lo;
  return { toPx: (v) => pxLo + ((v - lo) / span) * (pxHi - pxLo), ticks, minor: [], label: linearLabel(ticks) };
}

function logScale(lo: number, hi: number, pxLo: number, pxHi: number): Scale {
  const eLo = Math.floor(Math.log10(lo) + 1e-9);
  let eHi = Math.ceil(Math.log10(hi) - 1e-9);
  if (eHi <= eLo) eHi = eLo + 1;
  const decades = eHi - eLo;
  // labelled decades (every other one, or sparser, past 8); unlabelled 2…9 gridlines up to 4
  // decades; over a single decade, 2 and 5 are labelled too
  const stride = Math.max(1, Math.ceil(decades / 8));
  const ticks: number[] = [];
  const minor: number[] = [];
  for (let e = eLo; e <= eHi; e++) {
    if ((e - eLo) % stride === 0) ticks.push(10 ** e);
    if (e < eHi && decades <= 4) for (let m = 2; m <= 9; m++) (decades === 1 && (m === 2 || m === 5) ? ticks : minor).push(m * 10 ** e);
  }
  ticks.sort((a, b) => a - b);
  return { toPx: (v) => pxLo + ((Math.log10(v) - eLo) / decades) * (pxHi - pxLo), ticks, minor, label: logLabel };
}

/** A marker's path at (x, y). */
function markerPath(shape: MarkerShape, x: number, y: number, r = 3.2): string {
  const [a, b, s] = [num(x), num(y), r];
  switch (shape) {
    case 'circle':
      return `M${num(x - s)} ${b}a${s} ${s} 0 1 0 ${num(2 * s)} 0a${s} ${s} 0 1 0 ${num(-2 * s)} 0Z`;
    case 'square': {
      const h = s * 0.9;
      return `M${num(x - h)} ${num(y - h)}h${num(2 * h)}v${num(2 * h)}h${num(-2 * h)}Z`;
    }
    case 'triangle':
      return `M${a} ${num(y - s * 1.15)}L${num(x + s)} ${num(y + s * 0.75)}L${num(x - s)} ${num(y + s * 0.75)}Z`;
    case 'triangle-down':
      return `M${a} ${num(y + s * 1.15)}L${num(x + s)} ${num(y - s * 0.75)}L${num(x - s)} ${num(y - s * 0.75)}Z`;
    case 'diamond':
      return `M${a} ${num(y - s * 1.2)}L${num(x + s)} ${b}L${a} ${num(y + s * 1.2)}L${num(x - s)} ${b}Z`;
    case 'cross': {
      const h = s * 0.9;
      const w = s * 0.35;
      // a filled × (so fill and bbox behave like the other shapes)
      return `M${num(x - h)} ${num(y - h + w)}l${num(w)} ${num(-w)}l${num(h - w)} ${num(h - w)}l${num(h - w)} ${num(w - h)}l${num(w)} ${num(w)}` +
        `l${num(w - h)} ${num(h - w)}l${num(h - w)} ${num(h - w)}l${num(-w)} ${num(w)}l${num(w - h)} ${num(w - h)}l${num(w - h)} ${num(h - w)}` +
        `l${num(-w)} ${num(-w)}l${num(h - w)} ${num(w - h)}Z`;
    }
  }
}

/** Rough width of a label in 12px system sans-serif (wide for CJK and emoji). */
export function textWidth(text: string, fontSize = 12): number {
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    w += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0x1f300 && cp <= 0x1faff) || cp >= 0x20000) ? 1 : /[ilIj.,:;'|!]/.test(ch) ? 0.3 : /[mwMW@]/.test(ch) ? 0.85 : 0.58;
  }
  return w * fontSize;
}

const defaultFormatY = (y: number) => (Math.abs(y) >= 1e-3 && Math.abs(y) < 1e6 ? String(Number(y.toPrecision(5))) : y.toExponential(4));

function describeValue(y: number): string {
  return Number.isNaN(y) ? 'NaN' : y === Infinity ? '+Inf' : y === -Infinity ? '-Inf' : String(y);
}

/** Wrap `items` into lines of at most `maxChars` characters, joined by '; '. */
function wrapItems(prefix: string, items: readonly string[], maxChars: number, maxLines: number): string[] {
  const lines: string[] = [];
  let cur = prefix;
  let shown = 0;
  for (const item of items) {
    const sep = cur === prefix ? '' : '; ';
    if (cur.length + sep.length + item.length > maxChars && cur !== prefix) {
      if (lines.length + 1 >= maxLines) break;
      lines.push(cur + ';');
      cur = '  ' + item;
    } else cur += sep + item;
    shown++;
  }
  if (shown < items.length) cur += ` … and ${items.length - shown} more`;
  lines.push(cur);
  return lines;
}

/** The chart as an inline <svg> element (scales to its container's width). */
export function renderLineChart(opts: LineChartOptions): string {
  const id = opts.id.replace(/[^A-Za-z0-9_-]/g, '_');
  const W = opts.width ?? 640;
  const plotH = opts.plotHeight ?? 260;
  const integerX = opts.integerX ?? true;
  const formatY = opts.formatY ?? defaultFormatY;
  const series = opts.series.map((s, i) => {
    const d = seriesStyle(i);
    return { name: s.name, points: s.points, color: s.color ?? d.color, marker: s.marker ?? d.marker, dashed: s.dashed ?? d.dashed, lineWidth: s.lineWidth ?? 2, index: i };
  });

  // which points can be drawn
  const finite = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const positive = finite.filter((p) => p.y > 0);
  let logY = opts.logY === true;
  if (opts.logY === 'auto' && finite.length > 0 && positive.length === finite.length) {
    const ys = positive.map((p) => p.y);
    logY = Math.max(...ys) / Math.min(...ys) > 30;
  }
  const plottable = (p: ChartPoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0);
  const drawn = logY ? positive : finite;

  const skippedNonFinite: string[] = [];
  const skippedNonPositive: string[] = [];
  for (const s of series) {
    const bad = s.points.filter((p) => !(Number.isFinite(p.x) && Number.isFinite(p.y)));
    if (bad.length) skippedNonFinite.push(`${s.name} at ${opts.xLabel} ${bad.map((p) => `${describeValue(p.x)} (${describeValue(p.y)})`).join(', ')}`);
    const np = logY ? s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y <= 0) : [];
    if (np.length) skippedNonPositive.push(`${s.name} at ${opts.xLabel} ${np.map((p) => `${p.x} (${p.y})`).join(', ')}`);
  }

  // layout: title, plot, x axis, legend rows, notes
  const left = 66;
  const right = 18;
  const top = 40;
  const plotW = W - left - right;
  const plotBottom = top + plotH;
  const legendTop = plotBottom + 48;
  const legendItems = series.map((s) => ({ ...s, label: visibleWhitespace(s.name) }));
  const rowH = 18;
  const legendRows: { item: (typeof legendItems)[number]; x: number }[][] = [];
  {
    let row: { item: (typeof legendItems)[number]; x: number }[] = [];
    let x = left;
    for (const item of legendItems) {
      const w = 30 + Math.min(textWidth(item.label), W - left - right - 30) + 18;
      if (row.length > 0 && x + w > W - right) {
        legendRows.push(row);
        row = [];
        x = left;
      }
      row.push({ item, x });
      x += w;
    }
    if (row.length) legendRows.push(row);
  }
  const maxNoteChars = Math.floor((W - 20) / 6.2);
  const notes = [
    ...(skippedNonFinite.length ? wrapItems('Not plotted (not finite): ', skippedNonFinite.map(visibleWhitespace), maxNoteChars, 3) : []),
    ...(skippedNonPositive.length ? wrapItems('Not plotted (≤ 0 on the log axis): ', skippedNonPositive.map(visibleWhitespace), maxNoteChars, 3) : []),
  ];
  const notesTop = legendTop + legendRows.length * rowH + 6;
  const H = Math.ceil(notesTop + notes.length * 15 + 6);

  const out: string[] = [];
  const titleId = `${id}-title`;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="qs-chart" data-chart="${escapeXml(id)}" id="${escapeXml(id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${titleId}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" font-size="12">`);
  out.push(`<title id="${titleId}">${escapeXml(visibleWhitespace(opts.title))}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text class="qs-title" x="${left}" y="22" font-size="14" font-weight="600" fill="#222">${escapeXml(visibleWhitespace(opts.title))}</text>`);
  out.push(`<rect class="qs-plot" x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fcfcfd" stroke="#c9ccd1"/>`);

  if (drawn.length === 0) {
    out.push(`<text x="${num(left + plotW / 2)}" y="${num(top + plotH / 2)}" text-anchor="middle" fill="#777">${escapeXml(opts.emptyText ?? 'no plottable data')}</text>`);
  } else {
    const xs = drawn.map((p) => p.x);
    const ys = drawn.map((p) => p.y);
    const inset = 8; // keep markers off the frame
    const sx = linearScale(Math.min(...xs), Math.max(...xs), left + inset, left + plotW - inset, integerX, Math.min(12, Math.max(2, Math.floor(plotW / 50))));
    const yLo = Math.min(...ys);
    const yHi = Math.max(...ys);
    const sy = logY ? logScale(yLo, yHi, plotBottom - inset, top + inset) : linearScale(yLo, yHi, plotBottom - inset, top + inset, false, 6);
    const xTicks = sx.ticks.filter((t) => t >= Math.min(...xs) - 1e-9 && t <= Math.max(...xs) + 1e-9);
    if (integerX && xTicks.length === 0) xTicks.push(Math.round(xs[0]!));

    // grid and ticks
    out.push('<g class="qs-grid" stroke-width="1">');
    for (const t of sy.minor) out.push(`<line x1="${left}" x2="${left + plotW}" y1="${num(sy.toPx(t))}" y2="${num(sy.toPx(t))}" stroke="#f0f1f3"/>`);
    for (const t of sy.ticks) out.push(`<line x1="${left}" x2="${left + plotW}" y1="${num(sy.toPx(t))}" y2="${num(sy.toPx(t))}" stroke="#e3e5e8"/>`);
    for (const t of xTicks) out.push(`<line x1="${num(sx.toPx(t))}" x2="${num(sx.toPx(t))}" y1="${top}" y2="${plotBottom}" stroke="#eceef1"/>`);
    out.push('</g>');
    out.push('<g class="qs-axis qs-y-axis" fill="#444" text-anchor="end">');
    for (const t of sy.ticks) out.push(`<line x1="${left - 4}" x2="${left}" y1="${num(sy.toPx(t))}" y2="${num(sy.toPx(t))}" stroke="#888"/><text x="${left - 7}" y="${num(sy.toPx(t) + 4)}">${escapeXml(sy.label(t))}</text>`);
    out.push('</g>');
    out.push('<g class="qs-axis qs-x-axis" fill="#444" text-anchor="middle">');
    for (const t of xTicks) out.push(`<line x1="${num(sx.toPx(t))}" x2="${num(sx.toPx(t))}" y1="${plotBottom}" y2="${plotBottom + 4}" stroke="#888"/><text x="${num(sx.toPx(t))}" y="${plotBottom + 17}">${escapeXml(integerX ? String(t) : sx.label(t))}</text>`);
    out.push('</g>');

    // series, the widest first (stable), each line under its own markers
    const order = [...series].sort((a, b) => b.lineWidth - a.lineWidth || a.index - b.index);
    order.forEach((s) => {
      const i = s.index;
      const segments: string[] = [];
      let seg: string[] = [];
      for (const p of s.points) {
        if (!plottable(p)) {
          if (seg.length > 1) segments.push(seg.join(''));
          seg = [];
          continue;
        }
        seg.push(`${seg.length ? 'L' : 'M'}${num(sx.toPx(p.x))} ${num(sy.toPx(p.y))}`);
      }
      if (seg.length > 1) segments.push(seg.join(''));
      const name = escapeXml(visibleWhitespace(s.name));
      out.push(`<g class="qs-series" data-series="${name}" data-index="${i}">`);
      if (segments.length) {
        out.push(`<path class="qs-line" d="${segments.join('')}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="${num(s.lineWidth)}" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      }
      for (const p of s.points) {
        if (!plottable(p)) continue;
        out.push(`<path class="qs-pt" d="${markerPath(s.marker, sx.toPx(p.x), sy.toPx(p.y))}" fill="${escapeXml(s.color)}" stroke="#fff" stroke-width="0.8"><title>${name} — ${escapeXml(opts.xLabel)} ${escapeXml(String(p.x))}: ${escapeXml(formatY(p.y))}</title></path>`);
      }
      out.push('</g>');
    });
  }

  // axis labels
  out.push(`<text class="qs-xlabel" x="${num(left + plotW / 2)}" y="${plotBottom + 34}" text-anchor="middle" fill="#333">${escapeXml(visibleWhitespace(opts.xLabel))}</text>`);
  const yMid = num(top + plotH / 2);
  out.push(`<text class="qs-ylabel" x="16" y="${yMid}" transform="rotate(-90 16 ${yMid})" text-anchor="middle" fill="#333">${escapeXml(visibleWhitespace(opts.yLabel))}${logY ? ' (log scale)' : ''}</text>`);

  // legend
  out.push('<g class="qs-legend">');
  legendRows.forEach((row, r) => {
    const y = legendTop + r * rowH;
    for (const { item, x } of row) {
      out.push(`<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${escapeXml(item.color)}" stroke-width="${num(item.lineWidth)}"${item.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      out.push(`<path d="${markerPath(item.marker, x + 12, y)}" fill="${escapeXml(item.color)}"/>`);
      const maxW = W - right - (x + 30);
      const label = textWidth(item.label) > maxW ? shorten(item.label, maxW) : item.label;
      out.push(`<text class="qs-legend-label" x="${x + 30}" y="${y + 4}" fill="#222">${label !== item.label ? `<title>${escapeXml(item.label)}</title>` : ''}${escapeXml(label)}</text>`);
    }
  });
  out.push('</g>');

  notes.forEach((line, i) => {
    out.push(`<text class="qs-note" x="10" y="${notesTop + 11 + i * 15}" font-size="11" fill="#a33">${escapeXml(line)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function shorten(label: string, maxW: number): string {
  const chars = [...label];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(chars.slice(0, mid).join('') + '…') <= maxW) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('') + '…';
}
