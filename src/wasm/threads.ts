// Kernel worker threads: matrix products split by rows across `threads` (the main thread plus
// threads − 1 workers), all running the same kernel module over the engine's one shared memory, so
// the weights are held once. Rows go out in chunks that each thread takes from a shared counter as
// it gets to them (chunkRows, mul_mat_chunks), not in fixed parts. Synchronisation is a control
// block of int32s in that memory (thread-control.ts): Atomics to post an operation and to wait for
// it, no message per operation.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TableBinding } from './instance.js';
import { availableParallelism } from 'node:os';
import { QuantscopeError } from '../errors.js';
import { packageRoot } from '../paths.js';
import {
  ARGS, CONTROL_BYTES, FAILED, GEN, GEN_MASK, OP, OP_FAULT, OP_MUL_MAT, OP_RUN, OP_STOP, PENDING, REVOKED, S_DEAD, SPIN,
  NEXT, WAIT_SLICE_MS, chunkRows, claimSlot, diedSlot, poolStateSlots, readReason, reasonBytes,
} from './thread-control.js';

type MulMat = (vecDot: number, vecDotBatch: number, w: number, wRowBytes: number, x: number, xRowBytes: number,
  out: number, outRowFloats: number, r0: number, r1: number, cols: number, nTok: number) => void;
/** the kernel module's run_chunks: a job's items taken `chunk` at a time from the counter at byte `next` */
export type RunChunks = (job: number, args: number, n: number, next: number, chunk: number, part: number) => void;
/** the kernel module's mul_mat_chunks: rows taken `chunk` at a time from the counter at byte `next` */
export type MulMatChunks = (vecDot: number, vecDotBatch: number, w: number, wRowBytes: number, x: number, xRowBytes: number,
  out: number, outRowFloats: number, rows: number, cols: number, nTok: number, next: number, chunk: number) => void;

/**
 * Products smaller than this many multiply-adds run on the main thread alone: waking a worker and
 * waiting for it costs some microseconds, more than half of a small product saves.
 */
export const MIN_PARALLEL_MACS = 1 << 18;

/**
 * The same threshold for a job (runJob), in its own rough unit of multiply-adds: attention's many
 * short dot products and softmax, and SwiGLU's exponentials, cost more per unit than a mat-mul's.
 */
export const MIN_PARALLEL_WORK = 1 << 15;

/** The compiled worker program (from src/ under vitest, the build in dist/; `npm test` builds first). */
function workerProgram(): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.js') ? join(dirname(here), 'thread-worker.js') : join(packageRoot(), 'dist', 'src', 'wasm', 'thread-worker.js');
  if (!existsSync(path)) throw new QuantscopeError('wasm', `the kernel worker program ${path} is missing; run \`npm run build\``);
  return path;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * The worker threads of one engine.
 *
 * A worker that dies (an uncaught error, process.exit(), terminate(), running out of heap) fails the
 * pool for good: the operation it was part of throws a QuantscopeError('wasm') naming the worker
 * and why it died — that product's output is incomplete — and every matrix product after it runs on
 * the main thread alone. Each output row is computed whole by one thread with the same kernel, so
 * the numbers stay bit-identical, only slower; `threads` then reports 1 and `failure` keeps the
 * error. A death noticed between operations (a hard kill seen by the 'exit' listener) affects no
 * result, so it is reported with process.emitWarning instead of failing a call that can be
 * completed. Falling back rather than refusing every later call is deliberate: the session that saw
 * the error is consistent (a failed evaluate records no positions) and may simply retry, where a
 * pool that stayed failed would force reloading the whole model to get any answer, for a condition
 * (one lost helper thread) that does not make a single-thread answer any less right.
 *
 * How the main thread, blocked in a synchronous product, learns of a death: the Worker's events need
 * the main thread's event loop, which a blocked thread does not run. So a dying worker reports
 * itself from inside (thread-worker.ts die(): its process 'exit' handler, which also runs on
 * process.exit(), and the catch around its loop) by writing its died flag into the pool's shared
 * state, counting itself out and notifying PENDING; the main thread waits in WAIT_SLICE_MS slices
 * and checks the flag between them too. A hard kill runs no code in the worker; the 'exit'/'error'
 * listeners record it and the next call sees it. A hard kill cannot happen during an operation
 * under this pool's control: only the pool terminates its workers, never while an operation is in
 * flight, and a worker's loop allocates nothing that could exhaust its heap.
 */
export class ThreadPool {
  private readonly c: Int32Array;
  private readonly s: Int32Array;
  /** byte address of the control block's row counter (NEXT) */
  private readonly next: number;
  /** the current generation, and the one before it (the claim of a worker that has not taken the current one) */
  private gen: number;
  private prev: number;
  private disposed = false;
  private failed: QuantscopeError | undefined;
  /** a worker whose 'exit' event the main thread saw while the pool was running (0: none), its exit code */
  private lost = 0;
  private lostCode = 0;
  /** per part: the message of the worker's 'error' event, if it had one */
  private readonly errors: string[];
  /**
   * Tests only: a wait that sees no worker count out for this long fails the pool with an error
   * instead of waiting on, so that a protocol bug fails a test rather than hanging it. Infinity in
   * use: a part of a big product may legitimately take long, and a live worker always finishes.
   * @internal
   */
  stallLimitMs = Infinity;
  /**
   * Tests only: false makes the main thread post a product and wait, leaving every chunk to the
   * workers (which thread takes which chunk is otherwise a race).
   * @internal
   */
  mainTakesChunks = true;

  private constructor(
    private readonly parts: number,
    private readonly workers: Worker[],
    memory: WebAssembly.Memory,
    control: number,
    state: SharedArrayBuffer,
    private readonly reasons: SharedArrayBuffer,
    gen: number,
    private readonly mulMatKernel: MulMat,
    private readonly mulMatChunks: MulMatChunks,
    private readonly runChunks: RunChunks,
  ) {
    this.c = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
    this.next = control + 4 * NEXT;
    this.s = new Int32Array(state);
    this.gen = gen;
    this.prev = gen;
    this.errors = new Array<string>(parts).fill('');
  }

  /** Threads running matrix products: the pool's size, or 1 once it has failed. */
  get threads(): number {
    return this.failed === undefined ? this.parts : 1;
  }

  /** Why the pool fell back to the main thread alone, if it did. */
  get failure(): QuantscopeError | undefined {
    return this.failed;
  }

  /**
   * Start threads − 1 workers over `memory` (which must be shared), each binding the function table
   * as the main instance did (`table`: [index, export name]). Resolves when all are ready.
   */
  static async start(
    threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, control: number,
    table: TableBinding[], mulMat: MulMat, mulMatChunks: MulMatChunks, runChunks: RunChunks,
  ): Promise<ThreadPool> {
    const program = workerProgram();
    const c = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
    const gen = Atomics.load(c, GEN) & GEN_MASK;
    Atomics.store(c, GEN, gen);
    Atomics.store(c, PENDING, 0);
    Atomics.store(c, FAILED, 0);
    const state = new SharedArrayBuffer(4 * poolStateSlots(threads));
    const s = new Int32Array(state);
    for (let p = 1; p < threads; p++) Atomics.store(s, claimSlot(p), gen);
    const reasons = new SharedArrayBuffer(reasonBytes(threads));
    const workers = Array.from({ length: threads - 1 }, (_, i) =>
      new Worker(program, { workerData: { module, memory, control, part: i + 1, table, state, reasons } }));
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
    const pool = new ThreadPool(threads, workers, memory, control, state, reasons, gen, mulMat, mulMatChunks, runChunks);
    workers.forEach((w, i) => {
      w.removeAllListeners();
      // kept for the pool's life: an 'error' event without a listener would be thrown on the main thread
      w.on('error', (e) => pool.onWorkerError(i + 1, e));
      w.on('exit', (code) => pool.onWorkerExit(i + 1, code));
      w.unref(); // listeners do not keep the process alive; unref'd workers do not either
    });
    return pool;
  }

  /** mul_mat over all rows, split across the threads (the same arguments as the kernel's, rows = r1). */
  mulMat(vecDot: number, vecDotBatch: number, w: number, wRowBytes: number, x: number, xRowBytes: number,
    out: number, outRowFloats: number, rows: number, cols: number, nTok: number): void {
    if (this.failed !== undefined || this.disposed || rows * cols * nTok < MIN_PARALLEL_MACS || !this.workersAlive()) {
      this.mulMatKernel(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, 0, rows, cols, nTok);
      return;
    }
    const c = this.c;
    const chunk = chunkRows(rows, nTok, this.parts);
    c[ARGS] = vecDot; c[ARGS + 1] = vecDotBatch; c[ARGS + 2] = w; c[ARGS + 3] = wRowBytes; c[ARGS + 4] = x; c[ARGS + 5] = xRowBytes;
    c[ARGS + 6] = out; c[ARGS + 7] = outRowFloats; c[ARGS + 8] = rows; c[ARGS + 9] = cols; c[ARGS + 10] = nTok; c[ARGS + 11] = chunk;
    Atomics.store(c, NEXT, 0);
    this.post(OP_MUL_MAT);
    let trapped: unknown;
    try {
      if (this.mainTakesChunks) this.mulMatChunks(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, rows, cols, nTok, this.next, chunk);
    } catch (e) {
      trapped = e; // wait for the workers first: they still write into the output
    }
    this.finish(trapped);
  }

  /**
   * A job's items 0 … n − 1 over the threads (Engine.runJob). False, having run nothing, when the
   * caller should run it on the main thread: small work, a failed pool, or more threads than the
   * job has scratch for.
   */
  runJob(job: number, args: number, n: number, chunk: number, work: number, maxParts: number): boolean {
    if (this.failed !== undefined || this.disposed || work < MIN_PARALLEL_WORK || this.parts > maxParts || !this.workersAlive()) return false;
    const c = this.c;
    c[ARGS] = job; c[ARGS + 1] = args; c[ARGS + 2] = n; c[ARGS + 3] = chunk;
    Atomics.store(c, NEXT, 0);
    this.post(OP_RUN);
    let trapped: unknown;
    try {
      if (this.mainTakesChunks) this.runChunks(job, args, n, this.next, chunk, 0);
    } catch (e) {
      trapped = e;
    }
    this.finish(trapped, 'a job');
    return true;
  }

  /**
   * Tests only: worker `part` dies in the middle of an operation (OP_FAULT) — throws an uncaught error
   * (FAULT_THROW) or calls process.exit(`code`) (FAULT_EXIT) — and this call fails the way a
   * mulMat during which a worker died fails.
   * @internal
   */
  testFault(part: number, kind: number, code = 0): void {
    if (this.failed !== undefined || this.disposed || !this.workersAlive()) return;
    const c = this.c;
    c[ARGS] = part; c[ARGS + 1] = kind; c[ARGS + 2] = code;
    this.post(OP_FAULT);
    this.finish(undefined);
  }

  /**
   * Tests only: kill worker `part` hard (terminate(): it runs no code on its way out, as when a worker
   * runs out of heap). Resolves when it has gone, after the pool's 'exit' listener has seen it.
   * @internal
   */
  testTerminate(part: number): Promise<number> {
    return this.workers[part - 1].terminate();
  }

  /** Stop the workers (they exit at once; the pool then runs everything on the main thread). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.failed === undefined) this.stopWorkers();
  }

  /**
   * Post an operation whose arguments are in place. PENDING is set before GEN moves: a worker that
   * sees the new generation must find its count in PENDING.
   */
  private post(op: number): void {
    const c = this.c;
    Atomics.store(c, OP, op);
    Atomics.store(c, PENDING, this.parts - 1);
    this.prev = this.gen;
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(c, GEN, this.gen);
    Atomics.notify(c, GEN);
  }

  /** Wait for the workers, then throw what went wrong, if anything: a death, a trap here, a trap there. */
  private finish(trapped: unknown, what = 'mul_mat'): void {
    this.wait();
    const failedPart = Atomics.exchange(this.c, FAILED, 0); // cleared whatever is thrown, or the next call would throw it
    if (Atomics.load(this.s, S_DEAD) !== 0) throw this.fail(true, trapped);
    if (trapped !== undefined) throw trapped;
    if (failedPart !== 0) {
      throw new WebAssembly.RuntimeError(`kernel worker ${failedPart} trapped in ${what}: ${readReason(this.reasons, failedPart) ?? 'no reason recorded'}`);
    }
  }

  /**
   * Wait until every worker has counted out (PENDING = 0). Allocation-free. A stale notify (from a
   * worker that counted out of an earlier operation and was descheduled before notifying) only
   * makes this loop read PENDING again. Atomics.wait is bounded to WAIT_SLICE_MS so that a death
   * whose notify never came is still seen; a dead worker that never took this operation is counted
   * out here (release), so the wait still ends once the survivors, which write into the output, are
   * done with it.
   */
  private wait(): void {
    const c = this.c;
    for (let i = 0; i < SPIN && Atomics.load(c, PENDING) !== 0; i++);
    let stalled = 0;
    for (;;) {
      let p = Atomics.load(c, PENDING);
      if (p !== 0 && Atomics.load(this.s, S_DEAD) !== 0) {
        this.release();
        p = Atomics.load(c, PENDING);
      }
      if (p === 0) return;
      if (p < 0) throw this.giveUp(`the kernel thread pool's protocol broke (PENDING = ${p})`);
      if (Atomics.wait(c, PENDING, p, WAIT_SLICE_MS) === 'timed-out' && ++stalled * WAIT_SLICE_MS >= this.stallLimitMs) {
        throw this.giveUp(`the kernel workers made no progress for ${stalled * WAIT_SLICE_MS} ms (PENDING = ${p})`);
      }
    }
  }

  /**
   * Count out every dead worker that never took the current operation. Its claim still holds the
   * previous generation; revoking it (compare-exchange prev → REVOKED) decides the race with the
   * worker for good: a worker that took the operation has moved its claim on, and counts itself out
   * when it dies (die() in thread-worker.ts); one that did not can no longer take it.
   */
  private release(): void {
    const s = this.s;
    for (let q = 1; q < this.parts; q++) {
      if (Atomics.load(s, diedSlot(q)) !== 0 && Atomics.compareExchange(s, claimSlot(q), this.prev, REVOKED) === this.prev) {
        Atomics.sub(this.c, PENDING, 1);
      }
    }
  }

  /** Before posting: true if no worker is known to have died; else fail the pool (with a warning: no result is affected). */
  private workersAlive(): boolean {
    if (this.lost === 0 && Atomics.load(this.s, S_DEAD) === 0) return true;
    process.emitWarning(this.fail(false));
    return false;
  }

  /** Give the workers up for a reason other than a death (a bug: they cannot be trusted to be idle). */
  private giveUp(what: string): QuantscopeError {
    this.failed = new QuantscopeError('wasm', `${what}; matrix products run on the main thread alone from now on`);
    this.stopWorkers();
    return this.failed;
  }

  /** Give the workers up after a death: record the error, stop the survivors. */
  private fail(during: boolean, cause?: unknown): QuantscopeError {
    const part = Atomics.load(this.s, S_DEAD) || this.lost;
    const reason = readReason(this.reasons, part)
      ?? (this.errors[part] || `it exited with code ${this.lostCode} without saying why (killed from outside, or out of heap)`);
    let dead = 0;
    for (let q = 1; q < this.parts; q++) if (Atomics.load(this.s, diedSlot(q)) !== 0 || q === this.lost) dead++;
    const message = `kernel worker thread ${part} of ${this.parts - 1} died`
      + (during ? ' while a matrix product was running, so that product\'s result is incomplete' : '')
      + `: ${reason}` + (dead > 1 ? ` (${dead} workers have died)` : '')
      + '. Matrix products run on the main thread alone from now on (the same numbers, only slower).';
    this.failed = new QuantscopeError('wasm', message, cause === undefined ? undefined : { cause });
    this.stopWorkers();
    return this.failed;
  }

  /**
   * Revoke every worker's claim, post OP_STOP and terminate the workers. Only called with no
   * operation in flight. The revocation makes a worker that wakes late leave without touching the
   * control block, even if the engine has since cleared it for another pool (startThreads).
   */
  private stopWorkers(): void {
    const c = this.c;
    for (let p = 1; p < this.parts; p++) Atomics.store(this.s, claimSlot(p), REVOKED);
    Atomics.store(c, OP, OP_STOP);
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(c, GEN, this.gen);
    Atomics.notify(c, GEN);
    for (const w of this.workers) void w.terminate();
  }

  private onWorkerError(part: number, e: unknown): void {
    if (this.errors[part] === '') this.errors[part] = describe(e);
  }

  private onWorkerExit(part: number, code: number): void {
    if (this.disposed || this.failed !== undefined || this.lost !== 0) return;
    this.lost = part;
    this.lostCode = code;
  }
}

/**
 * Threads for the matrix products when the caller does not say: QUANTSCOPE_THREADS if set (the test
 * suite sets 1: it runs its files in parallel on every core already), else one per core the process
 * may use (os.availableParallelism()).
 */
export function defaultThreads(): number {
  const env = process.env.QUANTSCOPE_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new QuantscopeError('invalid_argument', `QUANTSCOPE_THREADS must be a positive integer, got '${env}'`);
    return n;
  }
  return availableParallelism();
}
