// Terminal and Markdown renderings of the compare document.
import type { CompareReport } from './report.js';
import { buildDocument, type Section, type Table } from './document.js';

/** Display width: one column per code point (the ⚠/✓ marks and token texts are narrow enough). */
const width = (s: string) => [...s].length;
const padTo = (s: string, w: number, align: 'left' | 'right') => (align === 'left' ? s + ' '.repeat(w - width(s)) : ' '.repeat(w - width(s)) + s);
const alignOf = (t: Table, c: number) => t.align?.[c] ?? (c === 0 ? 'left' : 'right');

function textTable(t: Table): string {
  const widths = t.headers.map((h, c) => Math.max(width(h), ...t.rows.map((r) => width(r[c] ?? ''))));
  const line = (cells: string[]) => cells.map((s, c) => padTo(s, widths[c], alignOf(t, c))).join('  ').trimEnd() + '\n';
  return line(t.headers) + line(widths.map((w) => '─'.repeat(w))) + t.rows.map(line).join('');
}

/** Plain-text report for a terminal. */
export function formatCompareText(r: CompareReport): string {
  return buildDocument(r).map((s: Section) => {
    let out = `== ${s.title} ==\n`;
    for (const l of s.lines ?? []) out += l + '\n';
    for (const l of s.items ?? []) out += '- ' + l + '\n';
    if (s.table) out += textTable(s.table);
    for (const n of s.notes ?? []) out += '  ' + n + '\n';
    return out;
  }).join('\n');
}

const mdCell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function markdownTable(t: Table): string {
  const sep = t.headers.map((_, c) => (alignOf(t, c) === 'right' ? '---:' : '---'));
  const row = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |\n`;
  return row(t.headers) + `| ${sep.join(' | ')} |\n` + t.rows.map(row).join('');
}

/** A Markdown report to paste into notes or an issue, section by section like the terminal one. */
export function formatCompareMarkdown(r: CompareReport, opts: { title?: string } = {}): string {
  const title = opts.title ?? `quantscope compare: ${r.files.map((f) => f.file.format).join(' vs ')}`;
  return `# ${mdCell(title)}\n\n` + buildDocument(r).map((s) => {
    let out = `## ${s.title}\n\n`;
    for (const l of s.lines ?? []) out += mdCell(l) + '\n\n';
    if (s.items?.length) out += s.items.map((l) => `- ${mdCell(l)}`).join('\n') + '\n\n';
    if (s.table) out += markdownTable(s.table) + '\n';
    if (s.notes?.length) out += s.notes.map((n) => `- ${mdCell(n)}`).join('\n') + '\n\n';
    return out;
  }).join('');
}
