// The e2e bench report as a terminal table or Markdown (the JSON form is the E2eReport itself).
import type { E2eReport, E2eRow, EngineOutcome } from './e2e.bench.js';

const MB = 1e6;
const fixed = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const speed = (o: EngineOutcome | null, key: 'ppTokS' | 'tgTokS') => (o === null ? '-' : o.ok ? fixed(o.speed[key]) : 'failed');
const rss = (o: EngineOutcome | null) => (o === null ? '-' : o.ok ? fixed(o.speed.maxRssBytes / MB, 0) : 'failed');

interface Column { header: string; cell: (row: E2eRow) => string; left?: boolean }

function columns(r: E2eReport): Column[] {
  const pp = `pp${r.timing.promptTokens}`;
  const tg = `tg${r.timing.genTokens}`;
  const withLlama = r.llamaCpp.status === 'ok';
  return [
    { header: 'format', cell: (row) => row.format, left: true },
    { header: 'file MB', cell: (row) => fixed(row.fileBytes / MB, 0) },
    { header: 'kernel', cell: (row) => row.kernelType, left: true },
    { header: 'SIMD GB/s', cell: (row) => fixed(row.kernel?.simdGBs) },
    { header: 'generic GB/s', cell: (row) => fixed(row.kernel?.genericGBs) },
    { header: `${pp} t/s`, cell: (row) => speed(row.ours, 'ppTokS') },
    { header: `${tg} t/s`, cell: (row) => speed(row.ours, 'tgTokS') },
    { header: 'RSS MB', cell: (row) => rss(row.ours) },
    { header: 'decode GB/s', cell: (row) => fixed(row.decode.gbs) },
    { header: 'of bw', cell: (row) => (row.decode.ofBandwidth === null ? '-' : `${(100 * row.decode.ofBandwidth).toFixed(0)}%`) },
    ...(withLlama ? [
      { header: `llama ${pp}`, cell: (row: E2eRow) => speed(row.llamaCpp, 'ppTokS') },
      { header: `llama ${tg}`, cell: (row: E2eRow) => speed(row.llamaCpp, 'tgTokS') },
      { header: 'llama RSS MB', cell: (row: E2eRow) => rss(row.llamaCpp) },
      { header: `${pp} ours/llama`, cell: (row: E2eRow) => (row.ratio ? `${row.ratio.pp.toFixed(2)}×` : '-') },
      { header: `${tg} ours/llama`, cell: (row: E2eRow) => (row.ratio ? `${row.ratio.tg.toFixed(2)}×` : '-') },
    ] : []),
  ];
}

/** Other processes busy during a measurement, or runs more than 25% apart (the same cause, most likely): say so. */
const SPREAD_LIMIT = 0.25;
/** cores of other work during a measurement above which the report says so */
const OTHER_LOAD_LIMIT = 0.2;
function spreadWarnings(row: E2eRow): string[] {
  const out: string[] = [];
  for (const [who, o] of [['quantscope', row.ours], ['llama.cpp', row.llamaCpp]] as const) {
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
  const b = r.bandwidth;
  lines.push(`memory bandwidth (1 thread, WASM v128 reads of ${(b.bytes / 2 ** 20).toFixed(0)} MiB): ${b.median.toFixed(2)} GB/s median, ` +
    `${b.best.toFixed(2)} best; "decode GB/s" = weight bytes read per token × tg tokens/s, "of bw" its share of the median` +
    (r.threads.quantscope !== null && r.threads.quantscope > 1 ? ` (a 1-thread figure: ${r.threads.quantscope} threads may read faster)` : ''));
  if (r.kernels) lines.push(`kernel columns: mat×vec ${r.kernels.rows}×${r.kernels.cols} of the file's main weight type on one thread, GB/s of weight bytes (in cache)`);
  const l = r.llamaCpp;
  lines.push(l.status === 'ok' ? `llama.cpp: ${l.engine ?? 'node-llama-cpp'}, same file, token ids and batch, F32 KV cache, mmap (its RSS counts the mapped file)`
    : `llama.cpp: ${l.status} — ${l.reason}`);
  lines.push(`machine: ${r.cpu.model}, ${r.cpu.cores} cores, node ${r.node}`);
  for (const row of r.rows) {
    if (!row.ours.ok) lines.push(`${row.format}: quantscope failed: ${row.ours.error}`);
    if (row.llamaCpp && !row.llamaCpp.ok) lines.push(`${row.format}: llama.cpp failed: ${row.llamaCpp.error}`);
    lines.push(...spreadWarnings(row));
  }
  lines.push(...r.notes);
  return lines;
}

export function formatE2eText(r: E2eReport): string {
  const cols = columns(r);
  const cells = [cols.map((c) => c.header), ...r.rows.map((row) => cols.map((c) => c.cell(row)))];
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
    ...r.rows.map((row) => `| ${cols.map((c) => esc(c.cell(row))).join(' | ')} |`),
    '',
    ...notes(r).map((n) => `- ${esc(n)}`),
  ].join('\n') + '\n';
}
