import type { Arena } from '../wasm/arena.js';
import { activationRowBytes } from '../quant/formats.js';
import { JobArgs } from './jobs.js';
import type { LlamaConfig } from './config.js';

/**
 * Scratch buffers for one batch of up to `batch` positions (llama2.c's RunState).
 * Every buffer is row-major [batch][width], f32 unless noted.
 */
export class RunState {
  readonly x: number;       // residual stream          [batch][nEmbd]
  readonly xb: number;      // normed input             [batch][nEmbd]
  readonly xb2: number;     // projection output        [batch][nEmbd]
  readonly q: number;       // queries                  [batch][nHead·headDim]
  readonly k: number;       // new keys (F16 cache: RoPE runs here before they are rounded into the cache)  [batch][nHeadKv·headDim]
  readonly v: number;       // new values               [batch][nHeadKv·headDim]
  readonly att: number;     // attention output         [batch][nHead·headDim]
  readonly hb: number;      // ffn gate / SwiGLU        [batch][nFf]
  readonly hb2: number;     // ffn up                   [batch][nFf]
  readonly act: number;     // an activation converted to a weight's format; f32 is the widest  [batch][max(nEmbd, nFf, qDim)]
  readonly jobs: JobArgs;   // the thread pool's job arguments, and attention's scratch per thread
  readonly rope: number;    // cos/sin table            [nRot]
  readonly logits: number;  // logits                   [batch][nVocab]
  private readonly ptrs: number[];

  /**
   * `parts`: the threads the engine runs jobs on (each gets scratch of its own). When an allocation
   * fails, the buffers allocated before it are released before the error is thrown.
   */
  constructor(private readonly arena: Arena, cfg: LlamaConfig, readonly batch: number, contextSize: number, parts = 1) {
    const held: number[] = [];
    const bytes = (n: number, what: string) => { const p = arena.alloc(n, what); held.push(p); return p; };
    const f = (n: number, what: string) => bytes(n * 4, what);
    const qDim = cfg.nHead * cfg.headDim;
    const widest = Math.max(cfg.nEmbd, cfg.nFf, qDim);
    try {
      this.x = f(batch * cfg.nEmbd, 'residual');
      this.xb = f(batch * cfg.nEmbd, 'norm buffer');
      this.xb2 = f(batch * cfg.nEmbd, 'projection buffer');
      this.q = f(batch * qDim, 'query buffer');
      this.k = f(batch * cfg.nHeadKv * cfg.headDim, 'key buffer');
      this.v = f(batch * cfg.nHeadKv * cfg.headDim, 'value buffer');
      this.att = f(batch * qDim, 'attention buffer');
      this.hb = f(batch * cfg.nFf, 'ffn gate buffer');
      this.hb2 = f(batch * cfg.nFf, 'ffn up buffer');
      this.act = bytes(batch * activationRowBytes('f32', widest), 'activation buffer');
      this.rope = f(cfg.nRot, 'rope table');
      this.logits = f(batch * cfg.nVocab, 'logits');
      this.jobs = new JobArgs(arena, cfg.headDim, contextSize, parts);
    } catch (e) {
      for (const p of held) arena.release(p);
      throw e;
    }
    this.ptrs = held;
  }

  dispose(): void {
    for (const p of this.ptrs) this.arena.release(p);
    this.jobs.dispose();
  }
}
