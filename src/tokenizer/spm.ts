/**
 * The SentencePiece-style ("llama") tokenizer as llama.cpp c392e50 implements it in
 * src/llama-vocab.cpp: `tokenizer_st_partition` (special tokens), `llm_tokenizer_spm_session`
 * (bigram merges by score, resegmentation with byte fallback), `llama_vocab::impl::tokenize`,
 * `token_to_piece` and `detokenize`.
 *
 * All text is handled as UTF-8 bytes (held in "binary strings", one char code per byte), because
 * that is what llama.cpp does: it splits the input into characters by the length its UTF-8 lead
 * byte announces, and falls back to byte tokens for characters that are not pieces.
 */
import { QuantscopeError } from '../errors.js';
import { TokenAttr, Vocab, bytesToBinaryString } from './vocab.js';

export interface TokenizeOptions {
  /** add BOS / EOS as the vocabulary asks (`tokenizer.ggml.add_bos_token` / `add_eos_token`); default true */
  readonly addSpecial?: boolean;
  /** recognise CONTROL and UNKNOWN token texts (`<s>`, `<unk>`, …) in the input; default false.
   *  USER_DEFINED tokens are always recognised, as in llama.cpp. */
  readonly parseSpecial?: boolean;
}

export interface TokenToPieceOptions {
  /** render CONTROL and UNKNOWN tokens as their text (otherwise they render as nothing); default false */
  readonly special?: boolean;
  /** skip up to this many leading spaces of the piece; default 0 */
  readonly lstrip?: number;
}

export interface DetokenizeOptions {
  /** drop a leading BOS and a trailing EOS when the vocabulary adds them; default false */
  readonly removeSpecial?: boolean;
  /** render CONTROL and UNKNOWN tokens as their text; default false */
  readonly unparseSpecial?: boolean;
}

const utf8Encoder = new TextEncoder();

/** UTF-8 sequence length by the high nibble of the lead byte (llama.cpp `unicode_len_utf8`). */
const UTF8_LEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4] as const;

/** `▁` (U+2581) as a binary string of its UTF-8 */
const SPACE_MARK = '\xe2\x96\x81';

/** C `isspace` in the "C" locale */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** A piece of the input: raw text [start, end) of the binary string, or a special token (`token` ≥ 0). */
interface Fragment {
  readonly token: number;
  readonly start: number;
  readonly end: number;
}

const textFragment = (start: number, end: number): Fragment => ({ token: -1, start, end });

/**
 * Split raw text around special tokens (llama.cpp `tokenizer_st_partition`): for each special token,
 * longest first, every text fragment is cut at each of its occurrences, left to right. LSTRIP /
 * RSTRIP tokens also eat the whitespace next to them.
 */
function partition(vocab: Vocab, raw: string, parseSpecial: boolean): Fragment[] {
  let frags: Fragment[] = raw.length > 0 ? [textFragment(0, raw.length)] : [];
  for (const id of vocab.specialTokens) {
    const attr = vocab.attrs[id]!;
    // control and unknown tokens only when parsing special tokens; user-defined ones always
    if (!parseSpecial && attr & (TokenAttr.CONTROL | TokenAttr.UNKNOWN)) continue;
    const st = vocab.binaryText(id);
    if (raw.indexOf(st) === -1) continue; // fast path: nowhere in the input

    const out: Fragment[] = [];
    for (const f of frags) {
      if (f.token >= 0) {
        out.push(f);
        continue;
      }
      let off = f.start;
      let end = f.end;
      for (;;) {
        const m = raw.indexOf(st, off);
        if (m === -1 || m + st.length > end) {
          if (end > off) out.push(textFragment(off, end));
          break;
        }
        if (m > off) {
          let leftLen = m - off;
          if (attr & TokenAttr.LSTRIP) {
            while (leftLen > 0 && isSpace(raw.charCodeAt(off + leftLen - 1))) leftLen--;
          }
          if (leftLen > 0) out.push(textFragment(off, off + leftLen));
        }
        out.push({ token: id, start: m, end: m + st.length });
        if (m + st.length >= end) break;
        let rightOff = m + st.length;
        if (attr & TokenAttr.RSTRIP) {
          while (rightOff < end && isSpace(raw.charCodeAt(rightOff))) rightOff++;
        }
        off = rightOff;
      }
    }
    frags = out;
  }
  return frags;
}

/**
 * A max-heap of candidate merges: highest score first, then leftmost (llama.cpp `llm_bigram_spm`
 * in a `std::priority_queue`). Entries live in parallel typed arrays; sifting moves a hole instead
 * of swapping.
 */
class BigramQueue {
  private left: Int32Array;
  private right: Int32Array;
  private size: Int32Array;
  private score: Float64Array;
  length = 0;
  /** fields of the entry the last pop() removed */
  topLeft = 0;
  topRight = 0;
  topSize = 0;

  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.left = new Int32Array(c);
    this.right = new Int32Array(c);
    this.size = new Int32Array(c);
    this.score = new Float64Array(c);
  }

  private grow(): void {
    const c = this.left.length * 2;
    const l = new Int32Array(c); l.set(this.left); this.left = l;
    const r = new Int32Array(c); r.set(this.right); this.right = r;
    const z = new Int32Array(c); z.set(this.size); this.size = z;
    const s = new Float64Array(c); s.set(this.score); this.score = s;
  }

  push(left: number, right: number, score: number, size: number): void {
    if (this.length === this.left.length) this.grow();
    const L = this.left, R = this.right, Z = this.size, S = this.score;
    let i = this.length++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = S[p]!;
      // stop when the parent comes out first
      if (ps > score || (ps === score && L[p]! < left)) break;
      L[i] = L[p]!; R[i] = R[p]!; Z[i] = Z[p]!; S[i] = ps;
      i = p;
    }
    L[i] = left; R[i] = right; Z[i] = size; S[i] = score;
  }

  /** Remove the top entry; its fields are left in topLeft / topRight / topSize. */
  pop(): void {
    const L = this.left, R = this.right, Z = this.size, S = this.score;
    this.topLeft = L[0]!;
    this.topRight = R[0]!;
    this.topSize = Z[0]!;
    const n = --this.length;
    if (n === 0) return;
    // sift the last entry down from the root
    const left = L[n]!, right = R[n]!, size = Z[n]!, score = S[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cs = S[c]!;
      const r = c + 1;
      if (r < n) {
        const rs = S[r]!;
        if (rs > cs || (rs === cs && L[r]! < L[c]!)) { c = r; cs = rs; }
      }
      // stop when the moving entry comes out before the better child
      if (score > cs || (score === cs && left < L[c]!)) break;
      L[i] = L[c]!; R[i] = R[c]!; Z[i] = Z[c]!; S[i] = cs;
      i = c;
    }
    L[i] = left; R[i] = right; Z[i] = size; S[i] = score;
  }
}

/**
 * Tokenize one raw-text fragment (already space-escaped, as a binary string) with the SPM bigram
 * merge (llama.cpp `llm_tokenizer_spm_session::tokenize`), appending ids to `out`.
 */
function spmSession(vocab: Vocab, text: string, out: number[]): void {
  const len = text.length;
  if (len === 0) return;

  // split into UTF-8 characters by the lead byte's announced length
  const start = new Int32Array(len);
  const n = new Int32Array(len);
  const prev = new Int32Array(len);
  const next = new Int32Array(len);
  let count = 0;
  for (let offs = 0; offs < len;) {
    const l = Math.min(UTF8_LEN[text.charCodeAt(offs) >> 4]!, len - offs);
    start[count] = offs;
    n[count] = l;
    prev[count] = count - 1;
    offs += l;
    next[count] = offs === len ? -1 : count + 1;
    count++;
  }

  const scores = vocab.scores;
  const queue = new BigramQueue(count);
  const tryAddBigram = (left: number, right: number): void => {
    if (left === -1 || right === -1) return;
    const size = n[left]! + n[right]!;
    const id = vocab.idOfBinary(text.substr(start[left]!, size));
    if (id === undefined) return;
    queue.push(left, right, scores[id]!, size);
  };

  // seed the queue with every pair of adjacent characters
  for (let i = 1; i < count; i++) tryAddBigram(i - 1, i);

  // merge the best pair for as long as there is one
  while (queue.length > 0) {
    queue.pop();
    const left = queue.topLeft;
    const right = queue.topRight;
    // skip pairs one of whose symbols has been merged since the pair was queued
    if (n[left] === 0 || n[right] === 0 || n[left]! + n[right]! !== queue.topSize) continue;
    n[left] = n[left]! + n[right]!;
    n[right] = 0;
    const after = next[right]!;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    tryAddBigram(prev[left]!, left);
    tryAddBigram(left, after);
  }

  // resegment: every symbol is now a piece or a single character that is not one. (llama.cpp's
  // rev_merge lookup for the latter can never hit: merges only ever build vocabulary pieces, and a
  // single character is never the concatenation of two adjacent characters.) Characters that are
  // not pieces become their bytes' tokens.
  for (let i = 0; i !== -1; i = next[i]!) {
    const piece = text.substr(start[i]!, n[i]!);
    const id = vocab.idOfBinary(piece);
    if (id !== undefined) {
      out.push(id);
      continue;
    }
    for (let j = 0; j < piece.length; j++) {
      let t = vocab.byteToToken(piece.charCodeAt(j));
      if (t < 0) {
        // llama.cpp throws here (byte_to_token: token_to_id.at); fall back to <unk> instead
        if (vocab.unkId === null) {
          throw new QuantscopeError(
            'invalid_argument',
            `byte 0x${piece.charCodeAt(j).toString(16).padStart(2, '0')} of the input has no token: the vocabulary has no byte tokens and no unknown token`,
          );
        }
        t = vocab.unkId;
      }
      out.push(t);
    }
  }
}

/**
 * Text → token ids, as llama.cpp's `llama_tokenize` does for a SPM vocabulary. A string is first
 * encoded as UTF-8 (lone surrogates become U+FFFD); bytes are used as they are.
 */
export function tokenize(vocab: Vocab, text: string | Uint8Array, options: TokenizeOptions = {}): number[] {
  const addSpecial = options.addSpecial ?? true;
  const parseSpecial = options.parseSpecial ?? false;
  const raw = bytesToBinaryString(typeof text === 'string' ? utf8Encoder.encode(text) : text);
  const frags = partition(vocab, raw, parseSpecial);

  const out: number[] = [];
  if (addSpecial && vocab.addBos) {
    if (vocab.bosId === null) throw new QuantscopeError('invalid_argument', 'the vocabulary asks for a BOS token but has none');
    out.push(vocab.bosId);
  }
  // the first text fragment, and every text fragment right after a special token, gets the space prefix
  let prevSpecial = true;
  for (const f of frags) {
    if (f.token >= 0) {
      out.push(f.token);
      prevSpecial = true;
      continue;
    }
    let piece = raw.substring(f.start, f.end);
    if (vocab.addSpacePrefix && prevSpecial) piece = ' ' + piece;
    spmSession(vocab, piece.replaceAll(' ', SPACE_MARK), out);
    prevSpecial = false;
  }
  if (addSpecial && vocab.addEos) {
    if (vocab.eosId === null) throw new QuantscopeError('invalid_argument', 'the vocabulary asks for an EOS token but has none');
    out.push(vocab.eosId);
  }
  return out;
}

/** The piece's bytes without copying (callers must not modify them). */
function pieceView(vocab: Vocab, id: number, special: boolean, lstrip: number): Uint8Array {
  vocab.checkId(id);
  if (!special && vocab.attrs[id]! & (TokenAttr.UNKNOWN | TokenAttr.CONTROL)) return EMPTY;
  const p = vocab.rawPiece(id);
  let s = 0;
  while (s < lstrip && s < p.length && p[s] === 0x20) s++;
  return s === 0 ? p : p.subarray(s);
}
const EMPTY = new Uint8Array(0);

/**
 * One token's bytes (llama.cpp `llama_token_to_piece`): a byte token gives its byte, a normal token
 * its text with `▁` turned into spaces, a user-defined token its text as is, a CONTROL or UNKNOWN
 * token its text only with `special` (nothing otherwise), unused/undefined tokens nothing.
 * An id outside the vocabulary throws `invalid_argument`.
 */
export function tokenToPiece(vocab: Vocab, id: number, options: TokenToPieceOptions = {}): Uint8Array {
  return pieceView(vocab, id, options.special ?? false, options.lstrip ?? 0).slice();
}

/**
 * Token ids → bytes, as llama.cpp's `llama_detokenize` does for a SPM vocabulary. With
 * `add_space_prefix`, one leading space of the *first* token's piece is dropped — unless that
 * first token is a BOS removed by `removeSpecial` (llama.cpp then keeps the space, and a BOS that
 * stays in the list takes the strip itself, so the next token keeps its space too).
 */
export function detokenizeBytes(vocab: Vocab, ids: readonly number[] | Int32Array | Uint32Array, options: DetokenizeOptions = {}): Uint8Array {
  const removeSpecial = options.removeSpecial ?? false;
  const special = options.unparseSpecial ?? false;
  let first = 0;
  let last = ids.length;
  let removeSpace = vocab.addSpacePrefix;
  if (removeSpecial && vocab.addBos && last > first && ids[first] === vocab.bosId) {
    removeSpace = false;
    first++;
  }
  if (removeSpecial && vocab.addEos && last > first && ids[last - 1] === vocab.eosId) last--;

  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = first; i < last; i++) {
    const p = pieceView(vocab, ids[i]!, special, removeSpace ? 1 : 0);
    removeSpace = false;
    if (p.length > 0) {
      parts.push(p);
      total += p.length;
    }
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Token ids → text: `detokenizeBytes`, then UTF-8 decoding with invalid sequences as U+FFFD
 * (a leading byte-order mark is kept as U+FEFF).
 */
export function detokenize(vocab: Vocab, ids: readonly number[] | Int32Array | Uint32Array, options: DetokenizeOptions = {}): string {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(detokenizeBytes(vocab, ids, options));
}

export interface StreamingDecoderOptions {
  /** render CONTROL and UNKNOWN tokens as their text; default false */
  readonly special?: boolean;
  /**
   * drop one leading space of the first token's piece when the vocabulary adds a space prefix,
   * as `detokenize` does (the first token pushed takes the strip, even if it renders as nothing);
   * default false, which suits continuing after a prompt
   */
  readonly stripLeadingSpace?: boolean;
}

/**
 * Decodes tokens one at a time into text, never splitting a character: bytes of a UTF-8 sequence
 * spread over several byte tokens are held back until the sequence is complete. Bytes that cannot
 * be part of valid UTF-8 come out as U+FFFD.
 */
export class StreamingDecoder {
  private decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private first = true;
  private readonly special: boolean;
  private readonly strip: boolean;

  constructor(readonly vocab: Vocab, options: StreamingDecoderOptions = {}) {
    this.special = options.special ?? false;
    this.strip = (options.stripLeadingSpace ?? false) && vocab.addSpacePrefix;
  }

  /** Add one token; returns the text that is now complete (possibly ""). */
  push(id: number): string {
    const p = pieceView(this.vocab, id, this.special, this.first && this.strip ? 1 : 0);
    this.first = false;
    return p.length > 0 ? this.decoder.decode(p, { stream: true }) : '';
  }

  /** Emit whatever is buffered (an incomplete sequence as U+FFFD). The decoder can go on being used. */
  flush(): string {
    return this.decoder.decode();
  }

  /** Forget buffered bytes and start over as if new (the leading-space strip applies again). */
  reset(): void {
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    this.first = true;
  }
}
