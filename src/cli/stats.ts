import { loadModel, type Model } from '../model.js';
import { defaultModelPath } from '../paths.js';
import { QuantscopeError } from '../errors.js';
import { loadProgress } from './progress.js';
import { indexList } from './options.js';
import {
  collectStats, collectLayerTable, resolveLayers, resolveTaps, nextToken, tokenInfo, ANOMALY_LEGEND,
  type LayerRow, type StatsResult, type TokenInfo,
} from '../stats/index.js';
import { formatLayerRows, formatLegend, formatPositionHeader, formatTapEntries, formatToken } from '../stats/format.js';
import type { KernelKind } from '../wasm/instance.js';
import type { KvCacheType } from '../session.js';

export interface StatsCliOptions {
  model?: string;
  prompt?: string;
  layers?: string;
  tap?: string[];
  positions?: string;
  token?: number;
  json?: boolean;
  ctx?: number;
  generic?: boolean;
  kernels?: KernelKind | 'auto';
  threads?: number;
  kvType?: KvCacheType;
}

const bad = (message: string) => new QuantscopeError('invalid_argument', message);

function parsePositions(value = 'last'): 'last' | 'all' | number[] {
  return value.trim() === 'last' ? 'last' : indexList('--positions', value, '0,3');
}

function parseTaps(values: readonly string[] = []): string[] | 'all' | undefined {
  const names = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (values.length > 0 && names.length === 0) throw bad('--tap: no tap name given');
  if (names.length === 0) return undefined;
  return names.includes('all') ? 'all' : names;
}

interface Report {
  model: Model;
  prompt: string;
  result: StatsResult;
  next: TokenInfo;
  token?: TokenInfo;
  rows?: LayerRow[];
}

function toJson(r: Report): string {
  const { model, result } = r;
  return JSON.stringify({
    model: model.path,
    prompt: r.prompt,
    tokens: result.tokens.map((id, i) => ({ pos: result.firstPos + i, id, text: model.tokenText(id) })),
    next: r.next,
    ...(r.token ? { token: r.token } : {}),
    positions: result.positions,
    ...(r.rows ? { layers: r.rows, anomalyRules: ANOMALY_LEGEND } : {}),
    taps: result.entries.map(({ name, layer, pos, stats }) => ({ name, layer, pos, ...stats })),
  }, null, 2) + '\n';
}

function toText(r: Report): string {
  const { model, result } = r;
  let s = `prompt: ${JSON.stringify(r.prompt)} (${result.tokens.length} token${result.tokens.length === 1 ? '' : 's'})\n`;
  s += formatToken('next token', r.next);
  if (r.token) s += formatToken('token', r.token);
  for (const pos of result.positions) {
    const id = result.tokenAt(pos);
    s += '\n' + formatPositionHeader(pos, id, model.tokenText(id));
    s += r.rows ? formatLayerRows(r.rows.filter((row) => row.pos === pos)) : formatTapEntries(result.entries.filter((e) => e.pos === pos));
  }
  if (r.rows) s += formatLegend();
  return s;
}

/**
 * `quantscope stats`: the next token and per-layer statistics of the prompt's last position
 * (or of chosen positions, or the full statistics of chosen taps) to stdout; loading to stderr.
 */
export async function statsCommand(promptArg: string | undefined, o: StatsCliOptions): Promise<void> {
  if (promptArg !== undefined && o.prompt !== undefined) throw bad('give the prompt either as an argument or with -p, not both');
  const prompt = o.prompt ?? promptArg ?? '';
  const tapNames = parseTaps(o.tap);
  const taps = tapNames === undefined ? undefined : resolveTaps(tapNames);
  const layersSpec = o.layers === undefined ? 'all' : indexList('--layers', o.layers, '0,5,10');
  const positions = parsePositions(o.positions);

  const path = o.model ?? defaultModelPath();
  const progress = loadProgress(path);
  const model = await loadModel(path, { onProgress: progress.onProgress, generic: o.generic, kernels: o.kernels, threads: o.threads });
  progress.done(model.weightBytes);
  try {
    const layers = resolveLayers(layersSpec, model.config.nLayer);
    const tokens = model.tokenize(prompt);
    if (tokens.length === 0) throw bad('the prompt has no tokens (and the model adds no BOS): give a prompt');
    const session = model.createSession({ contextSize: o.ctx, kvType: o.kvType });
    let result: StatsResult;
    let rows: LayerRow[] | undefined;
    if (taps) result = collectStats(session, tokens, { taps, layers, positions });
    else ({ result, rows } = collectLayerTable(session, tokens, { layers, positions }));
    const report: Report = {
      model, prompt, result, rows, next: nextToken(model, result.logits),
      token: o.token === undefined ? undefined : tokenInfo(model, result.logits, o.token),
    };
    process.stdout.write(o.json ? toJson(report) : toText(report));
  } finally {
    model.dispose();
  }
}
