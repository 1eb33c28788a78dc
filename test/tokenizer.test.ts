import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QuantscopeError } from '../src/errors.js';
import { SPM_VOCAB_MODEL, readJsonFixture } from './helpers/fixtures.js';
import { readGguf } from '../src/gguf/reader.js';
import {
  StreamingDecoder, TokenAttr, TokenType, Vocab, detokenize, detokenizeBytes, tokenToPiece, tokenize,
} from '../src/tokenizer/index.js';

const ROOT = join(import.meta.dirname, '..');
const TOKENIZER_DIR = join(ROOT, 'test/fixtures/tokenizer');
const REFERENCE_DIR = join(ROOT, 'test/fixtures/reference');
// llama.cpp's vectors are for models/ggml-vocab-llama-spm.gguf, whose tokenizer arrays
// llama-2-tiny-random.gguf carries unchanged (../shared/models/MODELS.md)
const SPM_VOCAB = SPM_VOCAB_MODEL;

const vocabCache = new Map<string, Promise<Vocab>>();
function loadVocab(path: string): Promise<Vocab> {
  let v = vocabCache.get(path);
  if (!v) {
    v = readGguf(path).then((f) => Vocab.fromGguf(f));
    vocabCache.set(path, v);
  }
  return v;
}

function modelPath(name: string): string {
  for (const dir of ['test/fixtures/models', 'models']) {
    const p = join(ROOT, dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`model ${name} not found`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function caseName(i: number, text: string): string {
  const shown = JSON.stringify(text);
  return `case ${String(i).padStart(2, '0')}: ${shown.length > 60 ? `${shown.slice(0, 57)}…"` : shown}`;
}

// ---------------------------------------------------------------------------------------------
// (1) llama.cpp's tokenizer test vectors for the Llama SPM vocabulary
// ---------------------------------------------------------------------------------------------

const inputs = readFileSync(join(TOKENIZER_DIR, 'ggml-vocab-llama-spm.gguf.inp'), 'utf8').split('\n__ggml_vocab_test__\n');
if (inputs[inputs.length - 1] === '') inputs.pop();
const outputs = readFileSync(join(TOKENIZER_DIR, 'ggml-vocab-llama-spm.gguf.out'), 'utf8').split('\n');
if (outputs[outputs.length - 1] === '') outputs.pop();
const expectedIds = outputs.map((line) => line.split(' ').filter((s) => s !== '').map(Number));

describe('llama.cpp test vectors (ggml-vocab-llama-spm)', () => {
  let vocab: Vocab;
  beforeAll(async () => {
    vocab = await loadVocab(SPM_VOCAB);
  });

  it('has 46 cases', () => {
    expect(inputs).toHaveLength(46);
    expect(expectedIds).toHaveLength(46);
  });

  inputs.forEach((text, i) => {
    it(caseName(i, text), () => {
      const ids = tokenize(vocab, text, { addSpecial: false, parseSpecial: false });
      expect(ids).toEqual(expectedIds[i]);
      // SPM with byte fallback is lossless: detokenizing gives the text back
      expect(detokenize(vocab, ids)).toBe(text);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (2) prompts of the llama.cpp reference runs
// ---------------------------------------------------------------------------------------------

interface ReferenceRun {
  model: string;
  prompt: string;
  tokens: number[];
  token_pieces: string[];
  add_bos: boolean;
  add_eos: boolean;
  bos_id: number;
  eos_id: number;
  tokenize: { add_special: boolean; parse_special: boolean; from_ids: boolean };
  greedy?: { tokens: number[]; pieces_hex?: string[]; text?: string };
}

const referenceFiles = readdirSync(REFERENCE_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(REFERENCE_DIR, d.name)).filter((f) => f.endsWith('.json.gz')).map((f) => `${d.name}/${f}`))
  .sort();

describe('reference prompts (llama.cpp c392e50)', () => {
  it('finds the reference runs', () => {
    expect(referenceFiles.length).toBeGreaterThanOrEqual(33);
  });

  for (const rel of referenceFiles) {
    const ref = readJsonFixture<ReferenceRun>(join(REFERENCE_DIR, rel));
    const fromIds = ref.tokenize.from_ids || ref.prompt === '';
    const what = fromIds ? `token ids ${JSON.stringify(ref.tokens)}` : JSON.stringify(ref.prompt);

    describe(`${rel} (${ref.model})`, () => {
      let vocab: Vocab;
      beforeAll(async () => {
        vocab = await loadVocab(modelPath(ref.model));
      });

      it('vocabulary settings match llama.cpp', () => {
        expect(vocab.addBos).toBe(ref.add_bos);
        expect(vocab.addEos).toBe(ref.add_eos);
        expect(vocab.bosId).toBe(ref.bos_id);
        expect(vocab.eosId).toBe(ref.eos_id);
      });

      if (!fromIds) {
        it(`tokenizes ${what}`, () => {
          const ids = tokenize(vocab, ref.prompt, {
            addSpecial: ref.tokenize.add_special, parseSpecial: ref.tokenize.parse_special,
          });
          expect(ids).toEqual(ref.tokens);
        });
      }

      it(`renders the pieces of ${what}`, () => {
        expect(ref.tokens.map((id) => new TextDecoder().decode(tokenToPiece(vocab, id, { special: true })))).toEqual(ref.token_pieces);
      });

      if (ref.greedy?.pieces_hex) {
        const greedy = ref.greedy;
        it('renders the greedy continuation piece by piece and as a stream', () => {
          expect(greedy.tokens.map((id) => hex(tokenToPiece(vocab, id)))).toEqual(greedy.pieces_hex);
          const dec = new StreamingDecoder(vocab);
          const text = greedy.tokens.map((id) => dec.push(id)).join('') + dec.flush();
          if (greedy.text !== undefined) expect(text).toBe(greedy.text);
          // after the BOS-led prompt no leading space is removed
          const promptText = ref.token_pieces.slice(vocab.addBos ? 1 : 0).join('');
          expect(detokenize(vocab, [...ref.tokens, ...greedy.tokens])).toBe(promptText + text);
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// (3) detokenize round trips and streaming over byte-fallback tokens
// ---------------------------------------------------------------------------------------------

const MULTIBYTE_TEXTS = [
  'Hello 🦙 llama!',
  '🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅',
  '我想在apple工作1314151天～',
  'កាន់តែពិសេសអាច😁',
  'нещо на Български',
  '\uFEFFbyte order mark first',
  ' leading space and\ttab\nnewline',
];

describe('detokenize and StreamingDecoder', () => {
  let vocab: Vocab;
  beforeAll(async () => {
    vocab = await loadVocab(SPM_VOCAB);
  });

  for (const text of MULTIBYTE_TEXTS) {
    it(`round-trips ${JSON.stringify(text)}`, () => {
      const ids = tokenize(vocab, text, { addSpecial: false });
      expect(detokenize(vocab, ids)).toBe(text);
      // with BOS the leading space of the first piece stays (llama.cpp only strips the very first token)
      const withBos = tokenize(vocab, text);
      expect(withBos[0]).toBe(1);
      expect(detokenize(vocab, withBos)).toBe(` ${text}`);
      expect(detokenize(vocab, withBos, { removeSpecial: true })).toBe(` ${text}`);
      expect(detokenize(vocab, withBos, { unparseSpecial: true })).toBe(`<s> ${text}`);
    });

    it(`streams ${JSON.stringify(text)} without breaking a character`, () => {
      const ids = tokenize(vocab, text, { addSpecial: false });
      const dec = new StreamingDecoder(vocab, { stripLeadingSpace: true });
      const chunks = ids.map((id) => dec.push(id));
      for (const c of chunks) {
        expect(c).not.toContain('\uFFFD');
        expect(c).not.toMatch(LONE_SURROGATE);
      }
      expect(chunks.join('') + dec.flush()).toBe(text);
    });
  }

  it('really splits emoji and CJK over byte tokens', () => {
    const ids = tokenize(vocab, '🦙', { addSpecial: false });
    // "▁" then the four UTF-8 bytes F0 9F A6 99 as <0xNN> tokens
    expect(ids).toEqual([29871, 0xf0 + 3, 0x9f + 3, 0xa6 + 3, 0x99 + 3]);
    expect(ids.slice(1).every((id) => vocab.isByte(id))).toBe(true);
    const dec = new StreamingDecoder(vocab, { stripLeadingSpace: true });
    expect(ids.map((id) => dec.push(id))).toEqual(['', '', '', '', '🦙']);
    expect(dec.flush()).toBe('');
  });

  it('streams a long mixed text identically to detokenize', () => {
    const text = inputs.join('\n');
    const ids = tokenize(vocab, text, { addSpecial: false });
    const dec = new StreamingDecoder(vocab, { stripLeadingSpace: true });
    let out = '';
    for (const id of ids) {
      const c = dec.push(id);
      expect(c).not.toContain('\uFFFD');
      out += c;
    }
    expect(out + dec.flush()).toBe(text);
    expect(detokenize(vocab, ids)).toBe(text);
  });

  it('emits invalid byte sequences as U+FFFD', () => {
    const dec = new StreamingDecoder(vocab);
    // F0 then 'A': the lead byte is not followed by a continuation byte
    expect(dec.push(0xf0 + 3)).toBe('');
    expect(dec.push(vocab.tokenToId('A')!)).toBe('\uFFFDA');
    // a dangling lead byte comes out at flush
    expect(dec.push(0xe4 + 3)).toBe('');
    expect(dec.flush()).toBe('\uFFFD');
    expect(detokenize(vocab, [0xe4 + 3, 0xb8 + 3])).toBe('\uFFFD');
    expect(hex(detokenizeBytes(vocab, [0xe4 + 3, 0xb8 + 3]))).toBe('e4b8');
  });

  it('StreamingDecoder strips the leading space only when asked and only for the first token', () => {
    const ids = tokenize(vocab, 'Hello world', { addSpecial: false }); // ▁Hello ▁world
    const keep = new StreamingDecoder(vocab);
    expect(ids.map((id) => keep.push(id)).join('')).toBe(' Hello world');
    const strip = new StreamingDecoder(vocab, { stripLeadingSpace: true });
    expect(ids.map((id) => strip.push(id)).join('')).toBe('Hello world');
    strip.reset();
    expect(ids.map((id) => strip.push(id)).join('')).toBe('Hello world');
    const special = new StreamingDecoder(vocab, { special: true });
    expect([1, ...ids, 2].map((id) => special.push(id)).join('')).toBe('<s> Hello world</s>');
  });
});

// ---------------------------------------------------------------------------------------------
// (4) special tokens, BOS/EOS, byte fallback, unk, pieces, errors
// ---------------------------------------------------------------------------------------------

describe('special tokens, BOS/EOS and pieces (Llama vocab)', () => {
  let vocab: Vocab;
  beforeAll(async () => {
    vocab = await loadVocab(SPM_VOCAB);
  });

  it('loads the vocabulary like llama.cpp', () => {
    expect(vocab.nTokens).toBe(32000);
    expect([vocab.bosId, vocab.eosId, vocab.unkId, vocab.padId]).toEqual([1, 2, 0, null]);
    expect([vocab.addBos, vocab.addEos, vocab.addSpacePrefix]).toEqual([true, false, true]);
    expect(vocab.types[0]).toBe(TokenType.UNKNOWN);
    expect(vocab.types[1]).toBe(TokenType.CONTROL);
    expect(vocab.types[3]).toBe(TokenType.BYTE);
    expect(vocab.attrs[1]).toBe(TokenAttr.CONTROL);
    // <unk> (5 bytes), </s> (4), <s> (3)
    expect(vocab.specialTokens).toEqual([0, 2, 1]);
    expect(vocab.byteToToken(0x0a)).toBe(13);
    expect(vocab.linefeedId).toBe(13);
    expect(vocab.tokenToByte(13)).toBe(0x0a);
    expect(vocab.tokenToId('▁Hello')).toBe(15043);
    expect(vocab.isEog(2)).toBe(true);
    expect(vocab.isEog(1)).toBe(false);
  });

  it('adds BOS with addSpecial, and nothing for empty text without it', () => {
    expect(tokenize(vocab, 'Hello world')).toEqual([1, 15043, 3186]);
    expect(tokenize(vocab, 'Hello world', { addSpecial: false })).toEqual([15043, 3186]);
    expect(tokenize(vocab, '')).toEqual([1]);
    expect(tokenize(vocab, '', { addSpecial: false })).toEqual([]);
  });

  it('parses special tokens only with parseSpecial, and prefixes a space after each one', () => {
    expect(tokenize(vocab, '<s>Hello world</s>', { addSpecial: false, parseSpecial: true })).toEqual([1, 15043, 3186, 2]);
    // text after a special token starts a new "first" fragment: it gets the space prefix too
    expect(tokenize(vocab, 'Hello</s>world', { addSpecial: false, parseSpecial: true })).toEqual([15043, 2, 3186]);
    expect(tokenize(vocab, '<unk>', { addSpecial: false, parseSpecial: true })).toEqual([0]);
    const plain = tokenize(vocab, '<s>Hello world</s>', { addSpecial: false, parseSpecial: false });
    expect(plain).not.toContain(1);
    expect(plain).not.toContain(2);
    expect(detokenize(vocab, plain)).toBe('<s>Hello world</s>');
    // a prompt that starts with <s> and gets BOS added: two BOS, as llama.cpp (it only warns)
    expect(tokenize(vocab, '<s>Hi', { parseSpecial: true }).slice(0, 2)).toEqual([1, 1]);
  });

  it('accepts raw bytes, splitting them by UTF-8 lead byte like llama.cpp', () => {
    expect(tokenize(vocab, utf8('Hello world'), { addSpecial: false })).toEqual([15043, 3186]);
    // an invalid sequence: lone continuation byte 0x80 and a truncated 3-byte sequence at the end
    const ids = tokenize(vocab, Uint8Array.of(0x41, 0x80, 0xe4, 0xb8), { addSpecial: false });
    expect(ids).toEqual([319 /* ▁A */, 0x80 + 3, 0xe4 + 3, 0xb8 + 3]);
    expect(hex(detokenizeBytes(vocab, ids))).toBe('4180e4b8');
  });

  it('renders pieces like llama_token_to_piece', () => {
    expect(hex(tokenToPiece(vocab, 15043))).toBe(hex(utf8(' Hello')));
    expect(hex(tokenToPiece(vocab, 15043, { lstrip: 1 }))).toBe(hex(utf8('Hello')));
    expect(hex(tokenToPiece(vocab, 259, { lstrip: 1 }))).toBe('20'); // "▁▁" loses one space only
    expect(tokenToPiece(vocab, 1)).toHaveLength(0);
    expect(new TextDecoder().decode(tokenToPiece(vocab, 1, { special: true }))).toBe('<s>');
    expect(tokenToPiece(vocab, 0)).toHaveLength(0); // UNKNOWN is suppressed like CONTROL
    expect(new TextDecoder().decode(tokenToPiece(vocab, 0, { special: true }))).toBe('<unk>');
    expect(Array.from(tokenToPiece(vocab, 0xff + 3))).toEqual([0xff]);
    // the result is a copy
    tokenToPiece(vocab, 15043)[0] = 0;
    expect(hex(tokenToPiece(vocab, 15043))).toBe(hex(utf8(' Hello')));
  });

  it('rejects out-of-range ids', () => {
    for (const bad of [-1, 32000, 1.5, Number.NaN]) {
      expect(() => tokenToPiece(vocab, bad)).toThrow(QuantscopeError);
      expect(() => detokenize(vocab, [15043, bad])).toThrow(expect.objectContaining({ kind: 'invalid_argument' }));
      expect(() => new StreamingDecoder(vocab).push(bad)).toThrow(expect.objectContaining({ kind: 'invalid_argument' }));
    }
  });

  it('tokenizes 170 KB of text in well under a second', () => {
    const base = inputs.join('\n');
    const text = base.repeat(Math.ceil(170_000 / base.length)).slice(0, 170_000);
    const t0 = performance.now();
    const ids = tokenize(vocab, text);
    const ms = performance.now() - t0;
    expect(ids.length).toBeGreaterThan(10_000);
    expect(ms).toBeLessThan(1000);
    expect(detokenize(vocab, ids, { removeSpecial: true })).toBe(` ${text}`);
  });
});

describe('Vocab from plain data', () => {
  const { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE } = TokenType;
  const base = {
    tokens: ['<unk>', '<s>', '</s>', '▁', 'a', 'b', 'aa', '▁a', 'ab', '▁ab', '<0x7A>', '<|user|>', '', 'c'],
    scores: [0, 0, 0, -1, -2, -2, -3, -4, -1, -0.5, 0, 0, 0, -5],
    tokenTypes: [UNKNOWN, CONTROL, CONTROL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, BYTE, USER_DEFINED, NORMAL, NORMAL],
    bosId: 1, eosId: 2, unkId: 0,
    model: 'llama',
  };

  it('merges by score, leftmost first on ties', () => {
    const v = new Vocab(base);
    // ▁ab: "▁a" (-3) and "ab" (-1) compete; "ab" wins, then "▁"+"ab" = "▁ab"
    expect(tokenize(v, 'ab', { addSpecial: false })).toEqual([9]);
    // "aaa" → the leftmost "aa" merges first (equal scores), leaving "a"
    expect(tokenize(v, 'aaa', { addSpecial: false, })).toEqual([3, 6, 4]);
    expect(new Vocab({ ...base, addSpacePrefix: false }).tokenToId('aa')).toBe(6);
    expect(tokenize(new Vocab({ ...base, addSpacePrefix: false }), 'aaa', { addSpecial: false })).toEqual([6, 4]);
  });

  it('falls back to byte tokens, then to <unk>', () => {
    const v = new Vocab(base);
    // 'z' has a byte token <0x7A>; 'y' has none and no 1-byte piece, so <unk>
    expect(tokenize(v, 'z', { addSpecial: false })).toEqual([3, 10]);
    expect(tokenize(v, 'y', { addSpecial: false })).toEqual([3, 0]);
    expect(tokenize(v, 'é', { addSpecial: false })).toEqual([3, 0, 0]);
    const noUnk = new Vocab({ ...base, unkId: null, tokenTypes: base.tokenTypes.map((t) => (t === UNKNOWN ? NORMAL : t)) });
    expect(noUnk.unkId).toBeNull();
    expect(() => tokenize(noUnk, 'y', { addSpecial: false })).toThrow(expect.objectContaining({ kind: 'invalid_argument' }));
  });

  it('BOS / EOS follow addBos / addEos', () => {
    expect(tokenize(new Vocab(base), 'a')).toEqual([1, 7]);
    expect(tokenize(new Vocab({ ...base, addBos: false, addEos: true }), 'a')).toEqual([7, 2]);
    const both = new Vocab({ ...base, addEos: true });
    const ids = tokenize(both, 'a');
    expect(ids).toEqual([1, 7, 2]);
    expect(tokenize(both, 'a', { addSpecial: false })).toEqual([7]);
    expect(detokenize(both, ids)).toBe(' a');
    expect(detokenize(both, ids, { removeSpecial: true })).toBe(' a');
    expect(detokenize(both, ids, { unparseSpecial: true })).toBe('<s> a</s>');
    expect(detokenize(both, ids, { removeSpecial: true, unparseSpecial: true })).toBe(' a');
    expect(detokenize(both, [7, 2], { removeSpecial: true, unparseSpecial: true })).toBe('a');
    expect(() => tokenize(new Vocab({ ...base, bosId: null }), 'a')).toThrow(QuantscopeError);
  });

  it('splits user-defined tokens even without parseSpecial, and renders them verbatim', () => {
    const v = new Vocab(base);
    expect(v.specialTokens).toEqual([11, 0, 2, 1]);
    expect(tokenize(v, 'a<|user|>b', { addSpecial: false })).toEqual([7, 11, 3, 5]);
    expect(tokenize(v, 'a<s>b', { addSpecial: false, parseSpecial: false })).not.toContain(1);
    expect(detokenize(v, [7, 11, 3, 5])).toBe('a<|user|> b');
  });

  it('applies Phi-3 RSTRIP to special tokens by model name', () => {
    const v = new Vocab({ ...base, modelName: 'Phi-3-mini' });
    expect(v.attrs[11]! & TokenAttr.RSTRIP).toBeTruthy();
    expect(v.attrs[1]! & TokenAttr.RSTRIP).toBe(0);
    expect(v.attrs[2]! & TokenAttr.RSTRIP).toBeTruthy();
    expect(tokenize(v, '<|user|>  \n b', { addSpecial: false })).toEqual([11, 3, 5]);
    expect(tokenize(new Vocab(base), '<|user|> b', { addSpecial: false })).toEqual([11, 3, 3, 5]);
  });

  it('renames empty tokens and defaults missing data like llama.cpp', () => {
    const v = new Vocab(base);
    expect(v.tokens[12]).toBe('[EMPTY_12]');
    const bare = new Vocab({ tokens: ['x', 'y', 'z', '▁'] });
    expect([bare.bosId, bare.eosId, bare.unkId, bare.padId]).toEqual([1, 2, 0, null]);
    expect([bare.addBos, bare.addEos, bare.addSpacePrefix]).toEqual([true, false, true]);
    expect(bare.specialTokens).toEqual([]);
    expect(Array.from(bare.scores)).toEqual([0, 0, 0, 0]);
    // an out-of-range id falls back to the default, as llama.cpp does
    expect(new Vocab({ ...base, padId: 0xffffffff }).padId).toBeNull();
    expect(new Vocab({ ...base, bosId: 0xffffffff }).bosId).toBe(1);
  });

  it('forces EOG-looking texts to CONTROL', () => {
    const v = new Vocab({ tokens: ['<unk>', '<s>', '</s>', '<|im_end|>', '▁'], tokenTypes: [UNKNOWN, CONTROL, CONTROL, NORMAL, NORMAL] });
    expect(v.attrs[3]).toBe(TokenAttr.CONTROL);
    expect(v.eotId).toBe(3);
    expect(v.isEog(3)).toBe(true);
    expect(v.specialTokens).toContain(3);
  });

  it('rejects tokenizer models other than llama', () => {
    expect(() => new Vocab({ ...base, model: 'gpt2' })).toThrow(expect.objectContaining({ kind: 'unsupported_model' }));
  });
});

describe('Vocab.fromGguf', () => {
  it('rejects other tokenizer models with unsupported_model', async () => {
    const f = await readGguf(SPM_VOCAB);
    const metadata = new Map(f.metadata);
    const entry = metadata.get('tokenizer.ggml.model')!;
    metadata.set('tokenizer.ggml.model', { ...entry, value: 'gpt2' });
    expect(() => Vocab.fromGguf({ ...f, metadata })).toThrow(expect.objectContaining({ kind: 'unsupported_model' }));
    metadata.delete('tokenizer.ggml.model');
    expect(() => Vocab.fromGguf({ ...f, metadata })).toThrow(expect.objectContaining({ kind: 'unsupported_model' }));
  });

  it('reads the unusual TinyStories-656K vocabulary (no byte tokens, trailing ▁)', async () => {
    const v = await loadVocab(modelPath('TinyStories-656K.f16.gguf'));
    expect(v.nTokens).toBe(2048);
    // no <0xNN> tokens: byte fallback finds 1-byte pieces only (llama.cpp's second try)
    expect(v.byteToToken(0x41)).toBe(v.tokenToId('A'));
    expect(v.byteToToken(0xe2)).toBe(-1);
    expect(v.padId).toBe(0);
    expect(v.specialTokens).toEqual([1, 2, 0]);
    expect(detokenize(v, [1, 80, 147, 201, 282, 57])).toBe(' Once upon a time');
    expect(detokenize(v, [80, 147, 201, 282, 57])).toBe('Once upon a time');
    // a character the vocabulary cannot spell becomes <unk>
    expect(tokenize(v, '€', { addSpecial: false })).toEqual([80, 0, 0, 0]);
  });
});
