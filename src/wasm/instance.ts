import { KERNELS_WASM_BASE64 } from './kernels.gen.js';
import { Arena } from './arena.js';

type Ptr = number;

/** The kernel module's exports (assembly/index.ts). Pointers are byte offsets into `memory`. */
export interface KernelExports {
  heap_base(): Ptr;
  fp16_to_fp32(h: number): number;
  fp32_to_fp16(f: number): number;
  vec_dot_f32(n: number, x: Ptr, y: Ptr): number;
  vec_dot_f32_generic(n: number, x: Ptr, y: Ptr): number;
  vec_dot_f16(n: number, w: Ptr, x: Ptr): number;
  vec_dot_f16_generic(n: number, w: Ptr, x: Ptr): number;
  round_row_f16(x: Ptr, y: Ptr, n: number): void;
  dequantize_row_f32(x: Ptr, y: Ptr, n: number): void;
  dequantize_row_f16(x: Ptr, y: Ptr, n: number): void;
  dequantize_row_q8_0(x: Ptr, y: Ptr, n: number): void;
  quantize_row_q8_0(x: Ptr, y: Ptr, n: number): void;
  quantize_row_q8_0_generic(x: Ptr, y: Ptr, n: number): void;
  vec_dot_q8_0_q8_0(n: number, w: Ptr, x: Ptr): number;
  vec_dot_q8_0_q8_0_generic(n: number, w: Ptr, x: Ptr): number;
  type_supported(type: number): number;
  dequantize_row(type: number, x: Ptr, y: Ptr, n: number): void;
  quantize_activation(type: number, x: Ptr, y: Ptr, n: number): void;
  quantize_activation_generic(type: number, x: Ptr, y: Ptr, n: number): void;
  mul_mat(type: number, w: Ptr, wRowBytes: number, x: Ptr, xRowBytes: number, out: Ptr, outRowFloats: number,
    r0: number, r1: number, cols: number, nTok: number): void;
  mul_mat_generic(type: number, w: Ptr, wRowBytes: number, x: Ptr, xRowBytes: number, out: Ptr, outRowFloats: number,
    r0: number, r1: number, cols: number, nTok: number): void;
  vec_dot_row(type: number, n: number, w: Ptr, x: Ptr): number;
  vec_dot_row_generic(type: number, n: number, w: Ptr, x: Ptr): number;
  rms_norm(x: Ptr, w: Ptr, out: Ptr, n: number, eps: number): void;
  rms_norm_generic(x: Ptr, w: Ptr, out: Ptr, n: number, eps: number): void;
  rope_cache(cache: Ptr, pos: number, nDims: number, freqBase: number, freqScale: number): void;
  rope_norm(x: Ptr, nHeads: number, headDim: number, nDims: number, cache: Ptr): void;
  rope_norm_generic(x: Ptr, nHeads: number, headDim: number, nDims: number, cache: Ptr): void;
  attention(q: Ptr, kc: Ptr, vt: Ptr, out: Ptr, scores: Ptr, nHead: number, nHeadKv: number, headDim: number,
    nKv: number, kvRowFloats: number, vtStride: number, scale: number): void;
  attention_generic(q: Ptr, kc: Ptr, vt: Ptr, out: Ptr, scores: Ptr, nHead: number, nHeadKv: number, headDim: number,
    nKv: number, kvRowFloats: number, vtStride: number, scale: number): void;
  store_transposed(src: Ptr, nRows: number, nCols: number, dst: Ptr, dstStride: number, pos0: number): void;
  add(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  add_generic(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  silu_mul(gate: Ptr, up: Ptr, out: Ptr, rowLen: number, nRows: number): void;
  ggml_expf(x: number): number;
}

/** The kernels the forward pass calls; SIMD or their scalar `_generic` twins. */
export type KernelSet = Pick<KernelExports,
  'mul_mat' | 'quantize_activation' | 'rms_norm' | 'rope_cache' | 'rope_norm' | 'attention' | 'add' | 'silu_mul' |
  'dequantize_row' | 'type_supported' | 'store_transposed'>;

export interface Engine {
  readonly exports: KernelExports;
  readonly kernels: KernelSet;
  readonly arena: Arena;
  readonly memory: WebAssembly.Memory;
  readonly generic: boolean;
}

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return compiled;
}

export interface EngineOptions {
  /** route every hot kernel through its scalar `_generic` twin (env QUANTSCOPE_KERNELS=generic does the same) */
  generic?: boolean;
}

/** A fresh kernel instance over its own linear memory. */
export function createEngine(opts: EngineOptions = {}): Engine {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
  const instance = new WebAssembly.Instance(kernelModule(), { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const generic = opts.generic ?? process.env.QUANTSCOPE_KERNELS === 'generic';
  const kernels: KernelSet = generic
    ? {
        mul_mat: exports.mul_mat_generic,
        quantize_activation: exports.quantize_activation_generic,
        rms_norm: exports.rms_norm_generic,
        rope_cache: exports.rope_cache,
        rope_norm: exports.rope_norm_generic,
        attention: exports.attention_generic,
        add: exports.add_generic,
        silu_mul: exports.silu_mul,
        dequantize_row: exports.dequantize_row,
        type_supported: exports.type_supported,
        store_transposed: exports.store_transposed,
      }
    : exports;
  return { exports, kernels, arena: new Arena(memory, exports.heap_base()), memory, generic };
}
