import { GgufError } from '../errors.js';
import type { NumericValueType } from './value-types.js';

/**
 * Request from the parser to its driver: "buffer at least `length` bytes starting at `at`".
 * The parser is a generator so that the same code runs synchronously over an in-memory buffer
 * and asynchronously over a file handle (the async driver answers each request with `fh.read`).
 */
export interface RefillRequest {
  readonly at: number;
  readonly length: number;
}

export type Parse<T> = Generator<RefillRequest, T, void>;

const utf8 = new TextDecoder('utf-8');
/** TextDecoder's per-call overhead dominates for tokens; below this length ASCII is decoded by hand. */
const SHORT_STRING = 32;

function decodeShort(bytes: Uint8Array, at: number, n: number): string {
  let text = '';
  for (let i = at; i < at + n; i++) {
    if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(at, at + n));
    text += String.fromCharCode(bytes[i]);
  }
  return text;
}

/**
 * A little-endian read position over a file of known size, of which only a window is buffered.
 * Reads never go past the window: callers first `yield* need(n, what)`, which reports
 * truncation as a GgufError (before any allocation) and otherwise asks for a refill if needed.
 */
export class ByteCursor {
  /** absolute offset of the next byte to read */
  pos = 0;
  private window: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.window.buffer);
  /** absolute offset of window[0] */
  private windowStart = 0;

  constructor(readonly file: string, readonly fileSize: number) {}

  /** Replace the buffered bytes with `bytes`, which start at absolute offset `at`. */
  setWindow(at: number, bytes: Uint8Array): void {
    // a plain Uint8Array view: Buffer.subarray (node's Buffer is a subclass) is several times slower
    this.window = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.windowStart = at;
  }

  /** bytes left in the file after `pos` */
  get remaining(): number {
    return this.fileSize - this.pos;
  }

  private get buffered(): number {
    return this.windowStart + this.window.byteLength - this.pos;
  }

  error(reason: string, at = this.pos): GgufError {
    return new GgufError(this.file, at, reason);
  }

  /** Make `n` bytes readable at `pos`, or fail with "truncated" if the file is too short. */
  *need(n: number, what: string): Parse<void> {
    if (n > this.remaining) {
      throw this.error(`file truncated: ${what} needs ${n} bytes but only ${this.remaining} remain (file size ${this.fileSize})`);
    }
    if (n > this.buffered) yield { at: this.pos, length: n };
  }

  private take(n: number): number {
    const at = this.pos - this.windowStart;
    this.pos += n;
    return at;
  }

  u8(): number { return this.view.getUint8(this.take(1)); }
  u32(): number { return this.view.getUint32(this.take(4), true); }
  u64(): bigint { return this.view.getBigUint64(this.take(8), true); }
  i64(): bigint { return this.view.getBigInt64(this.take(8), true); }

  numeric(type: NumericValueType): number | bigint {
    return type.get(this.view, this.take(type.size));
  }

  utf8(n: number): string {
    const at = this.take(n);
    return n <= SHORT_STRING ? decodeShort(this.window, at, n) : utf8.decode(this.window.subarray(at, at + n));
  }

  /**
   * The next length-prefixed string if it lies entirely in the window, else undefined with
   * nothing consumed. Vocabularies hold ~10^5 short strings: this path skips the generator
   * machinery, and the general path (`readString`) still does all checks and refills.
   */
  bufferedString(): string | undefined {
    const at = this.pos - this.windowStart;
    if (at + 8 > this.window.byteLength) return undefined;
    const low = this.view.getUint32(at, true);
    const high = this.view.getUint32(at + 4, true);
    if (high !== 0 || low > this.window.byteLength - at - 8) return undefined;
    this.pos += 8;
    return this.utf8(low);
  }
}
