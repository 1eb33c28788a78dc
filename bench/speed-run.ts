// Runs one measuring child (speed-child.ts or llamacpp-speed-child.ts) and returns its numbers, or a
// readable reason it has none — a crash, a timeout, node-llama-cpp missing — which the report shows
// in place of the numbers while the rest of the bench goes on.
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULE_ENV } from '../src/reference/llamacpp.js';
import { packageRoot } from '../src/paths.js';
import { cpuSample, otherCores } from './machine-load.js';
import type { SpeedMessage, SpeedRequest, SpeedResult } from './speed-protocol.js';

/** `otherCores`: cores other processes used on average while the child ran (machine-load.ts) */
export type SpeedOutcome = { ok: true; result: SpeedResult; otherCores: number | null } | { ok: false; error: string };

const TAIL_CHARS = 2000;

/** The compiled child: next to this file in dist/bench, or dist/bench when running from source. */
function program(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.js') ? join(dirname(here), name) : join(packageRoot(), 'dist', 'bench', name);
  if (!existsSync(path)) throw new Error(`${path} is missing; run \`npm run build\``);
  return path;
}

/** The node flag that gives Node 20 relaxed SIMD (Node ≥ 22 has it without). */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/** (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd): it validates where the runtime has relaxed SIMD */
const RELAXED_MADD_MODULE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128, v128, v128) → v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2, f32x4.relaxed_madd
);

/**
 * Whether this runtime has relaxed SIMD at all (whether its relaxed_madd is fused is another matter:
 * relaxedSimdUsable() in src/wasm/instance.ts asks both). Without it, a child measuring the relaxed
 * kernels needs RELAXED_SIMD_FLAG.
 */
export function runtimeHasRelaxedSimd(): boolean {
  return WebAssembly.validate(RELAXED_MADD_MODULE);
}

function runChild(name: string, req: SpeedRequest, timeoutMs: number, execArgv: readonly string[] = []): Promise<SpeedOutcome> {
  return new Promise((resolve) => {
    // execArgv: only the flags asked for, so that the parent's loaders or --inspect do not reach the
    // child; its output is kept (not shown) for the error message
    const before = cpuSample();
    const child = fork(program(name), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [...execArgv] });
    let output = '';
    const keep = (d: Buffer) => { output = (output + d.toString('utf8')).slice(-TAIL_CHARS); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let outcome: SpeedOutcome | undefined;
    let step = 'start';
    let timer: NodeJS.Timeout | undefined;
    // the clock restarts at every message: a hung child is caught after one step's timeout, not the whole run's
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        outcome ??= { ok: false, error: `no progress for ${Math.round(timeoutMs / 1000)} s after '${step}'; the child was killed` };
        child.kill('SIGKILL');
      }, timeoutMs);
    };
    arm();
    child.on('message', (m: SpeedMessage) => {
      arm();
      if (m.type === 'progress') step = m.step;
      else if (m.type === 'result') outcome ??= { ok: true, result: m.result, otherCores: otherCores(before, cpuSample(), m.result.cpuSeconds) };
      else outcome ??= { ok: false, error: m.message };
    });
    child.on('error', (e) => { outcome ??= { ok: false, error: `cannot run ${name}: ${e.message}` }; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = output.trim() ? ` — output: ${output.trim().split('\n').slice(-5).join(' | ')}` : '';
      if (outcome && !outcome.ok) outcome = { ok: false, error: outcome.error + tail };
      resolve(outcome ?? { ok: false, error: `the child exited (${signal ?? `code ${code}`}) without a result${tail}` });
    });
    child.send(req);
  });
}

/** `timeoutMs`: for one step (the load, or one run); `execArgv`: the child's node flags (RELAXED_SIMD_FLAG, or none) */
export function measureOurs(req: SpeedRequest, timeoutMs: number, execArgv: readonly string[] = []): Promise<SpeedOutcome> {
  return runChild('speed-child.js', req, timeoutMs, execArgv);
}

/** node-llama-cpp's entry file and version, or why it cannot be used. */
export function findNodeLlamaCpp(): { entry: string; version: string } | { error: string } {
  const specifier = process.env[MODULE_ENV] || 'node-llama-cpp';
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(specifier);
  } catch {
    return { error: `node-llama-cpp is not installed (module '${specifier}'); \`npm i -E node-llama-cpp@3.21.1\` adds llama.cpp's columns` };
  }
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string };
    if (version) return { entry, version };
  }
  return { entry, version: 'unknown version' };
}

export function measureLlamaCpp(req: SpeedRequest, timeoutMs: number): Promise<SpeedOutcome> {
  return runChild('llamacpp-speed-child.js', req, timeoutMs);
}
