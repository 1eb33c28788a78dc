// A parallel for-loop of the thread pool (src/wasm/threads.ts): every thread calls run_chunks with
// the same job and takes `chunk` items at a time from the shared counter at `next` until all n are
// taken. A job is a function-table entry `(args, i0, i1, part)`: items i0 … i1 − 1, its arguments
// as a block of i32 slots at `args`, and the part (0 … threads − 1) of the calling thread, to pick a
// scratch area of its own. Items must be independent of each other; then who runs which does not
// change the results.
export function run_chunks(job: u32, args: usize, n: i32, next: usize, chunk: i32, part: i32): void {
  for (;;) {
    const i0 = atomic.add<i32>(next, chunk);
    if (i0 >= n) return;
    call_indirect<void>(job, args, i0, min(i0 + chunk, n), part);
  }
}
