// Kernel worker threads: matrix products split by rows across `threads` (the main thread plus
// threads − 1 workers), all running the same kernel module over the engine's one shared memory, so
// the weights are held once. Synchronisation is a control block of int32s in that memory
// (thread-control.ts): Atomics to post an operation and to wait for it, no message per operation.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QuantscopeError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { ARGS, CONTROL_BYTES, FAILED, GEN, OP, OP_MUL_MAT, OP_STOP, PENDING, SPIN, partRows } from './thread-control.js';

type MulMat = (vecDot: number, vecDotBatch: number, w: number, wRowBytes: number, x: number, xRowBytes: number,
  out: number, outRowFloats: number, r0: number, r1: number, cols: number, nTok: number) => void;

/**
 * Products smaller than this many multiply-adds run on the main thread alone: waking a worker and
 * waiting for it costs some microseconds, more than half of a small product saves.
 */
export const MIN_PARALLEL_MACS = 1 << 18;

/** The compiled worker program (from src/ under vitest, the build in dist/; `npm test` builds first). */
function workerProgram(): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.js') ? join(dirname(here), 'thread-worker.js') : join(packageRoot(), 'dist', 'src', 'wasm', 'thread-worker.js');
  if (!existsSync(path)) throw new QuantscopeError('wasm', `the kernel worker program ${path} is missing; run \`npm run build\``);
  return path;
}

export class ThreadPool {
  private readonly c: Int32Array;
  private disposed = false;

  private constructor(
    readonly threads: number,
    private readonly workers: Worker[],
    memory: WebAssembly.Memory,
    control: number,
    private readonly mulMatKernel: MulMat,
  ) {
    this.c = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
  }

  /**
   * Start threads − 1 workers over `memory` (which must be shared), each binding the function table
   * as the main instance did (`table`: [index, export name]). Resolves when all are ready.
   */
  static async start(
    threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, control: number,
    table: Array<[number, string]>, mulMat: MulMat,
  ): Promise<ThreadPool> {
    const program = workerProgram();
    const workers = Array.from({ length: threads - 1 }, (_, i) =>
      new Worker(program, { workerData: { module, memory, control, part: i + 1, table } }));
    try {
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`exited with code ${code} while starting`)));
      })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new QuantscopeError('wasm', `could not start ${threads - 1} kernel worker thread(s): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    for (const w of workers) { w.removeAllListeners(); w.unref(); }
    return new ThreadPool(threads, workers, memory, control, mulMat);
  }

  /** mul_mat over all rows, split across the threads (the same arguments as the kernel's, rows = r1). */
  mulMat(vecDot: number, vecDotBatch: number, w: number, wRowBytes: number, x: number, xRowBytes: number,
    out: number, outRowFloats: number, rows: number, cols: number, nTok: number): void {
    if (this.disposed || rows * cols * nTok < MIN_PARALLEL_MACS) {
      this.mulMatKernel(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, 0, rows, cols, nTok);
      return;
    }
    const c = this.c;
    const parts = this.threads;
    c[ARGS] = vecDot; c[ARGS + 1] = vecDotBatch; c[ARGS + 2] = w; c[ARGS + 3] = wRowBytes; c[ARGS + 4] = x; c[ARGS + 5] = xRowBytes;
    c[ARGS + 6] = out; c[ARGS + 7] = outRowFloats; c[ARGS + 8] = rows; c[ARGS + 9] = cols; c[ARGS + 10] = nTok; c[ARGS + 11] = parts;
    Atomics.store(c, OP, OP_MUL_MAT);
    Atomics.store(c, PENDING, parts - 1);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    const [r0, r1] = partRows(rows, 0, parts);
    let trapped: unknown;
    try {
      this.mulMatKernel(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, r0, r1, cols, nTok);
    } catch (e) {
      trapped = e; // wait for the workers first: they still write into the output
    }
    this.wait();
    if (trapped !== undefined) throw trapped;
    if (Atomics.exchange(c, FAILED, 0) !== 0) {
      throw new WebAssembly.RuntimeError('a kernel worker trapped in mul_mat');
    }
  }

  private wait(): void {
    const c = this.c;
    for (let i = 0; i < SPIN && Atomics.load(c, PENDING) !== 0; i++);
    for (let p = Atomics.load(c, PENDING); p !== 0; p = Atomics.load(c, PENDING)) Atomics.wait(c, PENDING, p);
  }

  /** Stop the workers (they exit at once; the pool then runs everything on the main thread). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.c, OP, OP_STOP);
    Atomics.add(this.c, GEN, 1);
    Atomics.notify(this.c, GEN);
  }
}
