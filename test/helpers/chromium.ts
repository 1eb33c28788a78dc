// Headless Chromium for tests, through playwright-core (no browser download: it drives the system's
// Chromium, Debian's `chromium` package at /usr/bin/chromium, or $QUANTSCOPE_CHROMIUM).
//
//   const exe = chromiumExecutable();            // null when there is none
//   const page = await renderHtmlFile('/tmp/report.html', { screenshot: true });
//   page.charts[0].series[0].bbox.width > 0 …
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** How to get a browser, for skip and failure messages. */
export const CHROMIUM_INSTALL_HINT =
  'install Debian\'s Chromium (`apt-get install -y chromium`, as root or with sudo) or set QUANTSCOPE_CHROMIUM to a Chromium/Chrome executable';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--font-render-hinting=none',
];

/** $QUANTSCOPE_CHROMIUM, else /usr/bin/chromium; null when that file does not exist. */
export function chromiumExecutable(): string | null {
  const path = process.env.QUANTSCOPE_CHROMIUM || DEFAULT_CHROMIUM;
  return existsSync(path) ? path : null;
}

/** QUANTSCOPE_REQUIRE_CHROMIUM=1 (CI): a missing browser fails the browser tests instead of skipping them. */
export function chromiumRequired(): boolean {
  return process.env.QUANTSCOPE_REQUIRE_CHROMIUM === '1';
}

/** Why the browser tests cannot run, or null when they can. */
export function chromiumMissingMessage(): string | null {
  if (chromiumExecutable()) return null;
  const where = process.env.QUANTSCOPE_CHROMIUM ? `QUANTSCOPE_CHROMIUM=${process.env.QUANTSCOPE_CHROMIUM}` : DEFAULT_CHROMIUM;
  return `no Chromium at ${where}: ${CHROMIUM_INSTALL_HINT}`;
}

/** Launch headless Chromium (a fresh temporary profile, so it works as root too). Close it when done. */
export async function launchChromium(opts: { executablePath?: string; timeoutMs?: number } = {}): Promise<Browser> {
  const executablePath = opts.executablePath ?? chromiumExecutable();
  if (!executablePath) throw new Error(chromiumMissingMessage() ?? 'no Chromium');
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], timeout: opts.timeoutMs ?? 30_000 });
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SeriesFacts {
  name: string;
  /** the line's stroke colour */
  color: string;
  /** getBBox of the series' line (user units); null when the series has no line */
  bbox: Box | null;
  /** markers drawn */
  points: number;
  /** the line and every marker's centre lie within the plot area (on screen, ±1 px) */
  inside: boolean;
}

export interface ChartFacts {
  /** data-chart */
  id: string;
  title: string;
  /** the <svg>'s rendered box (getBoundingClientRect) */
  rect: Box;
  /** the plot area's rendered box */
  plot: Box | null;
  series: SeriesFacts[];
  legend: string[];
  notes: string[];
}

export interface RenderedPage {
  title: string;
  consoleErrors: string[];
  pageErrors: string[];
  /** every URL requested besides the page itself (a self-contained page requests none) */
  requests: string[];
  charts: ChartFacts[];
  /** the page's full height in CSS px */
  scrollHeight: number;
  /** PNG of the whole page, when asked for */
  screenshot?: Buffer;
  /** PNG of each chart's <svg> by id, when asked for */
  chartScreenshots?: Record<string, Buffer>;
}

export interface RenderOptions {
  /** reuse a browser (else one is launched and closed) */
  browser?: Browser;
  viewport?: { width: number; height: number };
  /** PNG of the full page */
  screenshot?: boolean;
  /** PNG of each chart */
  chartScreenshots?: boolean;
}

/**
 * Facts about every `svg.qs-chart` of the page (see src/compare/svg-chart.ts for the structure), as
 * a plain script so that no transpiler helpers leak into the page.
 */
export const CHART_FACTS_SCRIPT = `(() => {
  const box = (r) => r ? { x: r.x, y: r.y, width: r.width, height: r.height } : null;
  const within = (r, p, tol) => r.left >= p.left - tol && r.right <= p.right + tol && r.top >= p.top - tol && r.bottom <= p.bottom + tol;
  return [...document.querySelectorAll('svg.qs-chart')].map((svg) => {
    const plotEl = svg.querySelector('.qs-plot');
    const plot = plotEl ? plotEl.getBoundingClientRect() : null;
    const series = [...svg.querySelectorAll('g.qs-series')].map((g) => {
      const line = g.querySelector('.qs-line');
      const pts = [...g.querySelectorAll('.qs-pt')];
      let inside = !!plot;
      if (plot && line) inside = inside && within(line.getBoundingClientRect(), plot, 1);
      if (plot) for (const p of pts) {
        const r = p.getBoundingClientRect();
        const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
        if (!(cx >= plot.left - 1 && cx <= plot.right + 1 && cy >= plot.top - 1 && cy <= plot.bottom + 1)) inside = false;
      }
      return {
        name: g.getAttribute('data-series') || '',
        color: line ? line.getAttribute('stroke') || '' : (pts[0] && pts[0].getAttribute('fill')) || '',
        bbox: line ? box(line.getBBox()) : null,
        points: pts.length,
        inside,
      };
    });
    const title = svg.querySelector('.qs-title');
    return {
      id: svg.getAttribute('data-chart') || '',
      title: title ? title.textContent : '',
      rect: box(svg.getBoundingClientRect()),
      plot: box(plot),
      series,
      legend: [...svg.querySelectorAll('.qs-legend-label')].map((t) => {
        const full = t.querySelector('title');
        return full ? full.textContent : t.textContent;
      }),
      notes: [...svg.querySelectorAll('.qs-note')].map((t) => t.textContent),
    };
  });
})()`;

/** Collect the facts of an open page. */
export async function chartFacts(page: Page): Promise<ChartFacts[]> {
  return (await page.evaluate(CHART_FACTS_SCRIPT)) as ChartFacts[];
}

/** Open an HTML file in headless Chromium (file:// URL) and report errors, requests and chart facts. */
export async function renderHtmlFile(file: string, opts: RenderOptions = {}): Promise<RenderedPage> {
  const browser = opts.browser ?? (await launchChromium());
  const own = !opts.browser;
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const requests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
    const charts = await chartFacts(page);
    const meta = (await page.evaluate('({ title: document.title, scrollHeight: document.documentElement.scrollHeight })')) as { title: string; scrollHeight: number };
    const out: RenderedPage = { title: meta.title, consoleErrors, pageErrors, requests, charts, scrollHeight: meta.scrollHeight };
    if (opts.screenshot) out.screenshot = await page.screenshot({ fullPage: true, type: 'png', animations: 'disabled' });
    if (opts.chartScreenshots) {
      out.chartScreenshots = {};
      for (const c of charts) out.chartScreenshots[c.id] = await page.locator(`svg.qs-chart[data-chart="${c.id}"]`).screenshot({ type: 'png' });
    }
    return out;
  } finally {
    await context.close();
    if (own) await browser.close();
  }
}

// ---------------------------------------------------------------------------------------------
// PNG decoding (8-bit RGB/RGBA, non-interlaced: what Chromium writes), to check screenshots

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, row-major */
  rgba: Uint8Array;
}

export function decodePng(buf: Buffer): DecodedPng {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      colorType = data[9]!;
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || data[12] !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${data[12]}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[dst + x - bpp]! : 0;
      const b = y > 0 ? px[dst - stride + x]! : 0;
      const c = x >= bpp && y > 0 ? px[dst - stride + x - bpp]! : 0;
      const v = raw[src + x]!;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[dst + x] = (v + pred) & 0xff;
    }
  }
  if (bpp === 4) return { width, height, rgba: px };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < px.length; i += 3, j += 4) {
    rgba[j] = px[i]!;
    rgba[j + 1] = px[i + 1]!;
    rgba[j + 2] = px[i + 2]!;
    rgba[j + 3] = 255;
  }
  return { width, height, rgba };
}

export interface PngSummary {
  width: number;
  height: number;
  /** share of pixels that differ from the top-left pixel's colour by more than 16 in some channel */
  inkFraction: number;
  /** how many pixels are within `tolerance` of each asked colour ('#rrggbb') */
  colorCounts: Record<string, number>;
}

/** How much is drawn on a screenshot, and how much of each colour. */
export function summarizePng(buf: Buffer, colors: readonly string[] = [], tolerance = 24): PngSummary {
  const { width, height, rgba } = decodePng(buf);
  const [br, bg, bb] = [rgba[0]!, rgba[1]!, rgba[2]!];
  const targets = colors.map((c) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)] as const);
  const counts = colors.map(() => 0);
  let ink = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    const r = rgba[i]!;
    const g = rgba[i + 1]!;
    const b = rgba[i + 2]!;
    if (Math.abs(r - br) > 16 || Math.abs(g - bg) > 16 || Math.abs(b - bb) > 16) ink++;
    targets.forEach(([tr, tg, tb], k) => {
      if (Math.abs(r - tr) <= tolerance && Math.abs(g - tg) <= tolerance && Math.abs(b - tb) <= tolerance) counts[k]!++;
    });
  }
  return { width, height, inkFraction: ink / (width * height), colorCounts: Object.fromEntries(colors.map((c, k) => [c, counts[k]!])) };
}
