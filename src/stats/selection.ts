import { QuantscopeError } from '../errors.js';
import { LAYER_TAPS, OUTPUT_TAPS, type TapName } from '../model/taps.js';

/** Which taps, layers and positions a statistics run looks at. */
export interface StatsSelectionOptions {
  /** tap names (llama.cpp's tensor names, see model/taps.ts); default 'all' */
  taps?: readonly TapName[] | 'all';
  /** layers of the per-layer taps; default 'all'. Output taps (layer −1) are not filtered by layer. */
  layers?: readonly number[] | 'all';
  /** absolute positions in the session's context; default 'last' (the last evaluated token) */
  positions?: 'last' | 'all' | readonly number[];
}

/** A validated selection over the positions first … end−1 of one evaluation. */
export interface Selection {
  readonly taps: ReadonlySet<TapName>;
  readonly layers: ReadonlySet<number>;
  /** sorted absolute positions */
  readonly positions: readonly number[];
  /** some output tap (result_norm, result_output) is wanted at a position before the last */
  readonly outputBeforeLast: boolean;
  /** is (tap, layer) wanted at all (the cheap test done before looking at any position) */
  wants(name: TapName, layer: number): boolean;
  /** is this absolute position wanted */
  wantsPosition(pos: number): boolean;
}

const ALL_TAPS: readonly TapName[] = [...LAYER_TAPS, ...OUTPUT_TAPS];
const OUTPUT_SET: ReadonlySet<string> = new Set(OUTPUT_TAPS);

export function isTapName(name: string): name is TapName {
  return (ALL_TAPS as readonly string[]).includes(name);
}

export function isOutputTap(name: TapName): boolean {
  return OUTPUT_SET.has(name);
}

/** Tap names from user input; an unknown name is an invalid_argument error listing the known ones. */
export function resolveTaps(names: readonly string[] | 'all' = 'all'): TapName[] {
  if (names === 'all') return [...ALL_TAPS];
  for (const n of names) {
    if (!isTapName(n)) {
      throw new QuantscopeError('invalid_argument', `unknown tap '${n}'; the taps are: ${ALL_TAPS.join(', ')}`);
    }
  }
  return [...new Set(names as readonly TapName[])];
}

/** Layer indices checked against the model's layer count. */
export function resolveLayers(layers: readonly number[] | 'all' = 'all', nLayer: number): number[] {
  if (layers === 'all') return Array.from({ length: nLayer }, (_, l) => l);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= nLayer) {
      throw new QuantscopeError('invalid_argument',
        `layer ${l} does not exist: the model has ${nLayer} layer${nLayer === 1 ? '' : 's'} (0–${nLayer - 1})`);
    }
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** Absolute positions checked against the evaluated range first … end−1. */
export function resolvePositions(positions: 'last' | 'all' | readonly number[] = 'last', first: number, end: number): number[] {
  if (positions === 'last') return [end - 1];
  if (positions === 'all') return Array.from({ length: end - first }, (_, i) => first + i);
  for (const p of positions) {
    if (!Number.isInteger(p) || p < first || p >= end) {
      throw new QuantscopeError('invalid_argument',
        `position ${p} is not evaluated here: this evaluation covers positions ${first}–${end - 1}`);
    }
  }
  return [...new Set(positions)].sort((a, b) => a - b);
}

export function resolveSelection(opts: StatsSelectionOptions, nLayer: number, first: number, end: number): Selection {
  const taps = new Set(resolveTaps(opts.taps ?? 'all'));
  const layers = new Set(resolveLayers(opts.layers ?? 'all', nLayer));
  const positions = resolvePositions(opts.positions ?? 'last', first, end);
  const posSet = new Set(positions);
  const outputBeforeLast = positions.some((p) => p !== end - 1) && [...taps].some(isOutputTap);
  return {
    taps, layers, positions, outputBeforeLast,
    wants: (name, layer) => taps.has(name) && (layer < 0 || layers.has(layer)),
    wantsPosition: (pos) => posSet.has(pos),
  };
}
