// The e2e bench report as a terminal table or Markdown (the JSON form is the E2eReport itself): a
// line per format and quantscope kernel set (report.quantscope.sets), the file's columns and
// llama.cpp's on the format's first line, each set's speed and its ratios to llama.cpp on its own.
import type { E2eReport, E2eRow, EngineOutcome, KernelSetPlan } from './e2e.bench.js';
import { SIMD_LABEL } from './kernels.bench.js';
import type { BandwidthResult } from './bandwidth.bench.js';

const MB = 1e6;
const fixed = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const speed = (o: EngineOutcome | null, key: 'ppTokS' | 'tgTokS') => (o === null ? '-' : o.ok ? fixed(o.speed[key]) : 'failed');
const rss = (o: EngineOutcome | null) => (o === null ? '-' : o.ok ? fixed(o.speed.maxRssBytes / MB, 0) : 'failed');

/** One line of the table: a format with one of quantscope's kernel sets (the first carries the file's and llama.cpp's columns). */
interface Line {
  row: E2eRow;
  first: boolean;
  set: KernelSetPlan;
  ours: EngineOutcome;
  ratio: { pp: number; tg: number } | null;
  decode: { gbs: number | null; ofBandwidth: number | null };
}

function tableLines(r: E2eReport): Line[] {
  return r.rows.flatMap((row) => [
    { row, first: true, set: r.quantscope.sets[0], ours: row.ours, ratio: row.ratio, decode: row.decode },
    ...(row.alt ? [{ row, first: false, set: r.quantscope.sets[1], ours: row.alt.ours, ratio: row.alt.ratio, decode: row.alt.decode }] : []),
  ]);
}

/** A kernel set as the report names it: `simd128 (auto)`, `relaxed`, … (what auto ran, where known) */
function setName(r: E2eReport, set: KernelSetPlan, ours?: EngineOutcome): string {
  if (set.kernels !== 'auto') return set.kernels;
  return `${(ours?.ok ? ours.speed.kernels : null) ?? r.quantscope.auto} (auto)`;
}

/** who a note is about: `quantscope`, or with several kernel sets `quantscope (relaxed)`, `quantscope (simd128, auto)` */
function oursName(r: E2eReport, line: Line): string {
  return r.quantscope.sets.length > 1 ? `quantscope (${setName(r, line.set, line.ours).replace(' (auto)', ', auto')})` : 'quantscope';
}

interface Column { header: string; cell: (line: Line) => string; left?: boolean }

function columns(r: E2eReport): Column[] {
  const pp = `pp${r.timing.promptTokens}`;
  const tg = `tg${r.timing.genTokens}`;
  const withLlama = r.llamaCpp.status === 'ok';
  // the file's and llama.cpp's cells: on a format's first line only
  const once = (cell: (row: E2eRow) => string) => (line: Line) => (line.first ? cell(line.row) : '');
  const ratio = (line: Line, key: 'pp' | 'tg') => (line.ratio ? `${line.ratio[key].toFixed(2)}×` : '-');
  return [
    { header: 'format', cell: (line) => line.row.format, left: true },
    { header: 'file MB', cell: once((row) => fixed(row.fileBytes / MB, 0)) },
    { header: 'kernel', cell: once((row) => row.kernelType), left: true },
    { header: `${r.kernels ? SIMD_LABEL[r.kernels.simd] : 'SIMD'} GB/s`, cell: once((row) => fixed(row.kernel?.simdGBs)) },
    { header: 'generic GB/s', cell: once((row) => fixed(row.kernel?.genericGBs)) },
    { header: 'quantscope', cell: (line) => setName(r, line.set, line.ours), left: true },
    { header: `${pp} t/s`, cell: (line) => speed(line.ours, 'ppTokS') },
    { header: `${tg} t/s`, cell: (line) => speed(line.ours, 'tgTokS') },
    { header: 'RSS MB', cell: (line) => rss(line.ours) },
    { header: 'decode GB/s', cell: (line) => fixed(line.decode.gbs) },
    { header: 'of bw', cell: (line) => (line.decode.ofBandwidth === null ? '-' : `${(100 * line.decode.ofBandwidth).toFixed(0)}%`) },
    ...(withLlama ? [
      { header: `llama ${pp}`, cell: once((row) => speed(row.llamaCpp, 'ppTokS')) },
      { header: `llama ${tg}`, cell: once((row) => speed(row.llamaCpp, 'tgTokS')) },
      { header: 'llama RSS MB', cell: once((row) => rss(row.llamaCpp)) },
      { header: `${pp} ours/llama`, cell: (line: Line) => ratio(line, 'pp') },
      { header: `${tg} ours/llama`, cell: (line: Line) => ratio(line, 'tg') },
    ] : []),
  ];
}

/** Other processes busy during a measurement, or runs more than 25% apart (the same cause, most likely): say so. */
const SPREAD_LIMIT = 0.25;
/** cores of other work during a measurement above which the report says so */
const OTHER_LOAD_LIMIT = 0.2;
function spreadWarnings(r: E2eReport, row: E2eRow): string[] {
  const out: string[] = [];
  const measured: Array<[string, EngineOutcome | null]> = [
    ...tableLines(r).filter((line) => line.row === row).map((line): [string, EngineOutcome] => [oursName(r, line), line.ours]),
    ['llama.cpp', row.llamaCpp],
  ];
  for (const [who, o] of measured) {
    if (!o?.ok) continue;
    if ((o.speed.otherCores ?? 0) > OTHER_LOAD_LIMIT) {
      out.push(`${row.format}: other processes used ${o.speed.otherCores!.toFixed(2)} cores on average while ${who} ran: its numbers are low`);
    }
    for (const [what, runs, med] of [['pp', o.speed.ppRuns, o.speed.ppTokS], ['tg', o.speed.tgRuns, o.speed.tgTokS]] as const) {
      const spread = (Math.max(...runs) - Math.min(...runs)) / med;
      if (spread > SPREAD_LIMIT) {
        out.push(`${row.format}: ${who}'s ${what} runs vary by ${(100 * spread).toFixed(0)}% (${runs.map((x) => x.toFixed(2)).join(', ')} t/s): ` +
          'other work on the machine, most likely; rerun for a clean number');
      }
    }
  }
  return out;
}

/** Lines under the table: what was measured, how, and anything that went wrong. */
function notes(r: E2eReport): string[] {
  const lines: string[] = [];
  const m = r.model;
  if (m.source === 'synthesized') {
    const s = m.shape;
    lines.push(`model: ${s.name} shape (${s.nLayer} layers, n_embd ${s.nEmbd}, n_ff ${s.nFf}, ${s.nHead}/${s.nHeadKv} heads, vocab ${s.nVocab}), ` +
      `random weights in llama-quantize's tensor mixes, cached in ${m.cacheDir}`);
  } else {
    lines.push(`model: ${m.path}`);
  }
  const t = r.timing;
  lines.push(`timing: pp${t.promptTokens} = ${t.promptTokens} prompt tokens in one batch from an empty context, tg${t.genTokens} = ` +
    `${t.genTokens} tokens then evaluated one at a time; tokens/s, median of ${t.reps} run${t.reps === 1 ? '' : 's'} after ` +
    `${t.warmup} warm-up; each format in fresh processes, one at a time; RSS = the process's peak resident set`);
  const th = r.threads;
  const ran = (who: string, n: number | null) => (n === null ? `${who} not run` : `${who} ran ${n}`);
  const fewer = th.quantscope !== null && th.quantscope < th.requested ? ' (fewer than asked: the generic kernels run on one)' : '';
  lines.push(`threads: ${th.requested} requested — ${ran('quantscope', th.quantscope)}${fewer}, ${ran('llama.cpp', th.llamaCpp)}`);
  const b = r.bandwidth, b1 = r.bandwidthOneThread;
  const probe = (p: BandwidthResult) => `${p.threads} thread${p.threads === 1 ? '' : 's'} ${p.median.toFixed(2)} GB/s median, ${p.best.toFixed(2)} best`;
  lines.push(`memory bandwidth (WASM v128 reads of ${(b.bytes / 2 ** 20).toFixed(0)} MiB): ${b1 ? `${probe(b1)}; ` : ''}${probe(b)}; ` +
    `"decode GB/s" = weight bytes read per token × tg tokens/s, "of bw" its share of the ${b.threads}-thread median`);
  const q = r.quantscope;
  const describe = (set: KernelSetPlan) => `${setName(r, set)} = ${set.engine ?? 'no measurement succeeded'}` +
    (set.execArgv.length ? `, its children run as node ${set.execArgv.join(' ')}` : '');
  lines.push(`quantscope (--kernels ${q.option}${q.sets.length > 1 ? ': each format in a child per kernel set, the same numbers bit for bit' : ''}): ` +
    `${q.sets.map(describe).join('; ')}. auto takes relaxed SIMD where the runtime has it (Node ≥ 22, or Node 20 with ` +
    `--experimental-wasm-relaxed-simd) with a fused relaxed_madd, else SIMD128: here ${q.auto}`);
  if (r.kernels) {
    lines.push(`kernel columns: mat×vec ${r.kernels.rows}×${r.kernels.cols} of the file's main weight type on one thread, in this process ` +
      `(${SIMD_LABEL[r.kernels.simd]} kernels, this runtime's default, against the scalar generic ones), GB/s of weight bytes (in cache)`);
  }
  const l = r.llamaCpp;
  lines.push(l.status === 'ok' ? `llama.cpp: ${l.engine ?? 'node-llama-cpp'}, same file, token ids and batch, F32 KV cache, mmap (its RSS counts the mapped file)`
    : `llama.cpp: ${l.status} — ${l.reason}`);
  lines.push(`machine: ${r.cpu.model}, ${r.cpu.cores} cores, node ${r.node}`);
  for (const row of r.rows) {
    for (const line of tableLines(r).filter((l) => l.row === row)) {
      if (!line.ours.ok) lines.push(`${row.format}: ${oursName(r, line)} failed: ${line.ours.error}`);
    }
    if (row.llamaCpp && !row.llamaCpp.ok) lines.push(`${row.format}: llama.cpp failed: ${row.llamaCpp.error}`);
    lines.push(...spreadWarnings(r, row));
  }
  lines.push(...r.notes);
  return lines;
}

export function formatE2eText(r: E2eReport): string {
  const cols = columns(r);
  const cells = [cols.map((c) => c.header), ...tableLines(r).map((line) => cols.map((c) => c.cell(line)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const render = (line: string[]) => line.map((cell, i) => (cols[i].left ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [
    'quantscope end-to-end bench',
    render(cells[0]),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...cells.slice(1).map(render),
    '',
    ...notes(r).map((n) => `  ${n}`),
  ].join('\n') + '\n';
}

export function formatE2eMarkdown(r: E2eReport): string {
  const cols = columns(r);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '## quantscope end-to-end bench',
    '',
    `| ${cols.map((c) => esc(c.header)).join(' | ')} |`,
    `|${cols.map((c) => (c.left ? ':---' : '---:')).join('|')}|`,
    ...tableLines(r).map((line) => `| ${cols.map((c) => esc(c.cell(line))).join(' | ')} |`),
    '',
    ...notes(r).map((n) => `- ${esc(n)}`),
  ].join('\n') + '\n';
}
