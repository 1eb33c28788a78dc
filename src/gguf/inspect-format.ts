import type { InspectReport, TokenizerSummary } from './inspect.js';

const count = (n: number) => n.toLocaleString('en-US');

function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = n;
  let unit = -1;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return unit < 0 ? `${count(n)} B` : `${count(n)} B (${scaled.toFixed(2)} ${units[unit]})`;
}

const orDash = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

/** Columns padded to their widest cell; `right` columns are right-aligned (numbers). */
function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((r) => r[col].length)));
  const line = (r: readonly string[]) =>
    r.map((cell, col) => (right[col] ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join('  ').trimEnd();
  return all.map((r) => `  ${line(r)}`);
}

/** "label  value" lines with the values aligned. */
function pairs(entries: readonly (readonly [string, unknown])[]): string[] {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `  ${label.padEnd(width)}  ${orDash(value)}`);
}

function tokenizerLines(t: TokenizerSummary | null): string[] {
  if (!t) return ['  (no tokenizer metadata)'];
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  return pairs([
    ['model', t.model], ['pre', t.pre], ['vocab size', t.vocabSize],
    ['bos / eos id', `${orDash(t.bosId)} / ${orDash(t.eosId)}`],
    ['unk / pad id', `${orDash(t.unkId)} / ${orDash(t.padId)}`],
    ['add bos / eos', `${orDash(t.addBosToken)} / ${orDash(t.addEosToken)}`],
    ['scores', yesNo(t.hasScores)], ['token types', yesNo(t.hasTokenTypes)], ['merges', yesNo(t.hasMerges)],
    ['byte tokens', t.byteTokens], ['control tokens', t.controlTokens],
  ]);
}

export function formatInspect(r: InspectReport): string {
  const section = (title: string, lines: string[]) => [title, ...lines, ''];
  return [
    ...section('file', pairs([
      ['path', r.file], ['size', bytes(r.fileSize)], ['GGUF version', r.version],
      ['alignment', r.alignment], ['data offset', count(r.dataOffset)],
    ])),
    ...section('model', pairs([
      ['architecture', r.architecture], ['name', r.name],
      ['file type', r.fileType && `${r.fileType.name} (${r.fileType.id})`],
    ])),
    ...section('hyper-parameters', pairs(Object.entries(r.hyperParameters))),
    ...section('tokenizer', tokenizerLines(r.tokenizer)),
    ...section('other metadata', r.otherMetadata.length === 0 ? ['  (none)'] :
      table(['key', 'type', 'value'], r.otherMetadata.map((m) => [m.key, m.type, m.preview]))),
    ...section(`tensors (${r.tensors.length})`, table(
      ['name', 'type', 'dims', 'bytes', 'offset'],
      r.tensors.map((t) => [t.name, t.type, `[${t.dims.join(', ')}]`, count(t.nBytes), count(t.offset)]),
      [false, false, false, true, true],
    )),
    ...section('tensor types', table(
      ['type', 'tensors', 'bytes'],
      r.tensorTypes.map((t) => [t.type, count(t.count), count(t.bytes)]),
      [false, true, true],
    )),
    ...pairs([['parameters', count(r.totalParameters)], ['tensor bytes', bytes(r.totalTensorBytes)]]),
  ].join('\n') + '\n';
}
