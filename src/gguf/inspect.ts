import { ggmlTypeName } from '../quant/ggml-types.js';
import { llamaFileTypeName } from './file-types.js';
import { formatInspect } from './inspect-format.js';
import { describeEntryType } from './metadata.js';
import { GgufValueType, type GgufFile, type GgufMetadataEntry, type GgufValue } from './types.js';
import { valueTypeName } from './value-types.js';

export { formatInspect };

/** Everything `quantscope inspect` shows; plain JSON data (no bigint, no typed arrays). */
export interface InspectReport {
  readonly file: string;
  readonly fileSize: number;
  readonly version: number;
  readonly alignment: number;
  readonly dataOffset: number;
  readonly architecture: string | null;
  readonly name: string | null;
  readonly fileType: { readonly id: number; readonly name: string } | null;
  /** `<arch>.<suffix>` values by suffix; null when absent; a preview string when not a number */
  readonly hyperParameters: Readonly<Record<string, number | string | null>>;
  readonly tokenizer: TokenizerSummary | null;
  readonly otherMetadata: readonly MetadataPreview[];
  readonly tensors: readonly TensorRow[];
  readonly tensorTypes: readonly TensorTypeTotal[];
  readonly totalParameters: number;
  readonly totalTensorBytes: number;
}

export interface TokenizerSummary {
  readonly model: string | null;
  readonly pre: string | null;
  readonly vocabSize: number | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly unkId: number | null;
  readonly padId: number | null;
  readonly addBosToken: boolean | null;
  readonly addEosToken: boolean | null;
  readonly hasScores: boolean;
  readonly hasTokenTypes: boolean;
  readonly hasMerges: boolean;
  /** tokens spelled `<0xNN>` (SentencePiece byte fallback) */
  readonly byteTokens: number;
  /** tokens whose token_type is 3 (CONTROL) */
  readonly controlTokens: number;
}

export interface MetadataPreview {
  readonly key: string;
  readonly type: string;
  readonly preview: string;
}

export interface TensorRow {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly nElements: number;
  readonly nBytes: number;
  /** relative to the data section */
  readonly offset: number;
  readonly fileOffset: number;
}

export interface TensorTypeTotal {
  readonly type: string;
  readonly count: number;
  readonly bytes: number;
}

export const HYPER_PARAMETER_SUFFIXES: readonly string[] = [
  'context_length', 'embedding_length', 'block_count', 'feed_forward_length',
  'attention.head_count', 'attention.head_count_kv', 'rope.dimension_count', 'rope.freq_base',
  'attention.layer_norm_rms_epsilon', 'vocab_size',
];

const TOKENIZER_KEYS = {
  model: 'tokenizer.ggml.model',
  pre: 'tokenizer.ggml.pre',
  tokens: 'tokenizer.ggml.tokens',
  scores: 'tokenizer.ggml.scores',
  tokenType: 'tokenizer.ggml.token_type',
  merges: 'tokenizer.ggml.merges',
  bosId: 'tokenizer.ggml.bos_token_id',
  eosId: 'tokenizer.ggml.eos_token_id',
  unkId: 'tokenizer.ggml.unknown_token_id',
  padId: 'tokenizer.ggml.padding_token_id',
  addBos: 'tokenizer.ggml.add_bos_token',
  addEos: 'tokenizer.ggml.add_eos_token',
} as const;

const CONTROL_TOKEN_TYPE = 3;
const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;
const MAX_PREVIEW_CHARS = 60;
const MAX_PREVIEW_ELEMENTS = 8;

// Inspect shows whatever is in the file, so these read leniently: a wrong type yields null, not an error.
const asNumber = (v: GgufValue | undefined) => (typeof v === 'number' || typeof v === 'bigint' ? Number(v) : null);
const asString = (v: GgufValue | undefined) => (typeof v === 'string' ? v : null);
const asBoolean = (v: GgufValue | undefined) => (typeof v === 'boolean' ? v : null);
const isArray = (v: GgufValue | undefined): v is ArrayLike<unknown> & GgufValue => Array.isArray(v) || ArrayBuffer.isView(v);

/** The shortest decimal that reads back as the same f32: 1e-5, not 0.000009999999747378752. */
function shortestF32(x: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/** A numeric metadata value as a JSON-friendly number (f32 shortened, 64-bit integers converted). */
function numberOf(entry: GgufMetadataEntry): number | null {
  const n = asNumber(entry.value);
  return n !== null && entry.type === GgufValueType.FLOAT32 ? shortestF32(n) : n;
}

function scalarPreview(value: unknown, type?: GgufValueType): string {
  if (type === GgufValueType.FLOAT32 && typeof value === 'number') return String(shortestF32(value));
  if (typeof value !== 'string') return String(value);
  const quoted = JSON.stringify(value);
  return quoted.length <= MAX_PREVIEW_CHARS ? quoted : `${quoted.slice(0, MAX_PREVIEW_CHARS - 1)}… (${value.length} chars)`;
}

/** Short human-readable form of a value: long strings cut, long arrays as "[N × type]". */
export function previewValue(entry: Pick<GgufMetadataEntry, 'type' | 'arrayType' | 'value'>): string {
  if (!isArray(entry.value)) return scalarPreview(entry.value, entry.type);
  const elements = Array.from(entry.value);
  const summary = `[${elements.length} × ${valueTypeName(entry.arrayType ?? GgufValueType.ARRAY)}]`;
  if (elements.length > MAX_PREVIEW_ELEMENTS || entry.arrayType === GgufValueType.ARRAY) return summary;
  const listed = `[${elements.map((e) => scalarPreview(e, entry.arrayType)).join(', ')}]`;
  return listed.length <= MAX_PREVIEW_CHARS ? listed : summary;
}

function summarizeTokenizer(metadata: ReadonlyMap<string, GgufMetadataEntry>): TokenizerSummary | null {
  if (![...metadata.keys()].some((k) => k.startsWith('tokenizer.'))) return null;
  const value = (key: string) => metadata.get(key)?.value;
  const tokens = value(TOKENIZER_KEYS.tokens);
  const tokenTypes = value(TOKENIZER_KEYS.tokenType);
  const tokenList = Array.isArray(tokens) ? tokens : [];
  const typeList = isArray(tokenTypes) ? Array.from(tokenTypes) : [];
  return {
    model: asString(value(TOKENIZER_KEYS.model)),
    pre: asString(value(TOKENIZER_KEYS.pre)),
    vocabSize: isArray(tokens) ? tokens.length : null,
    bosId: asNumber(value(TOKENIZER_KEYS.bosId)),
    eosId: asNumber(value(TOKENIZER_KEYS.eosId)),
    unkId: asNumber(value(TOKENIZER_KEYS.unkId)),
    padId: asNumber(value(TOKENIZER_KEYS.padId)),
    addBosToken: asBoolean(value(TOKENIZER_KEYS.addBos)),
    addEosToken: asBoolean(value(TOKENIZER_KEYS.addEos)),
    hasScores: metadata.has(TOKENIZER_KEYS.scores),
    hasTokenTypes: metadata.has(TOKENIZER_KEYS.tokenType),
    hasMerges: metadata.has(TOKENIZER_KEYS.merges),
    byteTokens: tokenList.filter((t) => typeof t === 'string' && BYTE_TOKEN.test(t)).length,
    controlTokens: typeList.filter((t) => Number(t) === CONTROL_TOKEN_TYPE).length,
  };
}

function hyperParametersOf(metadata: ReadonlyMap<string, GgufMetadataEntry>, architecture: string | null) {
  const values: Record<string, number | string | null> = {};
  for (const suffix of HYPER_PARAMETER_SUFFIXES) {
    const entry = architecture === null ? undefined : metadata.get(`${architecture}.${suffix}`);
    values[suffix] = entry === undefined ? null : numberOf(entry) ?? previewValue(entry);
  }
  return values;
}

function tensorTypeTotals(rows: readonly TensorRow[]): TensorTypeTotal[] {
  const totals = new Map<string, { type: string; count: number; bytes: number }>();
  for (const row of rows) {
    const total = totals.get(row.type) ?? { type: row.type, count: 0, bytes: 0 };
    total.count += 1;
    total.bytes += row.nBytes;
    totals.set(row.type, total);
  }
  return [...totals.values()].sort((a, b) => b.bytes - a.bytes);
}

export function inspectGguf(file: GgufFile): InspectReport {
  const { metadata } = file;
  const architecture = asString(metadata.get('general.architecture')?.value);
  const fileTypeId = asNumber(metadata.get('general.file_type')?.value);
  const shownElsewhere = new Set<string>([
    'general.architecture', 'general.name', 'general.file_type', 'general.alignment',
    ...Object.values(TOKENIZER_KEYS),
    ...(architecture === null ? [] : HYPER_PARAMETER_SUFFIXES.map((s) => `${architecture}.${s}`)),
  ]);
  const tensors: TensorRow[] = file.tensors.map((t) => ({
    name: t.name, type: ggmlTypeName(t.type), dims: [...t.dims], nElements: t.nElements, nBytes: t.nBytes,
    offset: t.offset, fileOffset: t.fileOffset,
  }));
  return {
    file: file.path,
    fileSize: file.fileSize,
    version: file.version,
    alignment: file.alignment,
    dataOffset: file.dataOffset,
    architecture,
    name: asString(metadata.get('general.name')?.value),
    fileType: fileTypeId === null ? null : { id: fileTypeId, name: llamaFileTypeName(fileTypeId) },
    hyperParameters: hyperParametersOf(metadata, architecture),
    tokenizer: summarizeTokenizer(metadata),
    otherMetadata: [...metadata.values()]
      .filter((e) => !shownElsewhere.has(e.key))
      .map((e) => ({ key: e.key, type: describeEntryType(e), preview: previewValue(e) })),
    tensors,
    tensorTypes: tensorTypeTotals(tensors),
    totalParameters: tensors.reduce((sum, t) => sum + t.nElements, 0),
    totalTensorBytes: tensors.reduce((sum, t) => sum + t.nBytes, 0),
  };
}
