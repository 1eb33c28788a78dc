import { InvalidArgumentError } from 'commander';
import { QuantscopeError } from '../errors.js';

/** commander argument parsers that reject what Number() would silently accept */
/** "≥ 0", "in [0, 1]", or "" for an unbounded range */
function range(min: number, max: number): string {
  if (Number.isFinite(min) && Number.isFinite(max)) return ` in [${min}, ${max}]`;
  if (Number.isFinite(min)) return ` ≥ ${min}`;
  if (Number.isFinite(max)) return ` ≤ ${max}`;
  return '';
}

export function intArg(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[-+]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      const bounds = min === Number.MIN_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER ? ' (a safe integer)' : range(min, max === Number.MAX_SAFE_INTEGER ? Infinity : max);
      throw new InvalidArgumentError(`expected an integer${bounds}`);
    }
    return n;
  };
}

export function floatArg(min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number${range(min, max)}`);
    }
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** "0,5,10" → [0, 5, 10]; "all" → 'all' (for --layers, --positions) */
export function indexList(flag: string, value: string, example: string): number[] | 'all' {
  if (value.trim() === 'all') return 'all';
  const items = value.split(',').map((s) => s.trim());
  for (const s of items) {
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
      throw new QuantscopeError('invalid_argument', `${flag}: '${s}' is not an index; expected a comma-separated list such as ${example}, or all`);
    }
  }
  return items.map(Number);
}
