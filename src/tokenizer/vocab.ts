/**
 * The vocabulary of a `tokenizer.ggml.model = "llama"` (SentencePiece-style) GGUF model, set up the
 * way llama.cpp's `llama_vocab::impl::load` does it (llama.cpp c392e50, src/llama-vocab.cpp).
 *
 * Internally every piece is also kept as a "binary string": its UTF-8 bytes, one char code (0–255)
 * per byte. The tokenizer works on the UTF-8 bytes of its input exactly like llama.cpp works on a
 * `std::string`, and binary strings let it do that with ordinary string operations and Map lookups.
 */
import { QuantscopeError } from '../errors.js';
import type { GgufFile, GgufValue } from '../gguf/types.js';

/** GGUF `tokenizer.ggml.token_type` values (llama.cpp `enum llama_token_type`). */
export const TokenType = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** llama.cpp's per-token attribute bit flags (`enum llama_token_attr`), derived from the token type. */
export const TokenAttr = {
  UNDEFINED: 0,
  UNKNOWN: 1 << 0,
  UNUSED: 1 << 1,
  NORMAL: 1 << 2,
  CONTROL: 1 << 3,
  USER_DEFINED: 1 << 4,
  BYTE: 1 << 5,
  NORMALIZED: 1 << 6,
  LSTRIP: 1 << 7,
  RSTRIP: 1 << 8,
  SINGLE_WORD: 1 << 9,
} as const;

/**
 * Plain data a Vocab is built from. Special ids: `undefined` means "use llama.cpp's SPM default"
 * (bos 1, eos 2, unk 0, the others none), `null` means "no such token". An id outside the vocabulary
 * is ignored in favour of the default, as llama.cpp does ("bad special token … using default id").
 */
export interface VocabInit {
  readonly tokens: readonly string[];
  /** per-token scores (float32); absent → all 0 */
  readonly scores?: ArrayLike<number> | null;
  /** GGUF token types (see TokenType); absent → all NORMAL */
  readonly tokenTypes?: ArrayLike<number> | null;
  /** `tokenizer.ggml.model`; only "llama" is supported. Default "llama". */
  readonly model?: string;
  readonly bosId?: number | null;
  readonly eosId?: number | null;
  readonly unkId?: number | null;
  readonly padId?: number | null;
  readonly sepId?: number | null;
  readonly eotId?: number | null;
  readonly eomId?: number | null;
  readonly fimPreId?: number | null;
  readonly fimSufId?: number | null;
  readonly fimMidId?: number | null;
  readonly fimPadId?: number | null;
  readonly fimRepId?: number | null;
  readonly fimSepId?: number | null;
  /** default true (llama.cpp's SPM default) */
  readonly addBos?: boolean;
  /** default false */
  readonly addEos?: boolean;
  /** default true */
  readonly addSpacePrefix?: boolean;
  /** `general.name`; llama.cpp sets RSTRIP on special tokens for Phi-3 models by name */
  readonly modelName?: string;
}

const utf8Encoder = new TextEncoder();

/** The UTF-8 bytes of `s` as a binary string (one char code 0–255 per byte). */
export function toBinaryString(s: string): string {
  // ASCII-only strings are their own binary string
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return bytesToBinaryString(utf8Encoder.encode(s));
}

/** Bytes as a binary string (one char code 0–255 per byte). */
export function bytesToBinaryString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A binary string back to its bytes. */
export function binaryStringToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

function typeToAttr(type: number): number {
  switch (type) {
    case TokenType.UNKNOWN: return TokenAttr.UNKNOWN;
    case TokenType.UNUSED: return TokenAttr.UNUSED;
    case TokenType.NORMAL: return TokenAttr.NORMAL;
    case TokenType.CONTROL: return TokenAttr.CONTROL;
    case TokenType.USER_DEFINED: return TokenAttr.USER_DEFINED;
    case TokenType.BYTE: return TokenAttr.BYTE;
    default: return TokenAttr.UNDEFINED;
  }
}

// Token texts llama.cpp recognises by text when the GGUF does not name the token (llama-vocab.cpp
// "auto-detect special tokens by text"); a match is forced to CONTROL.
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<EOT>', '<｜end▁of▁sentence｜>'];
const EOM_TEXTS = ['<|eom_id|>'];
const FIM_PRE_TEXTS = ['<|fim_prefix|>', '<fim-prefix>', '<｜fim▁begin｜>', '<PRE>'];
const FIM_SUF_TEXTS = ['<|fim_suffix|>', '<fim-suffix>', '<｜fim▁hole｜>', '<SUF>'];
const FIM_MID_TEXTS = ['<|fim_middle|>', '<fim-middle>', '<｜fim▁end｜>', '<MID>'];
const FIM_PAD_TEXTS = ['<|fim_pad|>', '<fim-pad>', '<PAD>'];
const FIM_REP_TEXTS = ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>'];
const FIM_SEP_TEXTS = ['<|file_sep|>'];
/** tokens that always end generation, and are always forced to CONTROL */
const EOG_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|eom_id|>', '<EOT>'];

const HEX = '0123456789ABCDEF';

export class Vocab {
  /** `tokenizer.ggml.model` */
  readonly model: string;
  /** token texts by id (an empty text is renamed `[EMPTY_<id>]`, as llama.cpp does) */
  readonly tokens: readonly string[];
  readonly scores: Float32Array;
  /** GGUF token types by id (TokenType) */
  readonly types: Int32Array;
  /** llama.cpp attribute flags by id (TokenAttr) */
  readonly attrs: Uint16Array;

  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly unkId: number | null;
  readonly padId: number | null;
  readonly sepId: number | null;
  readonly eotId: number | null;
  readonly eomId: number | null;
  /** the newline token: byte token `<0x0A>` (or a "\n" piece), null if neither exists */
  readonly linefeedId: number | null;
  /** every token that ends generation (EOS, EOT, EOM, FIM pad/repo/sep, and EOG-looking texts) */
  readonly eogIds: ReadonlySet<number>;

  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;

  /**
   * Tokens the special-token partition looks for (llama.cpp `cache_special_tokens`): every CONTROL,
   * USER_DEFINED and UNKNOWN token, longest text first (ties by id).
   */
  readonly specialTokens: readonly number[];

  /** piece (as a binary string of its UTF-8) → id; a later duplicate wins, like llama.cpp's map */
  private readonly binaryToId: Map<string, number>;
  /** token texts as binary strings, by id */
  private readonly binaryTexts: string[];
  /** byte → token for byte fallback (`<0xNN>`, else the 1-byte piece), -1 when neither exists */
  private readonly byteTokens: Int32Array;
  /** cached token_to_piece(id, special = true) */
  private readonly pieceCache: (Uint8Array | undefined)[];

  constructor(init: VocabInit) {
    const model = init.model ?? 'llama';
    if (model !== 'llama') {
      throw new QuantscopeError(
        'unsupported_model',
        `tokenizer model '${model}' is not supported; quantscope only implements the 'llama' (SentencePiece) tokenizer`,
      );
    }
    this.model = model;
    const n = init.tokens.length;
    if (n === 0) throw new QuantscopeError('unsupported_model', 'the vocabulary has no tokens');
    if (init.scores && init.scores.length < n) {
      throw new QuantscopeError('unsupported_model', `tokenizer has ${n} tokens but only ${init.scores.length} scores`);
    }
    if (init.tokenTypes && init.tokenTypes.length < n) {
      throw new QuantscopeError('unsupported_model', `tokenizer has ${n} tokens but only ${init.tokenTypes.length} token types`);
    }

    const tokens: string[] = new Array<string>(n);
    const binaryTexts: string[] = new Array<string>(n);
    const scores = new Float32Array(n);
    const types = new Int32Array(n);
    const attrs = new Uint16Array(n);
    const binaryToId = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      let text = init.tokens[i]!;
      if (text.length === 0) text = `[EMPTY_${i}]`;
      tokens[i] = text;
      const bin = toBinaryString(text);
      binaryTexts[i] = bin;
      binaryToId.set(bin, i);
      scores[i] = init.scores ? init.scores[i]! : 0;
      types[i] = init.tokenTypes ? init.tokenTypes[i]! : TokenType.NORMAL;
      attrs[i] = init.tokenTypes ? typeToAttr(types[i]!) : TokenAttr.NORMAL;
    }
    this.tokens = tokens;
    this.binaryTexts = binaryTexts;
    this.scores = scores;
    this.types = types;
    this.attrs = attrs;
    this.binaryToId = binaryToId;

    const pick = (v: number | null | undefined, def: number | null): number | null => {
      let id = def;
      if (v === null) id = null;
      else if (v !== undefined && Number.isInteger(v) && v >= 0 && v < n) id = v;
      return id !== null && id >= 0 && id < n ? id : null;
    };
    this.bosId = pick(init.bosId, 1);
    this.eosId = pick(init.eosId, 2);
    this.unkId = pick(init.unkId, 0);
    this.padId = pick(init.padId, null);
    this.sepId = pick(init.sepId, null);
    this.addBos = init.addBos ?? true;
    this.addEos = init.addEos ?? false;
    this.addSpacePrefix = init.addSpacePrefix ?? true;

    // byte fallback table (llama_vocab::byte_to_token)
    this.byteTokens = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const hex = `<0x${HEX[b >> 4]}${HEX[b & 15]}>`;
      // the 1-byte fallback is a C string, so byte 0 would look up "" (which no token is)
      const single = b === 0 ? undefined : binaryToId.get(String.fromCharCode(b));
      this.byteTokens[b] = binaryToId.get(hex) ?? single ?? -1;
    }
    const lf = this.byteTokens[0x0a]!;
    this.linefeedId = lf >= 0 ? lf : this.padId;

    // auto-detect special tokens by their text, forcing them to CONTROL
    const forceControl = (id: number): void => {
      attrs[id] = TokenAttr.CONTROL;
    };
    const detect = (given: number | null, texts: readonly string[]): number | null => {
      if (given !== null) return given;
      for (let i = 0; i < n; i++) {
        if (texts.includes(tokens[i]!)) {
          forceControl(i);
          return i;
        }
      }
      return null;
    };
    this.eotId = detect(pick(init.eotId, null), EOT_TEXTS);
    this.eomId = detect(pick(init.eomId, null), EOM_TEXTS);
    detect(pick(init.fimPreId, null), FIM_PRE_TEXTS);
    detect(pick(init.fimSufId, null), FIM_SUF_TEXTS);
    detect(pick(init.fimMidId, null), FIM_MID_TEXTS);
    const fimPad = detect(pick(init.fimPadId, null), FIM_PAD_TEXTS);
    const fimRep = detect(pick(init.fimRepId, null), FIM_REP_TEXTS);
    const fimSep = detect(pick(init.fimSepId, null), FIM_SEP_TEXTS);

    const eog = new Set<number>();
    for (const id of [fimPad, fimRep, fimSep]) if (id !== null) eog.add(id);
    for (let i = 0; i < n; i++) {
      if (EOG_TEXTS.includes(tokens[i]!)) {
        eog.add(i);
        forceControl(i);
      }
    }
    for (const id of [this.eosId, this.eotId, this.eomId]) if (id !== null) eog.add(id);
    this.eogIds = eog;

    // special tokens cache: CONTROL | USER_DEFINED | UNKNOWN, longest first
    const special: number[] = [];
    const specialMask = TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN;
    for (let i = 0; i < n; i++) if (attrs[i]! & specialMask) special.push(i);
    // llama.cpp uses std::sort on the byte length (ties in unspecified order); ties go by id here
    special.sort((a, b) => binaryTexts[b]!.length - binaryTexts[a]!.length || a - b);
    this.specialTokens = special;

    // per-model attributes (only the Phi-3 rule concerns SPM vocabularies)
    const name = (init.modelName ?? '').toLowerCase();
    if (name.includes('phi-3') || name.includes('phi3')) {
      for (const id of special) attrs[id]! |= TokenAttr.RSTRIP;
      const set = (text: string, on: boolean): void => {
        const id = binaryToId.get(toBinaryString(text));
        if (id === undefined) return;
        attrs[id] = on ? attrs[id]! | TokenAttr.RSTRIP : attrs[id]! & ~TokenAttr.RSTRIP;
      };
      set('</s>', true);
      for (const t of ['<unk>', '<s>', '<|endoftext|>']) set(t, false);
    }

    this.pieceCache = new Array<Uint8Array | undefined>(n);
  }

  /** Build the vocabulary from a parsed GGUF file's `tokenizer.ggml.*` metadata. */
  static fromGguf(file: GgufFile): Vocab {
    const md = file.metadata;
    const get = (key: string): GgufValue | undefined => md.get(key)?.value;
    const num = (key: string): number | undefined => {
      const v = get(key);
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      return undefined;
    };
    const bool = (key: string): boolean | undefined => {
      const v = get(key);
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      return undefined;
    };
    const numArray = (key: string): ArrayLike<number> | null => {
      const v = get(key);
      if (v === undefined) return null;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
        return v as ArrayLike<number>;
      }
      if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
      throw new QuantscopeError('unsupported_model', `${file.path}: metadata '${key}' is not an array of numbers`);
    };

    const model = get('tokenizer.ggml.model');
    if (model === undefined) {
      throw new QuantscopeError('unsupported_model', `${file.path}: no tokenizer.ggml.model key, so the model has no tokenizer`);
    }
    if (typeof model !== 'string') {
      throw new QuantscopeError('unsupported_model', `${file.path}: tokenizer.ggml.model is not a string`);
    }
    if (model !== 'llama') {
      throw new QuantscopeError(
        'unsupported_model',
        `${file.path}: tokenizer model '${model}' is not supported; quantscope only implements the 'llama' (SentencePiece) tokenizer`,
      );
    }
    const tokens = get('tokenizer.ggml.tokens');
    if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) {
      throw new QuantscopeError('unsupported_model', `${file.path}: tokenizer.ggml.tokens is missing or not an array of strings`);
    }
    const name = get('general.name');

    // later keys override earlier ones, as in llama.cpp's table (the deprecated FIM keys come last)
    const either = (a: string, b: string): number | undefined => num(b) ?? num(a);
    return new Vocab({
      model,
      tokens: tokens as string[],
      scores: numArray('tokenizer.ggml.scores'),
      tokenTypes: numArray('tokenizer.ggml.token_type'),
      bosId: num('tokenizer.ggml.bos_token_id'),
      eosId: num('tokenizer.ggml.eos_token_id'),
      unkId: num('tokenizer.ggml.unknown_token_id'),
      padId: num('tokenizer.ggml.padding_token_id'),
      sepId: num('tokenizer.ggml.seperator_token_id'),
      eotId: num('tokenizer.ggml.eot_token_id'),
      eomId: num('tokenizer.ggml.eom_token_id'),
      fimPreId: either('tokenizer.ggml.fim_pre_token_id', 'tokenizer.ggml.prefix_token_id'),
      fimSufId: either('tokenizer.ggml.fim_suf_token_id', 'tokenizer.ggml.suffix_token_id'),
      fimMidId: either('tokenizer.ggml.fim_mid_token_id', 'tokenizer.ggml.middle_token_id'),
      fimPadId: num('tokenizer.ggml.fim_pad_token_id'),
      fimRepId: num('tokenizer.ggml.fim_rep_token_id'),
      fimSepId: num('tokenizer.ggml.fim_sep_token_id'),
      addBos: bool('tokenizer.ggml.add_bos_token'),
      addEos: bool('tokenizer.ggml.add_eos_token'),
      addSpacePrefix: bool('tokenizer.ggml.add_space_prefix'),
      modelName: typeof name === 'string' ? name : undefined,
    });
  }

  get nTokens(): number {
    return this.tokens.length;
  }

  /** The id of the token whose text is exactly `text`, if any. */
  tokenToId(text: string): number | undefined {
    return this.binaryToId.get(toBinaryString(text));
  }

  /** Throw `invalid_argument` unless `id` is a token id of this vocabulary. */
  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new QuantscopeError('invalid_argument', `token id ${id} is out of range (vocabulary has ${this.tokens.length} tokens)`);
    }
  }

  attr(id: number): number {
    this.checkId(id);
    return this.attrs[id]!;
  }

  isControl(id: number): boolean {
    return (this.attr(id) & TokenAttr.CONTROL) !== 0;
  }

  isByte(id: number): boolean {
    return (this.attr(id) & TokenAttr.BYTE) !== 0;
  }

  /** True for tokens that end generation (EOS, EOT, …). */
  isEog(id: number): boolean {
    return this.eogIds.has(id);
  }

  /** The byte a BYTE token (`<0xNN>`) stands for (llama.cpp `token_to_byte`). */
  tokenToByte(id: number): number {
    this.checkId(id);
    if (!(this.attrs[id]! & TokenAttr.BYTE)) {
      throw new QuantscopeError('invalid_argument', `token ${id} ('${this.tokens[id]}') is not a byte token`);
    }
    // strtol(text.substr(3, 2), 16): parses the leading hex digits, 0 if there are none
    const v = parseInt(this.tokens[id]!.substring(3, 5), 16);
    return Number.isNaN(v) ? 0 : v & 0xff;
  }

  /** The token byte fallback uses for `byte` (`<0xNN>`, else a 1-byte piece), or -1 if there is none. */
  byteToToken(byte: number): number {
    return this.byteTokens[byte & 0xff]!;
  }

  /** @internal lookup of a piece given as a binary string of its UTF-8 */
  idOfBinary(bin: string): number | undefined {
    return this.binaryToId.get(bin);
  }

  /** @internal a token's text as a binary string of its UTF-8 */
  binaryText(id: number): string {
    return this.binaryTexts[id]!;
  }

  /**
   * @internal token_to_piece(id, special = true) before lstrip, cached: CONTROL/UNKNOWN/USER_DEFINED
   * give their text verbatim, NORMAL its text with `▁` → space, BYTE its byte, anything else nothing.
   * The caller must not modify the result.
   */
  rawPiece(id: number): Uint8Array {
    let p = this.pieceCache[id];
    if (p === undefined) {
      const attr = this.attrs[id]!;
      if (attr & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) {
        p = binaryStringToBytes(this.binaryTexts[id]!);
      } else if (attr & TokenAttr.NORMAL) {
        p = binaryStringToBytes(this.binaryTexts[id]!.replaceAll('\xe2\x96\x81', ' '));
      } else if (attr & TokenAttr.BYTE) {
        p = Uint8Array.of(this.tokenToByte(id));
      } else {
        p = new Uint8Array(0);
      }
      this.pieceCache[id] = p;
    }
    return p;
  }
}
