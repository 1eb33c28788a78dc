// The control block the main thread and the kernel workers share: a few int32 slots in the engine's
// shared linear memory. The main thread writes an operation's arguments, bumps the generation and
// wakes the workers; each worker runs its share and counts itself out. No message crosses per
// operation, and nothing is allocated per operation.
//
// Beside it each pool has its own small state (a SharedArrayBuffer, not the engine's memory, so it
// belongs to that pool alone): per worker the generation it last took (its claim, which the pool
// can revoke) and whether it died, and per worker a short text saying why it failed.

/** int32 slot indices */
export const GEN = 0;      // the generation: a new value for every operation; workers wait on it
export const PENDING = 1;  // workers still running the current operation; the main thread waits on it
export const OP = 2;       // what to run (OP_*)
export const FAILED = 3;   // 0, or the part of a worker whose kernel trapped in the current operation
export const NEXT = 4;     // mul_mat: the first row no thread has taken yet (threads take chunks by an atomic add)
export const ARGS = 8;     // the operation's arguments, from here on

export const OP_MUL_MAT = 1;
export const OP_STOP = 2;
/** a job's items (assembly/ops/parallel.ts): ARGS = job, its argument block, item count, chunk */
export const OP_RUN = 4;
/**
 * Tests only (ThreadPool.testFault): worker ARGS[0] dies in the middle of the operation — throws an
 * uncaught error (ARGS[1] = FAULT_THROW) or calls process.exit(ARGS[2]) (FAULT_EXIT); the others
 * count out as usual. It costs the worker one comparison per operation, and only on this op code.
 */
export const OP_FAULT = 3;
export const FAULT_THROW = 1;
export const FAULT_EXIT = 2;

/** mul_mat's arguments in ARGS order: the function-table indices, pointers and sizes, the row count, rows per chunk */
export const MUL_MAT_ARGS = ['vecDot', 'vecDotBatch', 'w', 'wRowBytes', 'x', 'xRowBytes', 'out', 'outRowFloats', 'rows', 'cols', 'nTok', 'chunk'] as const;

export const CONTROL_BYTES = 128;

/**
 * Generations stay in [0, GEN_MASK]: the main thread alone advances GEN (a store of (g + 1) & GEN_MASK),
 * so a generation can never equal REVOKED.
 */
export const GEN_MASK = 0x3fffffff;

/** The pool's own state: int32 slots of an Int32Array over a SharedArrayBuffer of poolStateSlots(threads) slots. */
export const S_DEAD = 0; // 0, or the part of the first worker that died
/** The last generation worker `part` took; REVOKED once the pool has given the worker up. */
export const claimSlot = (part: number): number => 2 * part;
/** 1 once worker `part` has died (set by the worker itself, on its way out). */
export const diedSlot = (part: number): number => 2 * part + 1;
export const poolStateSlots = (threads: number): number => 2 * threads;
/** A claim value no generation takes (generations are ≥ 0). */
export const REVOKED = -1;

/** Rows per chunk of a product with one activation row (ggml takes 64 for a matrix × vector). */
export const CHUNK_ROWS_VEC = 64;
/** Rows per chunk of a batch: each row serves every token of it, so a chunk is nTok times the work. */
export const CHUNK_ROWS_BATCH = 16;

/** Items per chunk of a job of n items: about four chunks per thread, a multiple of `multiple`. */
export function chunkItems(n: number, threads: number, multiple: number): number {
  return Math.max(multiple, Math.ceil(n / (4 * threads * multiple)) * multiple);
}

/**
 * How many rows each thread takes at a time from a product's `rows` (ggml_compute_forward_mul_mat's
 * choice): 64 for one token, 16 for a batch, but small enough to give every thread four chunks on
 * average, so that the last chunk to finish holds no one up for long; a multiple of four (the
 * four-row kernels) and at least four.
 */
export function chunkRows(rows: number, nTok: number, threads: number): number {
  return Math.min(nTok === 1 ? CHUNK_ROWS_VEC : CHUNK_ROWS_BATCH, chunkItems(rows, threads, 4));
}

/** How long an idle thread checks for new work before it sleeps on the futex (iterations of a load). */
export const SPIN = 20_000;

/**
 * The main thread waits for the workers in slices of this many milliseconds, checking between
 * slices whether a worker has died (a dying worker also wakes it at once; the slices are the backstop).
 */
export const WAIT_SLICE_MS = 100;

/** Why a worker failed: per part, an int32 length and up to REASON_CHARS UTF-16 code units. */
export const REASON_CHARS = 500;
const REASON_BYTES = 4 + 2 * REASON_CHARS;

export function reasonBytes(threads: number): number {
  return threads * REASON_BYTES;
}

/** Record why worker `part` failed (the failure path only: it may allocate). */
export function writeReason(reasons: SharedArrayBuffer, part: number, text: string): void {
  const n = Math.min(text.length, REASON_CHARS);
  const chars = new Uint16Array(reasons, part * REASON_BYTES + 4, REASON_CHARS);
  for (let i = 0; i < n; i++) chars[i] = text.charCodeAt(i);
  Atomics.store(new Int32Array(reasons, part * REASON_BYTES, 1), 0, n);
}

/** What worker `part` recorded about its failure, or undefined when it recorded nothing. */
export function readReason(reasons: SharedArrayBuffer, part: number): string | undefined {
  const n = Atomics.load(new Int32Array(reasons, part * REASON_BYTES, 1), 0);
  if (n === 0) return undefined;
  return String.fromCharCode(...new Uint16Array(reasons, part * REASON_BYTES + 4, n));
}
