// llama.cpp itself as a reference: node-llama-cpp (an optional peer dependency) evaluates token ids
// and continues greedily, and we compare against its numbers.
//
// node-llama-cpp always runs in a child process (llamacpp-child.ts): llama.cpp answers a malformed
// model with GGML_ASSERT → abort(), which would take the caller's process down with it. One child
// runs all jobs of a call, one after another, and talks over the IPC channel with the 'advanced'
// (structured clone) serialization, so the probability vectors travel as Float32Arrays.
//
// QUANTSCOPE_LLAMACPP_MODULE overrides the module specifier 'node-llama-cpp' (another install, or a name
// that does not exist to exercise the "not installed" path).
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LlamaCppReferenceError, QuantscopeError } from '../errors.js';
import { packageRoot } from '../paths.js';

export interface LlamaCppJob {
  modelPath: string;
  /** token ids evaluated as they are (one batch), e.g. a reference case's prompt tokens */
  tokens: number[];
  /** optional text that llama.cpp tokenizes too (result.promptTokens); it is not evaluated */
  prompt?: string;
  /** greedy tokens to generate after `tokens` (0 for the distribution only) */
  nPredict: number;
  /** KV cache type (default f32, as the reference JSONs were made; llama.cpp's own default is f16) */
  kvType?: 'f32' | 'f16';
  /** how many best tokens go into result.top; default 10 */
  topK?: number;
}

export interface LlamaCppResult {
  /** e.g. "node-llama-cpp 3.21.1 (llama.cpp v0.4.0, prebuilt, CPU)", read from the running library */
  engine: string;
  modelPath: string;
  /** llama.cpp's tokenization of job.prompt (special-token texts parsed, BOS/EOS added as the
   *  model's metadata says), or null when the job has no prompt */
  promptTokens: number[] | null;
  /** llama.cpp's next-token distribution after `tokens` over the whole vocabulary (length n_vocab):
   *  softmax of the raw logits (no temperature, penalties or truncation), computed in f32 by
   *  node-llama-cpp and renormalized in double */
  probs: Float32Array;
  /** the topK entries of probs, best first (equal probabilities: lower id first); `text` is the
   *  token rendered as a continuation of `tokens` (special tokens as their text) */
  top: { id: number; prob: number; text: string }[];
  /** up to nPredict greedy (argmax) tokens after `tokens`; it ends early only at an end-of-generation
   *  token (EOS, EOT, …), which is included as its last element */
  greedy: number[];
}

export interface LlamaCppOptions {
  /** ms one job (load + evaluate + greedy continuation) may take before the child is killed; the
   *  clock restarts at every finished job. Default 300 000. */
  timeoutMs?: number;
  /** CPU threads for llama.cpp; default 1 for models under 64 MiB (thread synchronisation costs more than
   *  it saves there), else the machine's math cores. The results do not depend on it. */
  threads?: number;
}

/** A job as the child gets it (defaults filled in). @internal */
export type ChildJob = Required<Omit<LlamaCppJob, 'prompt'>> & Pick<LlamaCppJob, 'prompt'>;

/** What the parent sends the child (one message, then the child works and exits). @internal */
export interface ChildRequest {
  type: 'run';
  /** absolute path of node-llama-cpp's entry file, as resolved here */
  moduleEntry: string;
  moduleVersion: string;
  jobs: ChildJob[];
  threads?: number;
}

/** What the child sends back. @internal */
export type ChildMessage =
  | { type: 'result'; index: number; result: LlamaCppResult }
  | { type: 'error'; index: number | null; reason: 'unavailable' | 'failed'; message: string };

const DEFAULT_MODULE = 'node-llama-cpp';
/** Set to another module specifier (or a path) to load node-llama-cpp from elsewhere — or to a name
 *  that does not exist to see how quantscope behaves without it (tests do). */
export const MODULE_ENV = 'QUANTSCOPE_LLAMACPP_MODULE';
const DEFAULT_TIMEOUT_MS = 300_000;
const TAIL_BYTES = 8192;

function moduleSpecifier(): string {
  return process.env[MODULE_ENV] || DEFAULT_MODULE;
}

/** node-llama-cpp's entry file as resolved from this package, or null when it is not installed. */
function resolveModule(): string | null {
  try {
    return createRequire(import.meta.url).resolve(moduleSpecifier());
  } catch {
    return null;
  }
}

/** Whether node-llama-cpp can be loaded from this package (it is an optional peer dependency). */
export function llamaCppAvailable(): boolean {
  return resolveModule() !== null;
}

/** The version in the nearest package.json above the resolved entry file. */
function moduleVersion(entry: string): string {
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string };
    if (version) return version;
  }
  return 'unknown version';
}

/** The compiled child program. Node cannot run the .ts sibling when vitest imports this source
 *  file, so from src/ we use the build in dist/ (`npm test` builds first). */
function childProgram(): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.js')
    ? join(dirname(here), 'llamacpp-child.js')
    : join(packageRoot(), 'dist', 'src', 'reference', 'llamacpp-child.js');
  if (!existsSync(path)) {
    throw new LlamaCppReferenceError('unavailable', `the llama.cpp child program ${path} is missing; run \`npm run build\``);
  }
  return path;
}

function validate(job: LlamaCppJob, i: number): void {
  const bad = (what: string) => new QuantscopeError('invalid_argument', `runLlamaCpp: job ${i} (${job.modelPath}): ${what}`);
  if (typeof job.modelPath !== 'string' || job.modelPath === '') throw bad('modelPath must be a file path');
  if (!Array.isArray(job.tokens) || job.tokens.length === 0) throw bad('tokens must be a non-empty array of token ids');
  if (!job.tokens.every((t) => Number.isInteger(t) && t >= 0)) throw bad('tokens must be non-negative integers');
  if (!Number.isInteger(job.nPredict) || job.nPredict < 0) throw bad('nPredict must be an integer ≥ 0');
  if (job.topK !== undefined && (!Number.isInteger(job.topK) || job.topK < 0)) throw bad('topK must be an integer ≥ 0');
}

/** Keeps the last `max` bytes written to the child's stdout/stderr. */
class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes - this.chunks[0].length >= this.max) this.bytes -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8').trim();
  }
}

/**
 * Runs each job through llama.cpp (node-llama-cpp 3.21.1, CPU, F32 KV cache unless a job asks for F16) in one child process and
 * returns the results in job order. All or nothing: the first failure rejects with a
 * LlamaCppReferenceError (reason, model, exit code/signal, stderr tail) that carries the results of
 * the jobs finished before it in `completed`; later jobs are not run.
 */
export async function runLlamaCpp(jobs: LlamaCppJob[], opts: LlamaCppOptions = {}): Promise<LlamaCppResult[]> {
  jobs.forEach(validate);
  const moduleEntry = resolveModule();
  if (moduleEntry === null) {
    throw new LlamaCppReferenceError(
      'unavailable',
      `llama.cpp reference needs node-llama-cpp, which cannot be found (module '${moduleSpecifier()}'); ` +
        'install it next to quantscope with `npm i -E node-llama-cpp@3.21.1`',
    );
  }
  if (jobs.length === 0) return [];
  const program = childProgram();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const request: ChildRequest = {
    type: 'run',
    moduleEntry,
    moduleVersion: moduleVersion(moduleEntry),
    jobs: jobs.map((j) => ({ modelPath: j.modelPath, tokens: [...j.tokens], prompt: j.prompt, nPredict: j.nPredict, topK: j.topK ?? 10, kvType: j.kvType ?? 'f32' })),
    threads: opts.threads,
  };

  return new Promise((resolve, reject) => {
    // execArgv: [] — the caller's flags (vitest's loaders, --inspect) must not leak into the child.
    // stdout is piped too: nothing the child prints can reach the caller's stdout.
    const child = fork(program, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] });
    const tail = new OutputTail(TAIL_BYTES);
    child.stdout!.on('data', (d: Buffer) => tail.push(d));
    child.stderr!.on('data', (d: Buffer) => tail.push(d));
    const results: LlamaCppResult[] = [];
    let failure: { reason: 'unavailable' | 'failed' | 'timeout'; message: string; cause?: unknown } | undefined;

    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        failure ??= { reason: 'timeout', message: `a job took more than ${timeoutMs} ms; the child process was killed` };
        child.kill('SIGKILL');
      }, timeoutMs);
    };
    arm();

    child.on('message', (m: ChildMessage) => {
      if (m.type === 'result') {
        results[m.index] = m.result;
        arm();
      } else {
        failure ??= { reason: m.reason, message: m.message };
      }
    });
    child.on('error', (e) => {
      failure ??= { reason: 'failed', message: `cannot run the child process: ${e.message}`, cause: e };
    });
    // 'close' comes after the process exited and its stdio ended, so the tail is complete.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const done = results.filter(Boolean).length;
      if (!failure && code === 0 && done === jobs.length) return resolve(results);
      const modelPath = done < jobs.length ? jobs[done].modelPath : null;
      const { reason, message, cause } = failure ?? {
        reason: 'failed' as const,
        message: signal ? `the child process was killed by ${signal}` : `the child process exited with code ${code}`,
      };
      const stderrTail = tail.text();
      const where = modelPath ? ` on ${modelPath}` : '';
      reject(new LlamaCppReferenceError(
        reason,
        `llama.cpp reference ${reason === 'timeout' ? 'timed out' : 'failed'}${where}: ${message}` +
          (stderrTail ? `\n--- llama.cpp child output (tail) ---\n${stderrTail}` : ''),
        { modelPath, exitCode: code, signal, stderrTail, completed: results.slice(0, done) },
        { cause },
      ));
    });
    child.send(request);
  });
}
