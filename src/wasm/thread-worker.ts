// A kernel worker: the same kernel module instantiated over the engine's shared memory, with the
// same function table, running its rows of each matrix product the main thread posts through the
// control block (thread-control.ts). It writes only its own output rows, so results are the same
// whatever the thread count.
//
// A worker that dies says so before it goes (die(), from the catch around its loop and from its
// process 'exit' handler, which also runs on process.exit()): it records why, marks itself dead in
// the pool's state, counts itself out of the operation it was running, and wakes the main thread,
// which is blocked in Atomics.wait and could not see the Worker's 'exit' event. Only a hard kill
// (terminate(), running out of heap) runs no code here; the pool's 'exit' listener sees that one.
import { parentPort, workerData } from 'node:worker_threads';
import type { TableBinding } from './instance.js';
import type { MulMatChunks } from './threads.js';
import {
  ARGS, CONTROL_BYTES, FAILED, FAULT_EXIT, GEN, OP, OP_FAULT, OP_MUL_MAT, OP_RUN, OP_STOP, PENDING, S_DEAD, SPIN,
  NEXT, claimSlot, diedSlot, writeReason,
} from './thread-control.js';

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  /** this worker's part: 1 … parts − 1 (the main thread runs part 0) */
  part: number;
  /** every function-table slot the main instance bound (instance.ts TableBinding) */
  table: TableBinding[];
  /** the pool's own state and failure texts (thread-control.ts) */
  state: SharedArrayBuffer;
  reasons: SharedArrayBuffer;
}


const init = workerData as WorkerInit;
const part = init.part;
const c = new Int32Array(init.memory.buffer, init.control, CONTROL_BYTES / 4);
const s = new Int32Array(init.state);
/** between taking an operation and counting out of it (a death then counts out for this worker) */
let inOp = false;
/** the loop ended as asked (stopped, or given up by the pool): nothing to report on the way out */
let finished = false;

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Report this worker's death to the main thread, once. The died flag and S_DEAD are stored before
 * PENDING is counted down, so a main thread that sees PENDING reach 0 also sees the death. A worker
 * that dies between operations does not touch PENDING: the main thread counts it out itself if it
 * has posted an operation this worker never took (ThreadPool.release, through the claim slot).
 */
function die(reason: string): void {
  if (finished) return;
  finished = true;
  writeReason(init.reasons, part, reason);
  Atomics.store(s, diedSlot(part), 1);
  Atomics.compareExchange(s, S_DEAD, 0, part);
  if (inOp) {
    inOp = false;
    Atomics.sub(c, PENDING, 1);
  }
  Atomics.notify(c, PENDING); // always: the main thread may be waiting for a worker that will now never come
}

process.on('exit', (code) => die(`it exited with code ${code}`));

const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
const exports = instance.exports as Record<string, unknown> & {
  table: WebAssembly.Table; mul_mat_chunks: MulMatChunks;
  run_chunks(job: number, args: number, n: number, next: number, chunk: number, part: number): void;
  set_rows4_kernel(dot: number, dot4: number): number; set_tile_kernel(dot: number, tile: number): number;
};
for (const [index, name, rows4Of, tileOf] of init.table) {
  while (exports.table.length <= index) exports.table.grow(1);
  exports.table.set(index, exports[name] as () => void);
  // instantiating this module wrote its static data afresh, the four-row and tile registrations included
  if (rows4Of !== undefined) exports.set_rows4_kernel(rows4Of, index);
  if (tileOf !== undefined) exports.set_tile_kernel(tileOf, index);
}

/** Chunks of rows of the posted mul_mat, until none is left; a trap is reported through FAILED (the worker lives on). */
function mulMat(): void {
  const a = ARGS;
  try {
    exports.mul_mat_chunks(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], c[a + 8], c[a + 9], c[a + 10],
      init.control + 4 * NEXT, c[a + 11]);
  } catch (e) {
    writeReason(init.reasons, part, describe(e));
    Atomics.store(c, FAILED, part);
  }
}

/** Chunks of the posted job's items, until none is left; a trap is reported as for mul_mat. */
function runJob(): void {
  const a = ARGS;
  try {
    exports.run_chunks(c[a], c[a + 1], c[a + 2], init.control + 4 * NEXT, c[a + 3], part);
  } catch (e) {
    writeReason(init.reasons, part, describe(e));
    Atomics.store(c, FAILED, part);
  }
}

/** OP_FAULT, for tests: die in the middle of an operation, the way a bug or process.exit() would. */
function fault(): void {
  if (c[ARGS + 1] === FAULT_EXIT) process.exit(c[ARGS + 2]);
  throw new Error(`kernel worker ${part} was told to fail (test fault)`);
}

/**
 * Serve operations until stopped. Waking up is decided by the value of GEN, never by having been
 * woken: Atomics.wait returns "ok" for a notify that was meant for a generation this worker has
 * already run. That happens when the main thread stores GEN = g and is descheduled before its
 * notify; meanwhile this worker sees g while spinning, runs it, counts out, and goes to sleep on
 * GEN = g; the late notify then wakes it with GEN still g. The old loop took any wake-up as a new
 * operation and ran g a second time, counting PENDING down twice. With the main thread already past
 * g and posting g + 1 (PENDING = 1 again), the extra count-down ends g + 1 early (the main thread
 * reads outputs this worker is still writing) and the worker's real count-down for g + 1 leaves
 * PENDING at −1, on which the main thread then waits for ever while this worker waits on GEN: the
 * deadlock that was seen. Here the worker sleeps again until GEN differs from the generation it ran.
 *
 * Taking generation g is a compare-exchange of this worker's claim from the last generation it took
 * to g. It fails only when the pool has revoked the claim (disposed, given up after a death, or the
 * control block reused by another pool): the worker then leaves without reading or writing the
 * control block, whatever it now holds.
 */
function serve(): void {
  let seen = Atomics.load(s, claimSlot(part));
  for (;;) {
    let g = Atomics.load(c, GEN);
    for (let i = 0; i < SPIN && g === seen; i++) g = Atomics.load(c, GEN);
    while (g === seen) {
      Atomics.wait(c, GEN, seen);
      g = Atomics.load(c, GEN);
    }
    if (Atomics.compareExchange(s, claimSlot(part), seen, g) !== seen) return;
    seen = g;
    const op = Atomics.load(c, OP);
    if (op === OP_STOP) return;
    inOp = true;
    if (op === OP_MUL_MAT) mulMat();
    else if (op === OP_RUN) runJob();
    else if (op === OP_FAULT && c[ARGS] === part) fault();
    inOp = false;
    if (Atomics.sub(c, PENDING, 1) === 1) Atomics.notify(c, PENDING);
  }
}

parentPort!.postMessage('ready');
try {
  serve();
  finished = true;
} catch (e) {
  die(describe(e));
  throw e;
}
