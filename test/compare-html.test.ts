// The compare report's HTML page: escaping and content on the string, then layout in real headless
// Chromium (charts drawn, lines inside their plot areas, legends, no errors, no requests).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { formatNumber, renderCompareHtml } from '../src/compare/html.js';
import { compareFiles } from '../src/compare/compare.js';
import { modelPath } from './helpers/fixtures.js';
import type { CompareReport, FileComparison, ReferenceColumn } from '../src/compare/report.js';
import { PALETTE, escapeXml, renderLineChart } from '../src/compare/svg-chart.js';
import { ANOMALY_LEGEND, type LayerRow } from '../src/stats/layer-table.js';
import {
  chromiumExecutable, chromiumMissingMessage, chromiumRequired, launchChromium, renderHtmlFile, summarizePng,
} from './helpers/chromium.js';

const HOSTILE = `</script><b>&"'`;
const HOSTILE_NAME = `tinyllama-1.1b-chat.${HOSTILE}.Q4_0.gguf`;
const N_LAYER = 22;

/** A deterministic pseudo-random in [−1, 1). */
function jitter(seed: number): number {
  const x = Math.sin(seed * 12.9898 + 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

interface Spec {
  name: string;
  format: string;
  bpw: number;
  /** relative noise against the base */
  noise: number;
  next: { id: number; text: string };
}

/**
 * A realistic report: RMS grows ~70× over 22 layers, SwiGLU RMS grows too, the hostile file has the
 * seed notes' swiglu-mean row at layer 21 (0.015373 against RMS 0.181741), a reference with data for
 * the base and an error for the hostile file.
 */
function makeReport(opts: { files?: number; nanAt?: { file: number; layer: number } } = {}): CompareReport {
  const specs: Spec[] = [
    { name: 'tinyllama-1.1b-chat.F16.gguf', format: 'MOSTLY_F16', bpw: 16.0, noise: 0, next: { id: 13, text: '\n' } },
    { name: HOSTILE_NAME, format: 'MOSTLY_Q4_0', bpw: 4.55, noise: 0.02, next: { id: 31999, text: HOSTILE } },
    { name: 'tinyllama-1.1b-chat.Q2_K.gguf', format: 'MOSTLY_Q2_K', bpw: 2.96, noise: 0.08, next: { id: 450, text: ' The' } },
  ];
  const extra = ['Q8_0', 'Q6_K', 'Q5_K_M', 'Q5_0', 'Q4_K_M', 'Q4_1', 'Q3_K_M', 'IQ4_XS', 'IQ4_NL', 'Q5_1', 'Q3_K_S', 'Q2_K_S'];
  for (let i = specs.length; i < (opts.files ?? 3); i++) {
    const f = extra[(i - 3) % extra.length]!;
    specs.push({ name: `tinyllama-1.1b-chat.${f}.gguf`, format: `MOSTLY_${f}`, bpw: 8.5 - i * 0.4, noise: 0.005 * i, next: { id: 13, text: '\n' } });
  }
  const k = 5;
  const layers = Array.from({ length: N_LAYER }, (_, l) => l);
  const baseTokens = [1, 9038, 2501, 263, 931];
  const baseCont = [13, 13, 450, 6114, 310, 278, 9045, 338, 11824, 29892, 322, 278];
  const contPieces: Record<number, string> = { 13: '\n', 450: ' The', 6114: ' sun', 310: ' was', 278: ' the', 9045: ' sky', 338: ' is', 11824: ' blue', 29892: ',', 322: ' and', 31999: HOSTILE, 1576: ' Tim' };
  const piece = (id: number) => contPieces[id] ?? `<${id}>`;

  const files: FileComparison[] = specs.map((s, i) => {
    const rows: LayerRow[] = layers.map((l) => {
      const base = 0.05 * 70 ** (l / (N_LAYER - 1));
      const outputRms = base * (1 + s.noise * (0.5 + l / N_LAYER) * jitter(i * 100 + l));
      const inputRms = l === 0 ? 0.0021 : 0.05 * 70 ** ((l - 1) / (N_LAYER - 1)) * (1 + s.noise * jitter(i * 100 + l - 1));
      const swigluRms = 0.012 * 15 ** (l / (N_LAYER - 1)) * (1 + s.noise * jitter(i * 7 + l));
      let swigluMean = 1e-4 * jitter(i * 13 + l);
      let swRms = swigluRms;
      const anomalies: LayerRow['anomalies'] = [];
      if (i === 1 && l === 21) { swigluMean = 0.015373; swRms = 0.181741; anomalies.push('swiglu-mean'); }
      const row: LayerRow = { layer: l, pos: baseTokens.length - 1, inputRms, outputRms, mean: 2e-3 * jitter(i * 31 + l), swigluRms: swRms, swigluMean, anomalies };
      if (opts.nanAt && opts.nanAt.file === i && opts.nanAt.layer === l) { row.outputRms = NaN; row.anomalies = ['non-finite']; }
      return row;
    });
    const isBase = i === 0;
    const partsAt = isBase ? null : i === 1 ? 4 : i === 2 ? 7 : null;
    const ids = baseCont.map((id, j) => (partsAt !== null && j === partsAt ? (i === 1 ? 31999 : 1576) : id));
    const pieces = ids.map(piece);
    const rankIn = specs.map((_, j) => (j === i ? 1 : s.next.id === specs[j]!.next.id ? 1 : 2 + ((i + j) % 4) * 7));
    const top = [s.next, { id: 450, text: ' The' }, { id: 319, text: ' A' }, { id: 29871, text: ' ' }, { id: 0, text: '' }].slice(0, k)
      .map((t, r) => ({ ...t, logit: 14.25 - r * 1.1, prob: 0.61 / (r + 1) ** 2, rank: r + 1 }));
    const f: FileComparison = {
      file: { path: `/models/${s.name}`, name: s.name, format: s.format, tensorTypes: { F32: 45, [s.format.replace('MOSTLY_', '')]: 154, Q6_K: 1 }, weightBytes: s.bpw * 1.1e9 / 8, bitsPerWeight: s.bpw },
      promptTokens: i === 2 ? [1, 9038, 2501, 263, 931, 29871] : baseTokens,
      next: { ...s.next, logit: 14.25 - i * 0.37, prob: 0.61 - i * 0.05, rank: 1, rankIn, top },
      layers: rows,
      divergence: isBase ? [] : layers.map((l) => ({
        layer: l,
        relRms: s.noise * 0.05 * 1.25 ** l * (1 + 0.1 * jitter(i * 3 + l)),
        cosine: 1 - (s.noise * 0.05 * 1.25 ** l) ** 2 / 2,
      })),
      agreement: isBase ? null : { kl: i === 1 ? 3.2e-6 : 0.0473 * i, topKOverlap: i === 1 ? 1 : 0.6, sameTop1: s.next.id === specs[0]!.next.id },
      continuation: { ids, pieces, text: pieces.join(''), partsAt },
    };
    if (i === 0) {
      const ref: ReferenceColumn = {
        engine: 'node-llama-cpp 3.21.1 (llama.cpp b6000)',
        top: [{ id: 13, text: '\n', prob: 0.6093 }, { id: 450, text: ' The', prob: 0.1502 }, { id: 319, text: ' A', prob: 0.0671 }],
        greedy: [...baseCont.slice(0, 9), 1576, 322, 278],
        greedyText: [...baseCont.slice(0, 9), 1576, 322, 278].map(piece).join(''),
        nextAgrees: true,
        greedyPartsAt: 9,
        kl: 4.1e-7,
      };
      f.reference = ref;
    } else if (i === 1) {
      f.reference = { error: `llama.cpp could not load ${HOSTILE_NAME}: unknown tensor type <42> & "more"` };
    }
    return f;
  });

  return {
    schema: 1,
    prompt: `Once upon a time\n\t${HOSTILE}`,
    tokens: baseTokens.map((id, j) => ({ id, text: ['', 'Once', ' upon', ' a', ' time'][j]! })),
    baseIndex: 0,
    layers,
    topK: k,
    nPredict: baseCont.length,
    files,
    anomalies: [
      { file: 1, layer: 21, rule: 'swiglu-mean', detail: 'SwiGLU mean 0.01537, RMS 0.1817' },
      { file: 1, layer: null, rule: 'next-token', detail: `${JSON.stringify(HOSTILE)} (31999) where the base has "\\n" (13), rank 9 here` },
      { file: 2, layer: 14, rule: 'divergence-jump', detail: 'rel. RMS error 0.02 → 0.09' },
      { file: 0, layer: null, rule: 'reference', detail: 'greedy continuations part at token 9' },
    ],
    anomalyRules: {
      ...ANOMALY_LEGEND,
      'divergence-jump': 'l_out relative RMS error vs base > 2× the previous compared layer\'s and > 0.05',
      'next-token': 'greedy next token differs from the base file\'s',
      reference: 'llama.cpp\'s next token or greedy continuation differs from ours for the same file',
    },
  };
}

const GENERATED_AT = '2025-06-01 12:00 UTC';

describe('compare HTML (string)', () => {
  const report = makeReport();
  const html = renderCompareHtml(report, { generatedAt: GENERATED_AT });

  it('is one self-contained document: no scripts, no external resources, a CSP that forbids both', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(`default-src 'none'`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/i); // only in-page anchors
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it('escapes hostile file names, token texts, prompt and error text everywhere', () => {
    const escaped = escapeXml(HOSTILE);
    expect(escaped).toBe('&lt;/script&gt;&lt;b&gt;&amp;&quot;&#39;');
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('</script>');
    expect(html).toContain(escapeXml(HOSTILE_NAME));
    // the name appears in the files table, next-token table, every chart legend, the tables and the notes
    expect(html.split(escapeXml(HOSTILE_NAME)).length - 1).toBeGreaterThanOrEqual(8);
    for (const f of report.files) expect(html).toContain(escapeXml(f.file.name));
    expect(html).toContain(`unknown tensor type &lt;42&gt; &amp; &quot;more&quot;`);
  });

  it('shows whitespace in tokens visibly', () => {
    expect(html).toContain('<code class="tok" title="token 13"><span class="esc">\\n</span></code>');
    expect(html).toContain('<code class="tok" title="token 450"> The</code>');
    expect(html).toContain('<code class="tok empty" title="token 0"></code>');
    // the prompt's tab and newline
    expect(html).toMatch(/Once upon a time<span class="esc">\\n<\/span>\n<span class="esc">\\t<\/span>&lt;\/script&gt;/);
  });

  it('has the header, the files, the numbers and the llama.cpp column', () => {
    expect(html).toContain(GENERATED_AT);
    expect(html).toContain('<title>quantscope compare — tinyllama-1.1b-chat</title>');
    expect(renderCompareHtml(report, { title: `t ${HOSTILE}` })).toContain(`<title>t ${escapeXml(HOSTILE)}</title>`);
    expect(html).toContain('5 tokens (base tokenizer)');
    for (const f of report.files) expect(html).toContain(escapeXml(f.file.format));
    expect(html).toContain('2200'); // F16: 16 bits × 1.1e9 / 8 bytes = 2200 MB
    expect(html).toContain('4.550');
    expect(html).toContain('3.200e-6'); // tiny KL in exponent form
    expect(html).toContain('0.09460'); // KL of the Q2_K file
    expect(html).toContain('5/5'); // top-k overlap
    expect(html).toContain('3/5');
    expect(html).toContain('14.2500'); // logit
    expect(html).toContain('≠ base'); // the Q2_K file's prompt tokens
    expect(html).toContain('node-llama-cpp 3.21.1 (llama.cpp b6000)');
    expect(html).toContain('KL(llama.cpp‖ours) 4.100e-7');
    expect(html).toContain('✓ same next token');
    expect(html).toMatch(/<span class="err">error:<\/span>/);
    // rank matrix: the hostile file's token is ranked 9 by the base
    expect(html).toMatch(/<td class="num rk">9<\/td>|<td class="num rx">9<\/td>/);
  });

  it('marks anomalies with ⚠, the rule and a note, and lists the legend', () => {
    const rule = ANOMALY_LEGEND['swiglu-mean'];
    expect(html).toContain('⚠ swiglu-mean');
    expect(html).toContain(`href="#anom-1-21"`);
    expect(html).toContain(`id="anom-1-21"`);
    expect(html).toContain(escapeXml(rule));
    // the tooltip has the rule and the numbers
    expect(html).toContain(`title="swiglu-mean: ${escapeXml(rule)} — SwiGLU mean 0.01537, RMS 0.1817"`);
    expect(html).toMatch(/<td class="num hl">0\.0153730<\/td>/);
    expect(html).toContain('⚠ divergence-jump');
    expect(html).toContain('id="anom-1-file"'); // file-level next-token mark
    for (const k of Object.keys(report.anomalyRules)) expect(html).toContain(`<dt><code>${escapeXml(k)}</code></dt>`);
  });

  it('draws four charts with one line per file (divergence: per non-base file) and legends', () => {
    const charts = [...html.matchAll(/<svg [^>]*data-chart="([^"]+)"[\s\S]*?<\/svg>/g)];
    expect(charts.map((m) => m[1])).toEqual(['chart-rms', 'chart-swiglu', 'chart-divergence', 'chart-cosine']);
    const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
    const [rms, swiglu, div, cos] = charts.map((m) => m[0]);
    expect(count(rms!, /class="qs-line"/g)).toBe(3);
    expect(count(swiglu!, /class="qs-line"/g)).toBe(3);
    expect(count(div!, /class="qs-line"/g)).toBe(2);
    expect(count(cos!, /class="qs-line"/g)).toBe(2);
    expect(rms).toContain('(log scale)');
    expect(count(rms!, /class="qs-pt"/g)).toBe(3 * N_LAYER);
    for (const f of report.files) expect(rms).toMatch(new RegExp(`class="qs-legend-label"[^>]*>${escapeXml(f.file.name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</text>`));
  });

  it('highlights where continuations part from the base, and llama.cpp\'s', () => {
    expect(html).toContain('parts from the base at token 4');
    expect(html).toContain('parts from the base at token 7');
    expect(html).toContain('title="token 4: id 31999 — first to differ"');
    expect(html).toContain('parts from ours at token 9');
    expect(html).toMatch(/<span class="t d t0" title="token 4: id 31999 — first to differ">&lt;\/script&gt;/);
  });

  it('notes points it cannot plot', () => {
    const nan = renderCompareHtml(makeReport({ nanAt: { file: 2, layer: 10 } }), { generatedAt: GENERATED_AT });
    expect(nan).toContain('Not plotted (not finite): tinyllama-1.1b-chat.Q2_K.gguf at layer 10 (NaN)');
    expect(nan).toContain('<td class="num hl bad">NaN</td>');
    const chart = renderLineChart({ id: 'x', title: 'a<b', xLabel: 'layer', yLabel: 'y', logY: true, series: [{ name: 'n\n"1"', points: [{ x: 0, y: 1 }, { x: 1, y: 0 }, { x: 2, y: Infinity }, { x: 3, y: 10 }] }] });
    expect(chart).toContain('Not plotted (not finite): n\\n&quot;1&quot; at layer 2 (+Inf)');
    expect(chart).toContain('Not plotted (≤ 0 on the log axis): n\\n&quot;1&quot; at layer 1 (0)');
    expect(chart).toContain('a&lt;b');
    expect(chart).not.toContain('class="qs-line"'); // no two consecutive points plottable
    expect((chart.match(/class="qs-pt"/g) ?? []).length).toBe(2);
  });

  it('gives 12 files 12 distinct colours and tells duplicate names apart', () => {
    const big = makeReport({ files: 12 });
    const h = renderCompareHtml(big);
    const rms = h.match(/<svg [^>]*data-chart="chart-rms"[\s\S]*?<\/svg>/)![0];
    const strokes = [...rms.matchAll(/class="qs-line" d="[^"]*" fill="none" stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(strokes).toHaveLength(12);
    expect(new Set(strokes).size).toBe(12);
    expect(PALETTE.length).toBeGreaterThanOrEqual(12);
    const dup = makeReport();
    dup.files[2]!.file = { ...dup.files[2]!.file, name: dup.files[0]!.file.name, path: '/other/dir/' + dup.files[0]!.file.name };
    expect(renderCompareHtml(dup)).toContain('/other/dir/tinyllama-1.1b-chat.F16.gguf');
  });

  it('renders a small report: two files, a few layers, no continuation, no reference, no marks', () => {
    const small = makeReport();
    small.files = small.files.slice(0, 2).map((f) => ({
      ...f, reference: undefined, continuation: null, layers: f.layers.filter((l) => l.layer % 5 === 0).map((l) => ({ ...l, anomalies: [] })),
      divergence: f.divergence.filter((d) => d.layer % 5 === 0),
    }));
    small.layers = [0, 5, 10, 15, 20];
    small.nPredict = 0;
    small.anomalies = [];
    const h = renderCompareHtml(small);
    expect(h).toContain('layers 0, 5, 10, 15, 20 (5)');
    expect(h).toContain('None asked for (n-predict 0).');
    expect(h).not.toContain('<th>llama.cpp</th>');
    expect(h).toContain('⚠ Marks (0)');
    const div = h.match(/<svg [^>]*data-chart="chart-divergence"[\s\S]*?<\/svg>/)![0];
    expect((div.match(/class="qs-line"/g) ?? []).length).toBe(1);
    // a single layer: markers, no lines
    small.layers = [3];
    small.files = small.files.map((f) => ({ ...f, layers: [f.layers[0]!], divergence: f.divergence.slice(0, 1) }));
    const one = renderCompareHtml(small);
    expect(one).not.toContain('class="qs-line"');
    expect(one).toContain('class="qs-pt"');
  });

  it('shows control and bidi characters as visible escapes', () => {
    const r = makeReport();
    r.files[2]!.next = { ...r.files[2]!.next, text: 'a\u202Eb\u0001c\u0000\uD800' };
    r.files[2]!.file = { ...r.files[2]!.file, name: 'x\u202Ey\nz.gguf' };
    const h = renderCompareHtml(r);
    expect(h).not.toMatch(/[\u202E\u0001\u0000]/);
    expect(h).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(h).toContain('a<span class="esc">\\u{202E}</span>b<span class="esc">\\x01</span>c<span class="esc">\\x00</span><span class="esc">\\u{D800}</span>');
    expect(h).toContain('>x\\u{202E}y\\nz.gguf</text>'); // in the chart legends
  });

  it('formats numbers with sensible precision', () => {
    expect(formatNumber(0.181741, 6)).toBe('0.181741');
    expect(formatNumber(3.2e-6, 4)).toBe('3.200e-6');
    expect(formatNumber(-0.000012345, 6)).toBe('-1.23450e-5');
    expect(formatNumber(12345678, 5)).toBe('1.2346e7');
    expect(formatNumber(123456, 5)).toBe('123456');
    expect(formatNumber(0, 5)).toBe('0');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(-Infinity)).toBe('−∞');
  });
});

// ---------------------------------------------------------------------------------------------
// in Chromium

const missing = chromiumMissingMessage();

if (missing !== null) {
  describe('compare HTML in Chromium', () => {
    if (chromiumRequired()) {
      it('has a browser', () => {
        throw new Error(`QUANTSCOPE_REQUIRE_CHROMIUM=1 but ${missing}`);
      });
    } else {
      console.warn(`compare-html: browser checks skipped — ${missing} (QUANTSCOPE_REQUIRE_CHROMIUM=1 makes this a failure)`);
      it.skip(`skipped: ${missing}`, () => {});
    }
  });
}

describe.runIf(missing === null)('compare HTML in Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quantscope-html-'));
    browser = await launchChromium({ executablePath: chromiumExecutable()! });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, html: string) => {
    const file = join(dir, name);
    writeFileSync(file, html);
    return file;
  };

  it('renders the charts, lines inside their plots, legends, with no errors and no requests', async () => {
    const report = makeReport();
    const file = write(`report ${HOSTILE.replace(/[/<>"'&]/g, '_')}.html`, renderCompareHtml(report, { generatedAt: GENERATED_AT }));
    const page = await renderHtmlFile(file, { browser, screenshot: true, chartScreenshots: true });
    const save = process.env.QUANTSCOPE_SAVE_REPORT; // a directory: keep the page and its screenshot to look at
    if (save) {
      writeFileSync(join(save, 'compare-report.html'), renderCompareHtml(report, { generatedAt: GENERATED_AT }));
      writeFileSync(join(save, 'compare-report.png'), page.screenshot!);
    }
    expect(page.consoleErrors).toEqual([]);
    expect(page.pageErrors).toEqual([]);
    expect(page.requests).toEqual([]);
    expect(page.title).toBe('quantscope compare — tinyllama-1.1b-chat');
    expect(page.charts.map((c) => c.id)).toEqual(['chart-rms', 'chart-swiglu', 'chart-divergence', 'chart-cosine']);

    const names = report.files.map((f) => f.file.name);
    const expected: Record<string, string[]> = {
      'chart-rms': names, 'chart-swiglu': names, 'chart-divergence': names.slice(1), 'chart-cosine': names.slice(1),
    };
    for (const chart of page.charts) {
      expect(chart.rect.width, chart.id).toBeGreaterThan(300);
      expect(chart.rect.height, chart.id).toBeGreaterThan(200);
      expect(chart.plot!.width).toBeGreaterThan(200);
      expect(chart.plot!.height).toBeGreaterThan(100);
      expect(chart.legend, chart.id).toEqual(expected[chart.id]);
      expect(chart.series.map((s) => s.name), chart.id).toEqual(expected[chart.id]);
      expect(new Set(chart.series.map((s) => s.color)).size).toBe(chart.series.length);
      for (const s of chart.series) {
        expect(s.bbox, `${chart.id} ${s.name}`).not.toBeNull();
        expect(s.bbox!.width, `${chart.id} ${s.name}`).toBeGreaterThan(100);
        expect(s.bbox!.height, `${chart.id} ${s.name}`).toBeGreaterThan(5);
        expect(s.points).toBe(N_LAYER);
        expect(s.inside, `${chart.id} ${s.name} inside the plot area`).toBe(true);
      }
      expect(chart.notes).toEqual([]);
    }
    // RMS grows ~70× on a log axis: the line spans most of the plot's height
    const rms = page.charts[0]!;
    expect(rms.series[0]!.bbox!.height).toBeGreaterThan(rms.plot!.height * 0.5);

    // pixels: the chart is drawn, in its series' colours; a blank box of the same size is not
    const shots = page.chartScreenshots!;
    for (const chart of page.charts) {
      const sum = summarizePng(shots[chart.id]!, chart.series.map((s) => s.color));
      expect(sum.width).toBeGreaterThan(300);
      expect(sum.inkFraction, chart.id).toBeGreaterThan(0.03);
      for (const s of chart.series) expect(sum.colorCounts[s.color], `${chart.id}: ${s.name} in ${s.color}`).toBeGreaterThan(10);
    }
    const { width, height } = page.charts[0]!.rect;
    const blank = write('blank.html', `<!doctype html><body style="margin:0"><div style="width:${Math.round(width)}px;height:${Math.round(height)}px;background:#fff"></div></body>`);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const bp = await ctx.newPage();
    await bp.goto(pathToFileURL(blank).href);
    const blankShot = await bp.locator('div').screenshot({ type: 'png' });
    await ctx.close();
    expect(summarizePng(blankShot).inkFraction).toBe(0);
    expect(blankShot.equals(shots['chart-rms']!)).toBe(false);

    const full = summarizePng(page.screenshot!);
    expect(full.height).toBeGreaterThan(1500);
    expect(full.inkFraction).toBeGreaterThan(0.02);
  }, 20_000);

  it('renders a real comparison of four kjv files: one line per file and layer, the Q2_K divergence above the Q8_0 one', async () => {
    const formats = ['F16', 'Q8_0', 'Q4_K_M', 'Q2_K'];
    const report = await compareFiles(formats.map((f) => modelPath(`kjv-austen-4l-256d.${f}.gguf`)), { prompt: 'And it came to pass', nPredict: 8 });
    const file = write('kjv.html', renderCompareHtml(report));
    const page = await renderHtmlFile(file, { browser });
    expect(page.consoleErrors).toEqual([]);
    expect(page.pageErrors).toEqual([]);
    expect(page.requests).toEqual([]);
    const names = report.files.map((f) => f.file.name);
    expect(page.charts.map((c) => c.id)).toEqual(['chart-rms', 'chart-swiglu', 'chart-divergence', 'chart-cosine']);
    for (const chart of page.charts) {
      const expected = chart.id === 'chart-rms' || chart.id === 'chart-swiglu' ? names : names.slice(1);
      expect(chart.series.map((s) => s.name), chart.id).toEqual(expected);
      for (const s of chart.series) {
        expect(s.points, `${chart.id} ${s.name}`).toBe(report.layers.length);
        expect(s.inside, `${chart.id} ${s.name}`).toBe(true);
        expect(s.bbox!.width, `${chart.id} ${s.name}`).toBeGreaterThan(100);
      }
      expect(chart.notes).toEqual([]);
    }
    // more bits, less divergence: the Q2_K line lies above Q8_0's on the divergence chart (y grows upward: smaller y)
    const div = page.charts[2]!;
    const [q8, , q2] = div.series;
    expect(q2!.bbox!.y + q2!.bbox!.height).toBeLessThan(q8!.bbox!.y + q8!.bbox!.height);
  }, 60_000);

  it('copes with 12 files and a NaN (legend wraps, colours stay distinct, the NaN is noted)', async () => {
    const report = makeReport({ files: 12, nanAt: { file: 5, layer: 8 } });
    const file = write('twelve.html', renderCompareHtml(report, { generatedAt: GENERATED_AT }));
    const page = await renderHtmlFile(file, { browser, viewport: { width: 1000, height: 800 } });
    if (process.env.QUANTSCOPE_SAVE_REPORT) writeFileSync(join(process.env.QUANTSCOPE_SAVE_REPORT, 'compare-report-12.html'), renderCompareHtml(report, { generatedAt: GENERATED_AT }));
    expect(page.consoleErrors).toEqual([]);
    expect(page.pageErrors).toEqual([]);
    const rms = page.charts.find((c) => c.id === 'chart-rms')!;
    expect(rms.series).toHaveLength(12);
    expect(new Set(rms.series.map((s) => s.color)).size).toBe(12);
    expect(rms.legend).toEqual(report.files.map((f) => f.file.name));
    expect(rms.series[5]!.points).toBe(N_LAYER - 1);
    expect(rms.notes.join(' ')).toContain('at layer 8 (NaN)');
    for (const c of page.charts) for (const s of c.series) expect(s.inside, `${c.id} ${s.name}`).toBe(true);
  }, 20_000);
});
