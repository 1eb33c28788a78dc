import { QuantscopeError } from '../errors.js';
import type { Session } from '../session.js';
import { LAYER_TAPS, OUTPUT_TAPS, type TapFn, type TapName } from '../model/taps.js';
import { computeStats, type TensorStats } from './tensor-stats.js';
import { resolveSelection, type StatsSelectionOptions } from './selection.js';

/** Called with one position's vector of a selected tap: a view, valid only during the call. */
export type StatsTapHook = (name: TapName, layer: number, pos: number, view: Float32Array) => void;

export interface CollectStatsOptions extends StatsSelectionOptions {
  /** keep a copy of every selected vector in its TensorStats (`values`); default false */
  keepValues?: boolean;
  /** custom analyses: receives each selected (tap, layer, position) vector */
  onTap?: StatsTapHook;
}

/** The statistics of one tap of one layer (−1 for the output taps) at one absolute position. */
export interface TapStatsEntry {
  readonly name: TapName;
  readonly layer: number;
  readonly pos: number;
  readonly stats: TensorStats;
}

const TAP_ORDER = new Map<TapName, number>([...LAYER_TAPS, ...OUTPUT_TAPS].map((n, i) => [n, i]));
const key = (name: TapName, layer: number, pos: number) => `${name}/${layer}/${pos}`;

/** What `collectStats` returns: the last position's logits and the statistics, by tap, layer and position. */
export class StatsResult {
  /** the token ids evaluated, at positions firstPos … lastPos (a pending sampled token included) */
  readonly tokens: readonly number[];
  readonly firstPos: number;
  readonly lastPos: number;
  /** the selected absolute positions, sorted */
  readonly positions: readonly number[];
  /** logits of the last evaluated position */
  readonly logits: Float32Array;
  /** every entry, ordered by layer (output taps last), then tap (forward-pass order), then position */
  readonly entries: readonly TapStatsEntry[];
  private readonly byKey: ReadonlyMap<string, TensorStats>;

  constructor(tokens: readonly number[], firstPos: number, positions: readonly number[], logits: Float32Array, entries: TapStatsEntry[]) {
    this.tokens = tokens;
    this.firstPos = firstPos;
    this.lastPos = firstPos + tokens.length - 1;
    this.positions = positions;
    this.logits = logits;
    const layerRank = (l: number) => (l < 0 ? Number.MAX_SAFE_INTEGER : l);
    this.entries = entries.sort((a, b) => layerRank(a.layer) - layerRank(b.layer)
      || TAP_ORDER.get(a.name)! - TAP_ORDER.get(b.name)! || a.pos - b.pos);
    this.byKey = new Map(entries.map((e) => [key(e.name, e.layer, e.pos), e.stats]));
  }

  /** Statistics of tap `name` in `layer` (−1 for result_norm/result_output) at `pos` (default: the last). */
  get(name: TapName, layer: number, pos: number = this.lastPos): TensorStats | undefined {
    return this.byKey.get(key(name, layer, pos));
  }

  /** The token id evaluated at absolute position `pos`. */
  tokenAt(pos: number): number {
    const id = this.tokens[pos - this.firstPos];
    if (id === undefined) throw new QuantscopeError('invalid_argument', `position ${pos} is outside ${this.firstPos}–${this.lastPos}`);
    return id;
  }
}

/**
 * Evaluate `tokens` after the session's context and gather statistics of the selected taps,
 * layers and positions (absolute: pos0 + row). Nothing is computed for what is not selected.
 * Output taps at positions before the last make the pass compute every position's logits; the
 * output head then sums in the batch order (as llama.cpp's does for several rows), so the last
 * position's logits can differ from a plain `evaluate`'s in the last bits.
 */
export function collectStats(session: Session, tokens: readonly number[], opts: CollectStatsOptions = {}): StatsResult {
  const first = session.position;
  const end = session.tokens.length + tokens.length; // a pending sampled token is evaluated first
  if (end === first) throw new QuantscopeError('invalid_argument', 'collectStats: no tokens to evaluate');
  const { nLayer, nVocab } = session.model.config;
  const sel = resolveSelection(opts, nLayer, first, end);
  const lo = sel.positions[0];
  const hi = sel.positions[sel.positions.length - 1];
  const keepValues = opts.keepValues ?? false;
  const entries: TapStatsEntry[] = [];

  const onTap: TapFn = (name, layer, data, nTok, width, pos0) => {
    if (!sel.wants(name, layer)) return;
    const r0 = Math.max(0, lo - pos0);
    const r1 = Math.min(nTok, hi - pos0 + 1);
    for (let r = r0; r < r1; r++) {
      const pos = pos0 + r;
      if (!sel.wantsPosition(pos)) continue;
      const view = data.subarray(r * width, (r + 1) * width);
      entries.push({ name, layer, pos, stats: computeStats(view, keepValues) });
      opts.onTap?.(name, layer, pos, view);
    }
  };

  const out = session.evaluate(tokens, { onTap, logits: sel.outputBeforeLast ? 'all' : 'last' });
  const logits = out.length === nVocab ? out : out.slice(out.length - nVocab);
  return new StatsResult(session.tokens.slice(first, end), first, sel.positions, logits, entries);
}
