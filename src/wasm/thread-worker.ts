// A kernel worker: the same kernel module instantiated over the engine's shared memory, with the
// same function table, running its rows of each matrix product the main thread posts through the
// control block (thread-control.ts). It writes only its own output rows, so results are the same
// whatever the thread count.
import { parentPort, workerData } from 'node:worker_threads';
import { ARGS, FAILED, GEN, OP, OP_MUL_MAT, OP_STOP, PENDING, SPIN, partRows } from './thread-control.js';

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  /** this worker's part: 1 … parts − 1 (the main thread runs part 0) */
  part: number;
  /** [function-table index, export name] for every dot product the main instance bound */
  table: Array<[number, string]>;
}

type MulMat = (vecDot: number, vecDotBatch: number, w: number, wRowBytes: number, x: number, xRowBytes: number,
  out: number, outRowFloats: number, r0: number, r1: number, cols: number, nTok: number) => void;

const init = workerData as WorkerInit;
const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
const exports = instance.exports as Record<string, unknown> & { table: WebAssembly.Table; mul_mat: MulMat };
for (const [index, name] of init.table) {
  while (exports.table.length <= index) exports.table.grow(1);
  exports.table.set(index, exports[name] as () => void);
}
const c = new Int32Array(init.memory.buffer, init.control, 32);
// read the generation before saying ready: an operation posted right after would otherwise be missed
let seen = Atomics.load(c, GEN);
parentPort!.postMessage('ready');
for (;;) {
  for (let i = 0; i < SPIN && Atomics.load(c, GEN) === seen; i++);
  Atomics.wait(c, GEN, seen);
  seen = Atomics.load(c, GEN);
  const op = Atomics.load(c, OP);
  if (op === OP_STOP) break;
  try {
    if (op === OP_MUL_MAT) {
      const a = ARGS;
      const [r0, r1] = partRows(c[a + 8], init.part, c[a + 11]);
      if (r1 > r0) exports.mul_mat(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], r0, r1, c[a + 9], c[a + 10]);
    }
  } catch {
    Atomics.store(c, FAILED, 1);
  }
  if (Atomics.sub(c, PENDING, 1) === 1) Atomics.notify(c, PENDING);
}
