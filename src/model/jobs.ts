// The argument blocks of the thread pool's jobs (assembly/ops/parallel.ts) for one session: written
// in place before each run (no allocation per step), read by whichever thread runs an item. Slot
// numbers are the kernels' (ATT_* in assembly/ops/attention.ts, SILU_* in assembly/ops/elementwise.ts).
import type { Arena } from '../wasm/arena.js';
import type { Engine } from '../wasm/instance.js';
import { chunkItems } from '../wasm/thread-control.js';

const ATT_SLOTS = 14;
const SILU_SLOTS = 4;

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
  /** views made once: the engine's memory is shared, and growing a shared memory detaches no view */
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;

  constructor(private readonly arena: Arena, headDim: number, contextSize: number, readonly parts: number) {
    this.scratchBytes = 4 * (headDim + Math.ceil(contextSize / 32) * 32);
    this.scratch = arena.alloc(parts * this.scratchBytes, 'attention scratch');
    this.att = arena.alloc(4 * (ATT_SLOTS + SILU_SLOTS), 'job arguments');
    this.silu = this.att + 4 * ATT_SLOTS;
    this.i32 = new Int32Array(arena.memory.buffer, this.att, ATT_SLOTS + SILU_SLOTS);
    this.f32 = new Float32Array(arena.memory.buffer, this.att, ATT_SLOTS + SILU_SLOTS);
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

  dispose(): void {
    this.arena.release(this.scratch);
    this.arena.release(this.att);
  }
}
