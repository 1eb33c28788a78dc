import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels.gen.js';
import { Arena } from './arena.js';
import { ACTIVATIONS, FORMATS, type RunnableFormat } from '../quant/formats.js';
import { QuantscopeError } from '../errors.js';
import { ThreadPool } from './threads.js';
import { CONTROL_BYTES } from './thread-control.js';

type Ptr = number;
/** `(x, y, n)`: a row of n values from x to y, converted */
export type RowFn = (x: Ptr, y: Ptr, n: number) => void;
/** `(n, w, x) => Σ`: one weight row with one activation row */
export type VecDotFn = (n: number, w: Ptr, x: Ptr) => number;

/**
 * One function-table slot an instance bound: [index, export name], and for a four-row or tile
 * kernel the index of the dot product it is the four-row (tile) form of (set_rows4_kernel,
 * set_tile_kernel). Kernel workers repeat every binding in their own instance — including those
 * registrations: the module's tables of them live in its static data, which every instantiation
 * over the shared memory writes afresh (zeroed), so a worker starting up wipes the registrations
 * until it makes them again.
 */
export type TableBinding = [index: number, exportName: string, rows4Of?: number, tileOf?: number];

/** The kernel module's shared exports (assembly/index.ts). Pointers are byte offsets into `memory`. */
export interface KernelExports {
  readonly table: WebAssembly.Table;
  heap_base(): Ptr;
  fp16_to_fp32(h: number): number;
  fp32_to_fp16(f: number): number;
  ggml_expf(x: number): number;
  mul_mat(vecDot: number, vecDotBatch: number, w: Ptr, wRowBytes: number, x: Ptr, xRowBytes: number, out: Ptr, outRowFloats: number,
    r0: number, r1: number, cols: number, nTok: number): void;
  /** mul_mat over rows 0 … rows − 1, `chunk` rows at a time taken from the atomic counter at `next` (threads.ts) */
  mul_mat_chunks(vecDot: number, vecDotBatch: number, w: Ptr, wRowBytes: number, x: Ptr, xRowBytes: number, out: Ptr, outRowFloats: number,
    rows: number, cols: number, nTok: number, next: Ptr, chunk: number): void;
  rms_norm(x: Ptr, w: Ptr, out: Ptr, n: number, eps: number): void;
  rms_norm_generic(x: Ptr, w: Ptr, out: Ptr, n: number, eps: number): void;
  rope_cache(cache: Ptr, pos: number, nDims: number, freqBase: number, freqScale: number): void;
  rope_norm(x: Ptr, nHeads: number, headDim: number, nDims: number, cache: Ptr): void;
  rope_norm_generic(x: Ptr, nHeads: number, headDim: number, nDims: number, cache: Ptr): void;
  attention(q: Ptr, kc: Ptr, vt: Ptr, out: Ptr, scores: Ptr, nHead: number, nHeadKv: number, headDim: number,
    nKv: number, kvRowFloats: number, vtStride: number, scale: number, batched: boolean): void;
  attention_generic(q: Ptr, kc: Ptr, vt: Ptr, out: Ptr, scores: Ptr, nHead: number, nHeadKv: number, headDim: number,
    nKv: number, kvRowFloats: number, vtStride: number, scale: number, batched: boolean): void;
  store_transposed(src: Ptr, nRows: number, nCols: number, dst: Ptr, dstStride: number, pos0: number): void;
  /** attention over an F16 KV cache (kc, vt hold f16 bits; qh16: scratch of headDim f32) */
  attention_f16(q: Ptr, kc: Ptr, vt: Ptr, out: Ptr, scores: Ptr, qh16: Ptr, nHead: number, nHeadKv: number, headDim: number,
    nKv: number, kvRowValues: number, vtStride: number, scale: number, batched: boolean): void;
  attention_f16_generic(q: Ptr, kc: Ptr, vt: Ptr, out: Ptr, scores: Ptr, qh16: Ptr, nHead: number, nHeadKv: number, headDim: number,
    nKv: number, kvRowValues: number, vtStride: number, scale: number, batched: boolean): void;
  store_rows_f16(src: Ptr, n: number, dst: Ptr): void;
  store_transposed_f16(src: Ptr, nRows: number, nCols: number, dst: Ptr, dstStride: number, pos0: number): void;
  add(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  add_generic(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  silu_mul(gate: Ptr, up: Ptr, out: Ptr, rowLen: number, nRows: number): void;
  set_rows4_kernel(dot: number, dot4: number): boolean;
  rows4_kernel_of(dot: number): number;
  set_tile_kernel(dot: number, tile: number): boolean;
  tile_kernel_of(dot: number): number;
  /** the whole groups of four rows at w into the four-row layout, in place (assembly/ops/rows4.ts);
   *  scratch: 4·rowBytes bytes */
  interleave_rows4(w: Ptr, rows: number, rowBytes: number, blockBytes: number, scratch: Ptr): void;
  /** a job's items, `chunk` at a time from the counter at `next` (assembly/ops/parallel.ts) */
  run_chunks(job: number, args: Ptr, n: number, next: Ptr, chunk: number, part: number): void;
  /** every per-format kernel, by its export name (see src/quant/formats.ts) */
  readonly [kernel: string]: unknown;
}

/** Jobs of the thread pool, by what they compute: function-table indices (assembly/ops/parallel.ts). */
export interface Jobs {
  /** a batch's attention over an F32 cache, items (token, head) (assembly/ops/attention.ts) */
  readonly attention: number;
  /** the same over an F16 cache */
  readonly attentionF16: number;
  /** silu(gate)·up, items values (assembly/ops/elementwise.ts) */
  readonly siluMul: number;
  /** the products of several matrices with one activation, items their rows (assembly/ops/matmul.ts;
   *  the matrices' dot products say SIMD or generic) */
  readonly mulMats: number;
  /** the bandwidth probe's streaming read, items blocks of a buffer (assembly/ops/bandwidth.ts) */
  readonly streamSum: number;
}

/** A runnable format bound to this engine's kernels (SIMD or generic, as the engine was created). */
export interface BoundFormat {
  readonly spec: RunnableFormat;
  /** function-table indices of the dot products for one token and for a batch, for mul_mat */
  readonly vecDot: number;
  readonly vecDotBatch: number;
  readonly vecDotFn: VecDotFn;
  readonly vecDotBatchFn: VecDotFn;
  /** f32 activation row → this format's activation format; undefined when the activation stays f32 */
  readonly quantize?: RowFn;
  readonly dequantize: RowFn;
  /** mul_mat takes the rows four at a time through a four-row kernel, so a weight matrix of this
   *  format is kept in the four-row layout (assembly/ops/rows4.ts, src/model/weights.ts) */
  readonly rows4: boolean;
}

/** The kernels the forward pass calls directly (attention and SwiGLU go through `jobs`); SIMD or their scalar `_generic` twins. */
export type KernelSet = Pick<KernelExports,
  'mul_mat' | 'rms_norm' | 'rope_cache' | 'rope_norm' | 'add' | 'store_transposed' | 'store_rows_f16' | 'store_transposed_f16'>;

export interface Engine {
  readonly exports: KernelExports;
  readonly kernels: KernelSet;
  /** ggml type id → that format's kernels */
  readonly formats: ReadonlyMap<number, BoundFormat>;
  readonly arena: Arena;
  readonly memory: WebAssembly.Memory;
  readonly generic: boolean;
  /** the kernels this engine runs (see KernelKind) */
  readonly kind: KernelKind;
  /** [function-table index, export name] of every dot product bound so far (kernel workers repeat them) */
  readonly tableBindings: TableBinding[];
  /** threads running matrix products (1: the main thread only) */
  readonly threads: number;
  /** mul_mat over rows 0 … rows − 1, split across the engine's threads */
  mulMat(vecDot: number, vecDotBatch: number, w: Ptr, wRowBytes: number, x: Ptr, xRowBytes: number,
    out: Ptr, outRowFloats: number, rows: number, cols: number, nTok: number): void;
  /** function-table indices of the jobs runJob takes (the engine's kind: SIMD or generic) */
  readonly jobs: Jobs;
  /**
   * Items 0 … n − 1 of a job (assembly/ops/parallel.ts) spread over the engine's threads, `chunk` at
   * a time; `args` the job's argument block. On the main thread alone when `work` (multiply-adds,
   * roughly) is small, or when the pool has more threads than the job has scratch for (`maxParts`).
   */
  runJob(job: number, args: Ptr, n: number, chunk: number, work: number, maxParts: number): void;
  /** Run matrix products on `threads` threads from now on (SIMD kernels only; the generic ones stay on one). */
  startThreads(threads: number): Promise<void>;
  /** Stop the worker threads, if any. */
  dispose(): void;
}

/**
 * Which kernels run the hot loops:
 * - `relaxed`: the relaxed-SIMD module (i8 dot products, fused f32x4.relaxed_madd), where the runtime
 *   has relaxed SIMD (Node ≥ 22; Node 20 with --experimental-wasm-relaxed-simd) and its relaxed_madd
 *   is fused — then its results are the SIMD128 module's, bit for bit;
 * - `simd128`: the SIMD128 module (fused multiply-adds emulated exactly in f64);
 * - `generic`: the scalar `_generic` twins (in the SIMD128 module).
 */
export type KernelKind = 'relaxed' | 'simd128' | 'generic';

const compiled: Partial<Record<'simd128' | 'relaxed', WebAssembly.Module>> = {};
let relaxedUsable: boolean | undefined;

function simd128Module(): WebAssembly.Module {
  compiled.simd128 ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return compiled.simd128;
}

/**
 * Whether the relaxed-SIMD module runs here with the SIMD128 module's results: it validates (the
 * runtime has relaxed SIMD) and its relaxed_madd is fused (x86 with FMA3, Arm), as llama.cpp's FMAs
 * are. Checked once per process.
 */
export function relaxedSimdUsable(): boolean {
  if (relaxedUsable === undefined) {
    relaxedUsable = false;
    const bytes = Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64');
    if (WebAssembly.validate(bytes)) {
      const module = new WebAssembly.Module(bytes);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
      const probe = new WebAssembly.Instance(module, { env: { memory } }).exports as { relaxed_madd_is_fused(): number };
      relaxedUsable = probe.relaxed_madd_is_fused() === 1;
      if (relaxedUsable) compiled.relaxed = module;
    }
  }
  return relaxedUsable;
}

export interface EngineOptions {
  /** route every hot kernel through its scalar `_generic` twin (the same as kernels: 'generic') */
  generic?: boolean;
  /**
   * `auto` (the default): relaxed SIMD where usable, else SIMD128. A kind that cannot run here is an
   * error. The environment variable QUANTSCOPE_KERNELS (generic | simd128 | relaxed | auto) sets the
   * default.
   */
  kernels?: KernelKind | 'auto';
  /** [index, name] list the table bindings are recorded into */
  tableBindings?: TableBinding[];
}

const KERNEL_CHOICES = ['auto', 'relaxed', 'simd128', 'generic'] as const;

/** The kernel kind an engine with these options runs. */
export function chooseKernels(opts: EngineOptions = {}): KernelKind {
  const env = process.env.QUANTSCOPE_KERNELS;
  if (env !== undefined && env !== '' && !(KERNEL_CHOICES as readonly string[]).includes(env)) {
    throw new QuantscopeError('invalid_argument', `QUANTSCOPE_KERNELS must be one of ${KERNEL_CHOICES.join(', ')}, got '${env}'`);
  }
  // an explicit option wins over the environment (generic: false means the default, SIMD, kernels)
  const asked = opts.kernels ?? (opts.generic === true ? 'generic' : opts.generic === false ? 'auto' : env || 'auto');
  if (asked === 'auto') return relaxedSimdUsable() ? 'relaxed' : 'simd128';
  if (asked === 'relaxed' && !relaxedSimdUsable()) {
    throw new QuantscopeError('wasm', 'relaxed-SIMD kernels asked for, but this runtime cannot run them with exact results: it needs relaxed SIMD ' +
      '(Node ≥ 22, or node --experimental-wasm-relaxed-simd on Node 20) with a fused relaxed_madd');
  }
  return asked as KernelKind;
}

function kernel<T>(exports: KernelExports, name: string): T {
  const fn = exports[name];
  if (typeof fn !== 'function') throw new QuantscopeError('wasm', `the kernel module has no export '${name}' (src/quant/formats.ts names it)`);
  return fn as T;
}

/**
 * Bind one format to an instance's kernels (SIMD or generic; `relaxed`: the instance is of the
 * relaxed-SIMD module, whose own four-row kernels are taken); its dot product joins the function table.
 */
export function bindFormat(exports: KernelExports, spec: RunnableFormat, generic: boolean, bindings: TableBinding[] = [], relaxed = false): BoundFormat {
  const register = (name: string): [number, VecDotFn] => {
    const exportName = generic ? `${name}_generic` : name;
    const fn = kernel<VecDotFn>(exports, exportName);
    return [tableSlot(exportName, fn), fn];
  };
  const tableSlot = (exportName: string, fn: unknown): number => {
    const index = exports.table.grow(1);
    exports.table.set(index, fn as () => void);
    bindings.push([index, exportName]);
    return index;
  };
  const [vecDot, vecDotFn] = register(spec.vecDot);
  const [vecDotBatch, vecDotBatchFn] = spec.vecDotBatch === spec.vecDot ? [vecDot, vecDotFn] : register(spec.vecDotBatch);
  // mul_mat takes rows four at a time where the format has a four-row kernel (the generic engine
  // keeps the plain row-by-row loop over the scalar twins)
  const rows4 = spec.vecDot4 !== undefined && !generic;
  if (rows4) {
    const name4 = relaxed && spec.vecDot4Relaxed ? spec.vecDot4Relaxed : spec.vecDot4;
    const dot4 = tableSlot(name4, kernel<unknown>(exports, name4));
    exports.set_rows4_kernel(vecDot, dot4);
    bindings[bindings.length - 1][2] = vecDot; // workers register it again (see TableBinding)
    if (vecDotBatch !== vecDot) throw new QuantscopeError('wasm', `${spec.type.name}: a four-row kernel needs the same dot product for one token and for batches`);
    const nameTile = relaxed && spec.vecTileRelaxed ? spec.vecTileRelaxed : spec.vecTile;
    if (nameTile) {
      exports.set_tile_kernel(vecDot, tableSlot(nameTile, kernel<unknown>(exports, nameTile)));
      bindings[bindings.length - 1][3] = vecDot;
    }
  }
  const q = ACTIVATIONS[spec.activation].quantize;
  return {
    spec,
    vecDot,
    vecDotBatch,
    vecDotFn,
    vecDotBatchFn,
    quantize: q ? kernel<RowFn>(exports, generic ? q.generic : q.simd) : undefined,
    dequantize: kernel<RowFn>(exports, spec.dequantize),
    rows4,
  };
}

function bindFormats(exports: KernelExports, kind: KernelKind, bindings: TableBinding[]): Map<number, BoundFormat> {
  return new Map([...FORMATS].map(([id, spec]) => [id, bindFormat(exports, spec, kind === 'generic', bindings, kind === 'relaxed')]));
}

/** Put the pool's jobs into the function table (the `_generic` forms for a generic engine). */
function bindJobs(exports: KernelExports, generic: boolean, bindings: TableBinding[]): Jobs {
  const slot = (name: string, hasGeneric: boolean): number => {
    const exportName = generic && hasGeneric ? `${name}_generic` : name;
    const index = exports.table.grow(1);
    exports.table.set(index, kernel<() => void>(exports, exportName));
    bindings.push([index, exportName]);
    return index;
  };
  return {
    attention: slot('attention_job', true), attentionF16: slot('attention_f16_job', true), siluMul: slot('silu_mul_job', true),
    mulMats: slot('mul_mat_job', false), streamSum: slot('stream_sum_job', false),
  };
}

/**
 * A fresh kernel instance over its own linear memory. The memory is shared (a SharedArrayBuffer), so
 * that kernel workers (`startThreads`) can run over the same weights.
 */
export function createEngine(opts: EngineOptions = {}): Engine {
  const kind = chooseKernels(opts);
  const generic = kind === 'generic';
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  const module = kind === 'relaxed' ? compiled.relaxed! : simd128Module();
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const kernels: KernelSet = generic
    ? {
        mul_mat: exports.mul_mat,
        rms_norm: exports.rms_norm_generic,
        rope_cache: exports.rope_cache,
        rope_norm: exports.rope_norm_generic,
        add: exports.add_generic,
        store_transposed: exports.store_transposed,
        store_rows_f16: exports.store_rows_f16,
        store_transposed_f16: exports.store_transposed_f16,
      }
    : exports;
  const tableBindings = opts.tableBindings ?? [];
  const formats = bindFormats(exports, kind, tableBindings);
  const jobs = bindJobs(exports, generic, tableBindings);
  const arena = new Arena(memory, exports.heap_base());
  const counter = arena.alloc(4, 'the job counter of the main thread');
  const counterView = new Int32Array(memory.buffer, counter, 1);
  let pool: ThreadPool | null = null;
  let control = 0;
  return {
    exports, kernels, formats, arena, memory, generic, kind, tableBindings, jobs,
    get threads() { return pool?.threads ?? 1; },
    mulMat(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, rows, cols, nTok) {
      if (pool) pool.mulMat(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, rows, cols, nTok);
      else exports.mul_mat(vecDot, vecDotBatch, w, wRowBytes, x, xRowBytes, out, outRowFloats, 0, rows, cols, nTok);
    },
    runJob(job, args, n, chunk, work, maxParts) {
      if (pool && pool.runJob(job, args, n, chunk, work, maxParts)) return;
      counterView[0] = 0;
      exports.run_chunks(job, args, n, counter, n, 0);
    },
    async startThreads(threads) {
      if (!Number.isInteger(threads) || threads < 1) throw new QuantscopeError('invalid_argument', `threads must be a positive integer, got ${threads}`);
      pool?.dispose();
      pool = null;
      if (threads === 1 || generic) return;
      if (control === 0) control = arena.alloc(CONTROL_BYTES, 'the thread control block');
      arena.bytes(control, CONTROL_BYTES).fill(0);
      pool = await ThreadPool.start(threads, module, memory, control, tableBindings, exports.mul_mat, exports.mul_mat_chunks, exports.run_chunks);
    },
    dispose() {
      pool?.dispose();
      pool = null;
    },
  };
}
