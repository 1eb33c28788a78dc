// The control block the main thread and the kernel workers share: a few int32 slots in the engine's
// shared linear memory. The main thread writes an operation's arguments, bumps the generation and
// wakes the workers; each worker runs its share and counts itself out. No message crosses per
// operation, and nothing is allocated per operation.

/** int32 slot indices */
export const GEN = 0;      // bumped for every operation; workers wait on it
export const PENDING = 1;  // workers still running the current operation
export const OP = 2;       // what to run (OP_*)
export const FAILED = 3;   // set by a worker whose kernel trapped
export const ARGS = 8;     // the operation's arguments, from here on

export const OP_MUL_MAT = 1;
export const OP_STOP = 2;

/** mul_mat's arguments in ARGS order: the function-table indices, pointers and sizes, then the row count */
export const MUL_MAT_ARGS = ['vecDot', 'vecDotBatch', 'w', 'wRowBytes', 'x', 'xRowBytes', 'out', 'outRowFloats', 'rows', 'cols', 'nTok', 'parts'] as const;

export const CONTROL_BYTES = 128;

/** Rows [r0, r1) of part `p` of `parts`: contiguous, sizes differing by at most one row. */
export function partRows(rows: number, p: number, parts: number): [number, number] {
  return [Math.floor((rows * p) / parts), Math.floor((rows * (p + 1)) / parts)];
}

/** How long an idle thread checks for new work before it sleeps on the futex (iterations of a load). */
export const SPIN = 20_000;
