// The kernel thread pool (src/wasm/threads.ts) under stress and under failure: thousands of small
// parallel products in a row give exactly the single-thread numbers and never hang; a late
// (stale) futex notify does not make a worker run an operation twice; a worker that dies in the
// middle of an operation — an uncaught error, process.exit(), or a hard kill between operations —
// gives a typed error naming it, never a hang, and the pool then runs on the main thread alone,
// still with the same numbers.
//
// The pools here are built directly over a fresh engine's memory, so the tests can reach the pool's
// test hooks (testFault, testTerminate, stallLimitMs). stallLimitMs turns a wait that makes no
// progress into an error: a protocol bug that would hang the synchronous wait (where vitest's own
// timeout cannot fire) fails the test instead.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEngine, type Engine } from '../src/wasm/instance.js';
import { KERNELS_WASM_BASE64 } from '../src/wasm/kernels.gen.js';
import { MIN_PARALLEL_MACS, ThreadPool } from '../src/wasm/threads.js';
import { CONTROL_BYTES, FAULT_EXIT, FAULT_THROW, GEN, PENDING } from '../src/wasm/thread-control.js';
import { activationRowBytes } from '../src/quant/formats.js';
import { QuantscopeError } from '../src/errors.js';

const F32 = 0;
const Q8_0 = 8;
const STALL_MS = 20_000;

const module = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));

/** A deterministic pseudo-random stream in [-1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

interface Product {
  name: string;
  vecDot: number;
  vecDotBatch: number;
  w: number;
  wRowBytes: number;
  x: number;
  xRowBytes: number;
  out: number;
  rows: number;
  cols: number;
  nTok: number;
  /** the single-thread result, computed by the kernel over all rows on the main thread */
  expected: Uint8Array;
}

const open: Array<{ pool: ThreadPool; engine: Engine }> = [];
afterEach(() => {
  for (const { pool, engine } of open.splice(0)) {
    pool.dispose();
    engine.dispose();
  }
  vi.restoreAllMocks();
});

/**
 * A fresh engine on the SIMD128 kernel module — the module compiled above, which the workers here
 * instantiate (the pool must run the engine's own module; Engine does not expose which one it
 * compiled, so the test pins it and checks the export lists agree).
 */
function simd128Engine(): Engine {
  const saved = process.env.QUANTSCOPE_KERNELS;
  process.env.QUANTSCOPE_KERNELS = 'simd128';
  try {
    const engine = createEngine();
    expect(Object.keys(engine.exports).sort()).toEqual(WebAssembly.Module.exports(module).map((e) => e.name).sort());
    return engine;
  } finally {
    if (saved === undefined) delete process.env.QUANTSCOPE_KERNELS;
    else process.env.QUANTSCOPE_KERNELS = saved;
  }
}

async function setup(threads: number): Promise<{ engine: Engine; pool: ThreadPool; control: number }> {
  const engine = simd128Engine();
  const control = engine.arena.alloc(CONTROL_BYTES, 'control');
  engine.arena.bytes(control, CONTROL_BYTES).fill(0);
  const pool = await ThreadPool.start(threads, module, engine.memory, control, engine.tableBindings, engine.exports.mul_mat, engine.exports.mul_mat_chunks, engine.exports.run_chunks);
  pool.stallLimitMs = STALL_MS;
  open.push({ pool, engine });
  return { engine, pool, control };
}

/** A product of `type` (F32 or Q8_0) with random weights and activations, and its single-thread result. */
function product(engine: Engine, type: number, rows: number, cols: number, nTok: number, seed: number): Product {
  const f = engine.formats.get(type)!;
  const rnd = lcg(seed);
  const a = engine.arena;
  const scratch = a.alloc(4 * cols);
  const rowBytes = activationRowBytes(f.spec.activation, cols);
  // Q8_0 weight rows are Q8_0 blocks, the same layout the activation quantizer writes
  const quantize = (dst: number, n: number) => {
    for (let r = 0; r < n; r++) {
      const v = a.f32(scratch, cols);
      for (let i = 0; i < cols; i++) v[i] = rnd();
      if (f.quantize) f.quantize(scratch, dst + r * rowBytes, cols);
      else a.bytes(dst + r * rowBytes, rowBytes).set(a.bytes(scratch, rowBytes));
    }
  };
  const w = a.alloc(rows * rowBytes);
  const x = a.alloc(nTok * rowBytes);
  const out = a.alloc(4 * rows * nTok);
  quantize(w, rows);
  quantize(x, nTok);
  a.release(scratch);
  engine.exports.mul_mat(f.vecDot, f.vecDotBatch, w, rowBytes, x, rowBytes, out, rows, 0, rows, cols, nTok);
  const expected = a.bytes(out, 4 * rows * nTok).slice();
  return {
    name: `${type === F32 ? 'F32' : 'Q8_0'} ${rows}×${cols}, ${nTok} token(s)`,
    vecDot: f.vecDot, vecDotBatch: f.vecDotBatch, w, wRowBytes: rowBytes, x, xRowBytes: rowBytes, out, rows, cols, nTok, expected,
  };
}

/** Clear the output (so a product that returned early shows), run it on the pool, compare bit for bit. */
function runAndCheck(engine: Engine, pool: ThreadPool, p: Product): boolean {
  const out = engine.arena.bytes(p.out, p.expected.length);
  out.fill(0xff);
  pool.mulMat(p.vecDot, p.vecDotBatch, p.w, p.wRowBytes, p.x, p.xRowBytes, p.out, p.rows, p.rows, p.cols, p.nTok);
  return Buffer.from(out.buffer, out.byteOffset, out.length).equals(p.expected);
}

/**
 * Small products just above the parallel threshold, in shapes that split unevenly — including
 * fewer rows than threads, one chunk, where a thread that comes late finds no chunk left and counts
 * out at once (the fastest way round the protocol) — for F32 (batched: the tinyBLAS-order kernel)
 * and Q8_0.
 */
function products(engine: Engine): Product[] {
  const shapes: Array<[number, number, number, number]> = [
    [Q8_0, 1, MIN_PARALLEL_MACS, 1],
    [Q8_0, 2, MIN_PARALLEL_MACS / 2, 1],
    [Q8_0, 3, 2 ** 17, 1],
    [Q8_0, 7, 2 ** 16, 1],
    [Q8_0, 64, 4096, 1],
    [Q8_0, 97, 2048, 2],
    [F32, 5, 2 ** 16, 1],
    [F32, 33, 4096, 2],
    [F32, 256, 256, 4],
  ];
  return shapes.map(([type, rows, cols, nTok], i) => {
    expect(rows * cols * nTok).toBeGreaterThanOrEqual(MIN_PARALLEL_MACS);
    return product(engine, type, rows, cols, nTok, 1000 + i);
  });
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('thread pool: stress', () => {
  it.each([2, 3])('%i threads: 6000 small products in a row, every one bit-identical to one thread, no hang', async (threads) => {
    const { engine, pool } = await setup(threads);
    const ps = products(engine);
    const wrong = new Map<string, number>();
    const N = 6000;
    for (let i = 0; i < N; i++) {
      const p = ps[i % ps.length];
      if (!runAndCheck(engine, pool, p)) wrong.set(p.name, (wrong.get(p.name) ?? 0) + 1);
      if (i % 500 === 499) await new Promise((r) => setImmediate(r)); // let the event loop run: the listeners must stay quiet
    }
    expect(Object.fromEntries(wrong)).toEqual({});
    expect(pool.threads).toBe(threads);
    expect(pool.failure).toBeUndefined();
  }, 120_000);

  it('a late notify on GEN (main thread descheduled before notifying) does not make a worker run an operation twice', async () => {
    const { engine, pool, control } = await setup(2);
    const c = new Int32Array(engine.memory.buffer, control, CONTROL_BYTES / 4);
    const [p, q] = products(engine).slice(0, 2);
    for (let i = 0; i < 20; i++) {
      expect(runAndCheck(engine, pool, p)).toBe(true);
      sleep(5); // the worker has stopped spinning and sleeps on GEN = the generation it just ran
      const gen = Atomics.load(c, GEN);
      Atomics.notify(c, GEN); // the notify for that generation, arriving late
      sleep(5);
      // the old worker loop took the wake-up for a new operation: it ran this one again and
      // counted PENDING down to −1, on which the next wait would have slept for ever
      expect(Atomics.load(c, PENDING)).toBe(0);
      expect(Atomics.load(c, GEN)).toBe(gen);
      expect(runAndCheck(engine, pool, q)).toBe(true);
    }
  }, 60_000);

  it('a late notify racing the next operation: no early return, no wait on PENDING = −1 (the deadlock seen in the bench)', async () => {
    const { engine, pool, control } = await setup(2);
    pool.stallLimitMs = 5_000;
    const c = new Int32Array(engine.memory.buffer, control, CONTROL_BYTES / 4);
    // 1 row: the worker has all of `p` and the main thread none, so the worker's extra run of `p`
    // (with the old loop) overlaps the main thread posting `q`
    const [p, , , q] = products(engine);
    for (let i = 0; i < 200; i++) {
      expect(runAndCheck(engine, pool, p)).toBe(true);
      sleep(1);
      Atomics.notify(c, GEN);
      expect(runAndCheck(engine, pool, q)).toBe(true);
    }
    expect(pool.failure).toBeUndefined();
  }, 60_000);

  it('a pool started on a control block another pool used (dispose, clear, start) is not disturbed by the old workers', async () => {
    const { engine, pool, control } = await setup(3);
    const ps = products(engine);
    for (let i = 0; i < 50; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    pool.dispose();
    engine.arena.bytes(control, CONTROL_BYTES).fill(0); // as Engine.startThreads does
    const again = await ThreadPool.start(2, module, engine.memory, control, engine.tableBindings, engine.exports.mul_mat, engine.exports.mul_mat_chunks, engine.exports.run_chunks);
    again.stallLimitMs = STALL_MS;
    open.push({ pool: again, engine });
    for (let i = 0; i < 2000; i++) expect(runAndCheck(engine, again, ps[i % ps.length])).toBe(true);
    expect(again.threads).toBe(2);
  }, 60_000);
});

describe('thread pool: a worker that dies gives a typed error, never a hang', () => {
  function expectDeath(fn: () => void, pattern: RegExp): QuantscopeError {
    let thrown: unknown;
    try {
      fn();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(QuantscopeError);
    const e = thrown as QuantscopeError;
    expect(e.kind).toBe('wasm');
    expect(e.message).toMatch(pattern);
    return e;
  }

  it('an uncaught error in the middle of an operation: QuantscopeError naming the worker and the error; then one thread, same numbers', async () => {
    const { engine, pool } = await setup(2);
    const ps = products(engine);
    expect(runAndCheck(engine, pool, ps[0])).toBe(true);
    const e = expectDeath(() => pool.testFault(1, FAULT_THROW),
      /kernel worker thread 1 of 1 died while a matrix product was running.*: Error: kernel worker 1 was told to fail \(test fault\)\. .*main thread alone/);
    expect(pool.failure).toBe(e);
    expect(pool.threads).toBe(1);
    for (let i = 0; i < 100; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    expect(pool.threads).toBe(1);
  }, 30_000);

  it('process.exit() in a worker in the middle of an operation (3 threads): the error says so; the survivor is waited for and stopped', async () => {
    const { engine, pool } = await setup(3);
    const ps = products(engine);
    for (let i = 0; i < 20; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    expectDeath(() => pool.testFault(2, FAULT_EXIT, 7), /kernel worker thread 2 of 2 died while a matrix product was running.*: it exited with code 7\./);
    expect(pool.threads).toBe(1);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    for (let i = 0; i < 100; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    await new Promise((r) => setTimeout(r, 50)); // the 'exit' events arrive: a failed pool ignores them
    for (let i = 0; i < 10; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  }, 30_000);

  it('a worker killed hard between operations (terminate: no code runs in it): the next product runs on the main thread, with a warning', async () => {
    const { engine, pool } = await setup(3);
    const ps = products(engine);
    for (let i = 0; i < 20; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    await pool.testTerminate(1);
    await new Promise((r) => setImmediate(r));
    expect(runAndCheck(engine, pool, ps[0])).toBe(true); // the product is complete: nothing is thrown
    expect(warn).toHaveBeenCalledTimes(1);
    const w = warn.mock.calls[0][0] as unknown as QuantscopeError;
    expect(w).toBeInstanceOf(QuantscopeError);
    expect(w.message).toMatch(/kernel worker thread 1 of 2 died: it exited with code 1 without saying why/);
    expect(pool.failure).toBe(w);
    expect(pool.threads).toBe(1);
    for (let i = 0; i < 100; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
  }, 30_000);

  it('a disposed pool runs on the main thread; its workers\' exits raise nothing', async () => {
    const { engine, pool } = await setup(2);
    const ps = products(engine);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    pool.dispose();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 20; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    expect(warn).not.toHaveBeenCalled();
    expect(pool.failure).toBeUndefined();
  }, 30_000);
});

describe('thread pool: kernel traps', () => {
  it('a trap in a worker\'s rows only: WebAssembly.RuntimeError naming it; the pool stays whole', async () => {
    const { engine, pool } = await setup(2);
    const ps = products(engine);
    const f = engine.formats.get(F32)!;
    const rows = 4, cols = 2 ** 16;
    const rowBytes = 4 * cols;
    const out = engine.arena.alloc(4 * rows);
    // rows 0–1 end exactly at the end of memory, rows 2–3 lie beyond it; the main thread takes no
    // chunk, so the worker runs them all
    const w = engine.memory.buffer.byteLength - 2 * rowBytes;
    pool.mainTakesChunks = false;
    const x = ps[6].x; // an F32 activation row of 2^16 values
    expect(ps[6].cols).toBe(cols);
    expect(() => pool.mulMat(f.vecDot, f.vecDotBatch, w, rowBytes, x, rowBytes, out, rows, rows, cols, 1))
      .toThrow(/kernel worker 1 trapped in mul_mat: RuntimeError: memory access out of bounds/);
    expect(pool.threads).toBe(2);
    pool.mainTakesChunks = true;
    for (let i = 0; i < 50; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
  }, 30_000);

  it('a trap on both threads throws the main thread\'s, and the worker\'s failure flag does not leak into the next call', async () => {
    const { engine, pool } = await setup(2);
    const ps = products(engine);
    const f = engine.formats.get(F32)!;
    const rows = 4, cols = 2 ** 16;
    const out = engine.arena.alloc(4 * rows);
    const w = engine.memory.buffer.byteLength + 64; // every row out of bounds
    expect(() => pool.mulMat(f.vecDot, f.vecDotBatch, w, 4 * cols, ps[6].x, 4 * cols, out, rows, rows, cols, 1))
      .toThrow(WebAssembly.RuntimeError);
    for (let i = 0; i < 50; i++) expect(runAndCheck(engine, pool, ps[i % ps.length])).toBe(true);
    expect(pool.threads).toBe(2);
  }, 30_000);
});
