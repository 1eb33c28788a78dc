// The argument blocks of the thread pool's jobs (assembly/ops/parallel.ts) for one session: written
// in place before each run (no allocation per step), read by whichever thread runs an item. Slot
// numbers are the kernels' (ATT_* in assembly/ops/attention.ts, SILU_* in assembly/ops/elementwise.ts).
import type { Arena } from '../wasm/arena.js';
import type { Engine } from '../wasm/instance.js';
import type { QTensor } from './weights.js';
import { chunkItems, chunkRows } from '../wasm/thread-control.js';
import { MIN_PARALLEL_MACS, MIN_PARALLEL_WORK } from '../wasm/threads.js';

const ATT_SLOTS = 14;
const SILU_SLOTS = 4;
/** mul_mat_job: count, x, xRowBytes, nTok, then 8 per matrix (MM_MATS of them) */
const MM_MATS = 3;
const MM_SLOTS = 4 + 8 * MM_MATS;

/** one product of a mulMats call: the matrix, where its output rows go and their length in floats */
export type MatTarget = readonly [wt: QTensor, out: number, outRowFloats: number];

export interface AttentionCall {
  q: number; kc: number; vt: number; out: number;
  nHead: number; nHeadKv: number; headDim: number;
  /** positions token 0 attends over (token t: nKv0 + t) */
  nKv0: number;
  /** K cache row length in values */
  kvRow: number;
  vtStride: number;
  scale: number;
  nTok: number;
  f16: boolean;
}

export class JobArgs {
  /** scratch per thread: one query head rounded to f16 and the scores of the longest context */
  private readonly scratchBytes: number;
  private readonly scratch: number;
  private readonly att: number;
  private readonly silu: number;
  private readonly mm: number;
  /** views made once: the engine's memory is shared, and growing a shared memory detaches no view */
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;

  constructor(private readonly arena: Arena, headDim: number, contextSize: number, readonly parts: number) {
    this.scratchBytes = 4 * (headDim + Math.ceil(contextSize / 32) * 32);
    this.scratch = arena.alloc(parts * this.scratchBytes, 'attention scratch');
    try {
      this.att = arena.alloc(4 * (ATT_SLOTS + SILU_SLOTS + MM_SLOTS), 'job arguments');
    } catch (e) {
      arena.release(this.scratch);
      throw e;
    }
    this.silu = this.att + 4 * ATT_SLOTS;
    this.mm = this.silu + 4 * SILU_SLOTS;
    this.i32 = new Int32Array(arena.memory.buffer, this.att, ATT_SLOTS + SILU_SLOTS + MM_SLOTS);
    this.f32 = new Float32Array(arena.memory.buffer, this.att, ATT_SLOTS + SILU_SLOTS + MM_SLOTS);
  }

  /** softmax(q·Kᵀ·scale)·V for every (token, query head) of a batch, over the engine's threads */
  attention(engine: Engine, a: AttentionCall): void {
    const v = this.i32;
    v[0] = a.q; v[1] = a.kc; v[2] = a.vt; v[3] = a.out; v[4] = this.scratch; v[5] = this.scratchBytes;
    v[6] = a.nHead; v[7] = a.nHeadKv; v[8] = a.headDim; v[9] = a.nKv0; v[10] = a.kvRow; v[11] = a.vtStride;
    this.f32[12] = a.scale;
    v[13] = a.nTok >= 2 ? 1 : 0;
    const n = a.nTok * a.nHead;
    // per item: q·k and p·v over the positions it sees (the batch's middle token as the average)
    const work = n * 2 * (a.nKv0 + a.nTok / 2) * a.headDim;
    engine.runJob(a.f16 ? engine.jobs.attentionF16 : engine.jobs.attention, this.att, n, chunkItems(n, engine.threads, 1), work, this.parts);
  }

  /** out = silu(gate)·up over nRows rows of rowLen values, over the engine's threads */
  siluMul(engine: Engine, gate: number, up: number, out: number, rowLen: number, nRows: number): void {
    const v = this.i32;
    v[ATT_SLOTS] = gate; v[ATT_SLOTS + 1] = up; v[ATT_SLOTS + 2] = out; v[ATT_SLOTS + 3] = rowLen;
    const n = rowLen * nRows;
    // an exponential costs about as much as 16 multiply-adds of a mat-mul
    engine.runJob(engine.jobs.siluMul, this.silu, n, chunkItems(n, engine.threads, 16), 16 * n, this.parts);
  }

  /**
   * out_i = W_i·x for up to three matrices with the same activation rows x (nTok rows of xRowBytes),
   * as one job over the engine's threads: one synchronisation for all of them
   */
  mulMats(engine: Engine, x: number, xRowBytes: number, nTok: number, mats: readonly MatTarget[]): void {
    if (mats.length > MM_MATS) throw new RangeError(`mulMats takes at most ${MM_MATS} matrices`);
    const v = this.i32, o = ATT_SLOTS + SILU_SLOTS;
    v[o] = mats.length; v[o + 1] = x; v[o + 2] = xRowBytes; v[o + 3] = nTok;
    let items = 0, work = 0;
    for (let i = 0; i < mats.length; i++) {
      const [wt, out, outRowFloats] = mats[i], a = o + 4 + 8 * i;
      v[a] = wt.format.vecDot; v[a + 1] = wt.format.vecDotBatch; v[a + 2] = wt.ptr; v[a + 3] = wt.rowBytes;
      v[a + 4] = out; v[a + 5] = outRowFloats; v[a + 6] = wt.rows; v[a + 7] = wt.cols;
      items += Math.ceil(wt.rows / 4) * 4;
      work += wt.rows * wt.cols * nTok;
    }
    // work in the jobs' unit: threads where mulMat would take them for one matrix of that size
    engine.runJob(engine.jobs.mulMats, this.mm, items, chunkRows(items, nTok, engine.threads), work * MIN_PARALLEL_WORK / MIN_PARALLEL_MACS, Infinity);
  }

  dispose(): void {
    this.arena.release(this.scratch);
    this.arena.release(this.att);
  }
}
