/**
 * End-to-end tests of the `quantscope` CLI: each test spawns the built `dist/src/cli/main.js`
 * (so run `npm run build` first; `npm test` does) and checks stdout, stderr and the exit code
 * separately. The models are tiny, so the whole file runs in a few seconds.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GgufError } from '../src/errors.js';
import { inspectGguf } from '../src/gguf/inspect.js';
import { parseGguf, readGguf } from '../src/gguf/reader.js';
import { writeGguf, type GgufWriteTensor } from '../src/gguf/writer.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const STORIES = join(ROOT, 'models/stories260K.gguf');
// relative to ROOT, the working directory of most runs, so messages show them as given
const TINY_F16 = 'test/fixtures/models/TinyStories-656K.f16.gguf';
const KJV_F16 = 'test/fixtures/models/kjv-austen-4l-256d.F16.gguf';
const KJV_Q8 = 'test/fixtures/models/kjv-austen-4l-256d.Q8_0.gguf';

const KJV_PROMPT = 'And it came to pass';
/** llama.cpp's greedy 24 tokens on the F16 file (../shared/models/MODELS.md) */
const KJV_GREEDY = "And it came to pass, when the people were come to the king, that they took the king's servants, and brought them into the";

/** Generous per-spawn and per-test limits; a run takes well under a second. */
const SPAWN_TIMEOUT = 20_000;
const TEST_TIMEOUT = 30_000;

// ---------------------------------------------------------------- helpers

interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: SPAWN_TIMEOUT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A crash would show a JS stack (`    at fn (file.js:1:2)`) or an uncaught error's name. */
function expectNoStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at\s/m);
  expect(stderr).not.toMatch(/\.[cm]?[jt]s:\d+:\d+/);
  expect(stderr).not.toMatch(/\b(QuantscopeError|GgufError|UnsupportedTensorTypeError|ContextOverflowError|InvalidArgumentError|TypeError|RangeError)\b/);
}

const LOADED_LINE = (file: string) =>
  new RegExp(`^loaded ${file.replace(/\./g, '\\.')}: \\d+\\.\\d MiB of weights in \\d+ ms$`);
const TIMINGS_LINE = (generated: number | string, stop: string) =>
  new RegExp(`^prompt: \\d+ tokens? in \\d+\\.\\d ms( \\([\\d.]+ tok/s\\))?; ` +
    `generated: ${generated} tokens? in \\d+\\.\\d ms( \\([\\d.]+ tok/s\\))?; stop: ${stop}$`);

/** stderr of a successful run: exactly the `loaded …` line and the timings line. */
function expectRunLog(stderr: string, file: string, generated: number | string, stop: string): void {
  const lines = stderr.split('\n');
  expect(lines.at(-1)).toBe(''); // ends with a newline
  expect(lines.slice(0, -1)).toHaveLength(2);
  expect(lines[0]).toMatch(LOADED_LINE(file));
  expect(lines[1]).toMatch(TIMINGS_LINE(generated, stop));
}

function expectNoLogIn(stdout: string): void {
  expect(stdout).not.toMatch(/loaded |MiB|tok\/s|prompt: |generated: |stop: /);
}

let tempDir = '';
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  tempDir = mkdtempSync(join(tmpdir(), 'quantscope-cli-'));
});
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

function tempFile(name: string, bytes: Uint8Array): string {
  const path = join(tempDir, name);
  writeFileSync(path, bytes);
  return path;
}

/** The GgufError the in-process parser gives for `bytes`, named as `path`. */
function parseError(bytes: Uint8Array, path: string): GgufError {
  try {
    parseGguf(bytes, path);
  } catch (e) {
    if (e instanceof GgufError) return e;
    throw e;
  }
  throw new Error(`${path}: expected a GgufError`);
}

/**
 * stories260K rebuilt with the writer from its own metadata and tensor data, with `change`
 * applied to each tensor (identity: a functionally identical copy).
 */
async function rebuiltStories(change: (t: GgufWriteTensor) => GgufWriteTensor = (t) => t): Promise<Uint8Array> {
  const file = await readGguf(STORIES);
  const bytes = readFileSync(STORIES);
  return writeGguf({
    metadata: [...file.metadata.values()].map(({ key, type, arrayType, value }) => ({ key, type, arrayType, value })),
    tensors: file.tensors.map((t) => change({
      name: t.name, dims: t.dims, type: t.type,
      data: new Uint8Array(bytes.buffer, bytes.byteOffset + t.fileOffset, t.nBytes),
    })),
  });
}

/** Absolute offset of the type field of a tensor info, found from the tensor's name in the header. */
function tensorTypeFieldOffset(bytes: Uint8Array, name: string, nDims: number): number {
  const nameAt = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(name);
  if (nameAt < 0) throw new Error(`'${name}' not found`);
  return nameAt + Buffer.byteLength(name) + 4 + 8 * nDims;
}

// ---------------------------------------------------------------- run

describe('quantscope run', () => {
  it('with no -m runs the embedded stories260K, even from another working directory', () => {
    const prompt = 'Once upon a time';
    const r = cli(['run', prompt, '-n', '32'], tempDir);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith(prompt)).toBe(true);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.slice(prompt.length).trim()).not.toBe('');
    expectNoLogIn(r.stdout);
    expectRunLog(r.stderr, 'stories260K.gguf', 32, 'max_tokens');
    expect(r.stderr).not.toContain(prompt); // the text goes to stdout only
  }, TEST_TIMEOUT);

  it('sampling is reproducible with --seed and changes with another seed', () => {
    const args = (seed: number) => ['run', '-m', TINY_F16, '--seed', String(seed), '--temp', '0.8', '-n', '40'];
    const first = cli(args(7));
    const again = cli(args(7));
    const other = cli(args(8));
    for (const r of [first, again, other]) {
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).not.toBe('');
      expect(r.stdout.endsWith('\n')).toBe(true);
      expectNoLogIn(r.stdout);
      expectRunLog(r.stderr, 'TinyStories-656K.f16.gguf', 40, 'max_tokens');
    }
    expect(again.stdout).toBe(first.stdout);
    expect(other.stdout).not.toBe(first.stdout);
  }, TEST_TIMEOUT);

  it('greedy kjv-austen F16 reproduces llama.cpp', () => {
    const r = cli(['run', '-m', KJV_F16, '--temp', '0', KJV_PROMPT, '-n', '24']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(KJV_GREEDY + '\n');
    expectRunLog(r.stderr, 'kjv-austen-4l-256d.F16.gguf', 24, 'max_tokens');
  }, TEST_TIMEOUT);

  describe('--stop', () => {
    const continuation = KJV_GREEDY.slice(KJV_PROMPT.length);
    const cutBefore = (stop: string) => KJV_PROMPT + continuation.slice(0, continuation.indexOf(stop)) + '\n';
    const greedy = (...extra: string[]) => cli(['run', '-m', KJV_F16, '--temp', '0', KJV_PROMPT, '-n', '24', ...extra]);

    it('cuts the output right before the first stop string of the continuation', () => {
      const r = greedy('--stop', 'king');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(cutBefore('king'));
      expect(r.stdout).toBe('And it came to pass, when the people were come to the \n');
      expectRunLog(r.stderr, 'kjv-austen-4l-256d.F16.gguf', '\\d+', 'stop');
      const generated = Number(/generated: (\d+) tokens/.exec(r.stderr)![1]);
      expect(generated).toBeGreaterThan(0);
      expect(generated).toBeLessThan(24);
    }, TEST_TIMEOUT);

    it('is repeatable: the first of several stop strings to appear wins', () => {
      const r = greedy('--stop', 'zebra', '--stop', 'servants', '--stop', 'brought');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(cutBefore('servants'));
      expectRunLog(r.stderr, 'kjv-austen-4l-256d.F16.gguf', '\\d+', 'stop');
    }, TEST_TIMEOUT);

    it('a stop string that never appears changes nothing', () => {
      const r = greedy('--stop', 'zebra');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(KJV_GREEDY + '\n');
      expectRunLog(r.stderr, 'kjv-austen-4l-256d.F16.gguf', 24, 'max_tokens');
    }, TEST_TIMEOUT);
  });

  describe('bad options are refused before anything runs', () => {
    it.each([
      [['--temp', '-1'], '--temp', '-1'],
      [['--temp', 'hot'], '--temp', 'hot'],
      [['-n', 'abc'], '--n-predict', 'abc'],
      [['-n', '1.5'], '--n-predict', '1.5'],
      [['--top-p', '2'], '--top-p', '2'],
      [['--min-p', '-0.5'], '--min-p', '-0.5'],
      [['--top-k', '-3'], '--top-k', '-3'],
      [['--ctx', '0'], '--ctx', '0'],
      [['--seed', 'x'], '--seed', 'x'],
    ])('%j', (bad, option, value) => {
      const r = cli(['run', 'hello', '-n', '4', ...bad]);
      expect(r.status).not.toBe(0);
      expect(r.status).not.toBeNull(); // exited, not killed
      expect(r.stdout).toBe('');
      const first = r.stderr.split('\n')[0];
      expect(first).toMatch(/^error: /);
      expect(first).toContain(option);
      expect(first).toContain(`'${value}'`);
      expect(r.stderr).not.toMatch(/^loaded /m); // no model was loaded
      expectNoStackTrace(r.stderr);
    }, TEST_TIMEOUT);
  });
});

// ---------------------------------------------------------------- run: errors

describe('quantscope run: errors', () => {
  it('a prompt longer than the context', () => {
    const prompt = 'Once upon a time there was a little girl who lived in a big house with her mom and dad';
    const r = cli(['run', '--ctx', '8', prompt, '-n', '4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^quantscope: .*need \d+ positions but the session's context holds 8$/m);
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr).not.toMatch(/^prompt: /m); // no timings line for a failed run
    expectNoStackTrace(r.stderr);
    // the prompt is echoed only once evaluated: a prompt that does not fit leaves stdout empty
    expect(r.stdout).toBe('');
  }, TEST_TIMEOUT);

  it('a missing model file', () => {
    const missing = join(tempDir, 'no-such-model.gguf');
    const r = cli(['run', '-m', missing, 'hello']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^quantscope: ${missing.replace(/[.\\]/g, '\\$&')}: at byte 0: cannot open file: .*ENOENT.*\n$`));
    expect(r.stderr.split('\n')).toHaveLength(2); // one line
    expectNoStackTrace(r.stderr);
  }, TEST_TIMEOUT);

  it.each([
    ['inside the tokenizer metadata', 5000, 'file truncated'],
    ['inside the tensor data', -1, 'extends past the end of the file'],
  ])('a truncated copy of stories260K (cut %s)', (_, cut, fragment) => {
    const stories = new Uint8Array(readFileSync(STORIES));
    const bytes = stories.subarray(0, cut < 0 ? stories.byteLength + cut : cut);
    const path = tempFile(`cut-${bytes.byteLength}.gguf`, bytes);
    const expected = parseError(bytes, path);
    expect(expected.message).toContain(fragment);
    const r = cli(['run', '-m', path, 'hello']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`quantscope: ${path}: at byte ${expected.offset}: ${expected.reason}\n`);
    expect(expected.offset).toBeLessThanOrEqual(bytes.byteLength);
    expectNoStackTrace(r.stderr);
  }, TEST_TIMEOUT);

  it('a tensor with an unknown ggml type id', async () => {
    const name = 'blk.0.attn_q.weight';
    const bytes = await rebuiltStories((t) => (t.name === name ? { ...t, type: 99 } : t));
    const path = tempFile('unknown-type.gguf', bytes);
    const typeAt = tensorTypeFieldOffset(bytes, name, 2);
    const r = cli(['run', '-m', path, 'hello']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`quantscope: ${path}: at byte ${typeAt}: tensor '${name}' has unknown ggml type id 99\n`);
    expectNoStackTrace(r.stderr);
  }, TEST_TIMEOUT);

  it('a tensor type the engine cannot run yet (MXFP4)', async () => {
    // control: the writer's unchanged copy of stories260K runs like the original
    const copy = tempFile('stories-copy.gguf', await rebuiltStories());
    const greedy = (model: string) => cli(['run', '-m', model, '--temp', '0', 'Once upon a time', '-n', '8']);
    const original = greedy(STORIES);
    const control = greedy(copy);
    expect(control.status).toBe(0);
    expect(control.stdout).toBe(original.stdout);

    const name = 'blk.0.attn_q.weight'; // [64, 64]: 64 rows of 2 MXFP4 blocks (17 bytes each)
    const bytes = await rebuiltStories((t) => (t.name === name ? { ...t, type: 39, data: new Uint8Array(64 * 2 * 17) } : t));
    const path = tempFile('q4_0.gguf', bytes);
    expect((await readGguf(path)).tensors.find((t) => t.name === name)).toMatchObject({ type: 39, nBytes: 2176 });
    const r = cli(['run', '-m', path, 'hello']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^quantscope: .*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toContain(`'${name}'`);
    expect(r.stderr).toMatch(/\bMXFP4\b/);
    expect(r.stderr).toContain('cannot run');
    expect(r.stderr).not.toMatch(/^loaded /m);
    expectNoStackTrace(r.stderr);
  }, TEST_TIMEOUT);
});

// ---------------------------------------------------------------- inspect

describe('quantscope inspect', () => {
  it('describes kjv-austen F16', () => {
    const r = cli(['inspect', KJV_F16]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out.endsWith('\n')).toBe(true);
    expect(out).toMatch(new RegExp(`^  path +${KJV_F16.replace(/\./g, '\\.')}$`, 'm'));
    expect(out).toMatch(/^  architecture +llama$/m);
    expect(out).toMatch(/^  name +kjv-austen-4l-256d$/m);
    expect(out).toMatch(/^  file type +MOSTLY_F16 \(1\)$/m);
    // hyper-parameters
    expect(out).toMatch(/^  embedding_length +256$/m);
    expect(out).toMatch(/^  block_count +4$/m);
    expect(out).toMatch(/^  attention\.head_count +8$/m);
    expect(out).toMatch(/^  attention\.head_count_kv +4$/m);
    expect(out).toMatch(/^  context_length +256$/m);
    // tokenizer summary
    expect(out).toMatch(/^tokenizer$/m);
    expect(out).toMatch(/^  model +llama$/m);
    expect(out).toMatch(/^  vocab size +4096$/m);
    expect(out).toMatch(/^  bos \/ eos id +1 \/ 2$/m);
    // tensor table: a header, then one row per tensor, the types in one column
    const lines = out.split('\n');
    const title = lines.indexOf('tensors (39)');
    expect(title).toBeGreaterThan(0);
    expect(lines[title + 1]).toMatch(/^  name +type +dims +bytes +offset$/);
    const rows = lines.slice(title + 2, title + 2 + 39);
    expect(rows.every((row) => /^  \S+\.weight +F(16|32) +\[[\d, ]+\] +[\d,]+ +[\d,]+$/.test(row))).toBe(true);
    expect(lines[title + 2 + 39]).toBe('');
    expect(new Set(rows.map((row) => row.search(/ F(16|32) /))).size).toBe(1);
    expect(out).toMatch(/^  token_embd\.weight +F16 +\[256, 4096\] +2,097,152 +0$/m);
    expect(out).toMatch(/^  blk\.0\.attn_norm\.weight +F32 +\[256\] +1,024 +2,097,152$/m);
    // per-type totals
    const types = lines.indexOf('tensor types');
    expect(types).toBeGreaterThan(title);
    expect(lines[types + 2]).toMatch(/^  F16 +30 +10,485,760$/);
    expect(lines[types + 3]).toMatch(/^  F32 +9 +9,216$/);
    expect(out).toMatch(/^  parameters +5,245,184$/m);
  }, TEST_TIMEOUT);

  it('--json prints the same report as JSON', async () => {
    const r = cli(['inspect', '--json', KJV_F16]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith('}\n')).toBe(true);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      file: KJV_F16, architecture: 'llama', name: 'kjv-austen-4l-256d', fileType: { id: 1, name: 'MOSTLY_F16' },
      tokenizer: { model: 'llama', vocabSize: 4096, bosId: 1, eosId: 2 },
      tensorTypes: [{ type: 'F16', count: 30, bytes: 10485760 }, { type: 'F32', count: 9, bytes: 9216 }],
    });
    expect(report.hyperParameters).toMatchObject({
      embedding_length: 256, block_count: 4, 'attention.head_count': 8, 'attention.head_count_kv': 4,
    });
    expect(report.tensors).toHaveLength(39);
    expect(report.tensors[0]).toMatchObject({ name: 'token_embd.weight', type: 'F16', dims: [256, 4096] });
    // exactly the library's report (which names the file as it was given)
    const library = inspectGguf(await readGguf(join(ROOT, KJV_F16)));
    expect(report).toStrictEqual({ ...library, file: KJV_F16 });
  }, TEST_TIMEOUT);

  it('shows the Q8_0 tensors of the Q8_0 file', () => {
    const r = cli(['inspect', KJV_Q8]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^  file type +MOSTLY_Q8_0 \(7\)$/m);
    expect(r.stdout).toMatch(/^  token_embd\.weight +Q8_0 +\[256, 4096\] /m);
    const lines = r.stdout.split('\n');
    const types = lines.indexOf('tensor types');
    expect(lines[types + 2]).toMatch(/^  Q8_0 +30 +[\d,]+$/);
    expect(lines[types + 3]).toMatch(/^  F32 +9 +9,216$/);
    expect(r.stdout).not.toMatch(/^  F16 /m);
  }, TEST_TIMEOUT);

  it('a malformed file: exit 1 with the GgufError message', () => {
    const bytes = new Uint8Array(readFileSync(STORIES)).subarray(0, 5000);
    const path = tempFile('inspect-cut.gguf', bytes);
    const expected = parseError(bytes, path);
    const r = cli(['inspect', path]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`quantscope: ${expected.message}\n`);
    expect(r.stderr).toMatch(/: at byte \d+: file truncated: /);
    expectNoStackTrace(r.stderr);

    const json = cli(['inspect', '--json', path]);
    expect(json.status).toBe(1);
    expect(json.stdout).toBe('');
    expect(json.stderr).toBe(r.stderr);
  }, TEST_TIMEOUT);

  it('a missing file or no file argument', () => {
    const missing = join(tempDir, 'no-such-file.gguf');
    const r = cli(['inspect', missing]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^quantscope: .*: at byte 0: cannot open file: /);
    expect(r.stderr).toContain(missing);
    expectNoStackTrace(r.stderr);

    const none = cli(['inspect']);
    expect(none.status).not.toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^error: missing required argument 'file'/);
    expectNoStackTrace(none.stderr);
  }, TEST_TIMEOUT);
});
