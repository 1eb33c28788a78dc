// Kernel micro-benchmarks: matrix × vector throughput per weight format, SIMD against the scalar
// `_generic` twins, in GB/s of weight bytes streamed. `npm run bench -- --kernels`. The SIMD kernels
// are this process's default set (relaxed SIMD where usable, else SIMD128: see KernelResult.simd).
//   --rows N --cols N   matrix shape (default 2048 × 2048: a TinyLlama attention projection)
//   --formats A,B       only these formats (ggml names, e.g. Q4_K,Q8_0)
//   --json              machine-readable output
// benchKernels() is also the e2e bench's kernel column (e2e.bench.ts).
import Benchmark from 'benchmark';
import { bindFormat, createEngine } from '../src/wasm/instance.js';
import { FORMATS, activationRowBytes, rowBytes } from '../src/quant/formats.js';
import { rng } from './random.js';

export interface KernelRow { format: string; weightBytes: number; simdGBs: number; genericGBs: number; speedup: number }
export interface KernelResult {
  rows: number;
  cols: number;
  node: string;
  /** the kernel set the SIMD numbers ran: in this process, so on Node 20 without its flag SIMD128 */
  simd: 'relaxed' | 'simd128';
  results: KernelRow[];
}

/** How a report names a SIMD kernel set (the engine strings say WASM SIMD128 / WASM relaxed SIMD). */
export const SIMD_LABEL = { relaxed: 'relaxed SIMD', simd128: 'SIMD128' } as const;

export interface KernelBenchOptions {
  rows?: number;
  cols?: number;
  /** ggml type names to measure (default: every runnable format) */
  formats?: readonly string[];
  /** seconds benchmark.js may spend per kernel (its default, 5, when not given) */
  maxTime?: number;
  /** the SIMD kernel set (default auto: relaxed SIMD where this runtime runs it exactly, else SIMD128) */
  kernels?: 'auto' | 'relaxed' | 'simd128';
}

export function benchKernels(opts: KernelBenchOptions = {}): KernelResult {
  const rows = opts.rows ?? 2048;
  const cols = opts.cols ?? 2048;
  const only = opts.formats ? new Set(opts.formats.map((f) => f.trim().toUpperCase())) : undefined;
  const results: KernelRow[] = [];
  // the set explicitly, so that QUANTSCOPE_KERNELS in the environment cannot make the SIMD column generic
  const engine = createEngine({ kernels: opts.kernels ?? 'auto' });
  const { exports: k, arena } = engine;
  const simd = engine.kind === 'relaxed' ? 'relaxed' : 'simd128';
  const rand = rng(42);

  for (const [typeId, fmt] of FORMATS) {
    if (only && !only.has(fmt.type.name)) continue;
    const wBytes = rowBytes(typeId, cols) * rows;
    const xBytes = activationRowBytes(fmt.activation, cols);
    const src = arena.alloc(rows * cols * 4, 'bench source');
    const w = arena.alloc(wBytes, 'bench weights');
    const x = arena.alloc(cols * 4, 'bench activation f32');
    const xq = arena.alloc(xBytes, 'bench activation');
    const out = arena.alloc(rows * 4, 'bench output');
    const f = arena.f32(src, rows * cols);
    for (let i = 0; i < f.length; i++) f[i] = (rand() - 0.5) * 0.1;
    const xv = arena.f32(x, cols);
    for (let i = 0; i < cols; i++) xv[i] = rand() - 0.5;
    // weights: float formats from random floats; quantized formats as random bytes, with every
    // 16-bit word (so every f16 scale field) made a small normal half (speed does not depend on the
    // values, but NaN/Inf or f32 denormals could)
    const name = fmt.type.name;
    if (name === 'F32') arena.f32(w, rows * cols).set(f);
    else if (name === 'F16' || name === 'BF16') {
      const h = new Uint16Array(arena.memory.buffer, w, rows * cols);
      const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
      for (let i = 0; i < h.length; i++) h[i] = name === 'F16' ? k.fp32_to_fp16(f[i]) : bits[i] >>> 16;
    } else {
      const b = arena.bytes(w, wBytes);
      for (let i = 0; i < b.length; i++) b[i] = (rand() * 256) | 0;
      const h = new Uint16Array(arena.memory.buffer, w, wBytes >> 1);
      // exponent 1..12: below 2^-2, never Inf/NaN, never subnormal (real scales are normal; an f16
      // subnormal becomes an f32 denormal inside the f16 → f32 conversion, which x86 multiplies slowly)
      for (let i = 0; i < h.length; i++) h[i] = (h[i] & 0x83ff) | ((1 + ((h[i] >> 10) % 12)) << 10);
    }
    const simdFormat = engine.formats.get(typeId)!;
    const genericFormat = bindFormat(k, fmt, true);
    simdFormat.quantize?.(x, xq, cols);
    const xin = simdFormat.quantize ? xq : x;
    const xinBytes = simdFormat.quantize ? xBytes : cols * 4;

    const hz: Record<string, number> = {};
    const suite = new Benchmark.Suite();
    const options = opts.maxTime === undefined ? {} : { maxTime: opts.maxTime, minSamples: 3 };
    suite
      .add(`${fmt.type.name} simd`, () => k.mul_mat(simdFormat.vecDot, simdFormat.vecDot, w, rowBytes(typeId, cols), xin, xinBytes, out, rows, 0, rows, cols, 1), options)
      .add(`${fmt.type.name} generic`, () => k.mul_mat(genericFormat.vecDot, genericFormat.vecDot, w, rowBytes(typeId, cols), xin, xinBytes, out, rows, 0, rows, cols, 1), options)
      .on('cycle', (e: Benchmark.Event) => { hz[e.target.name!] = e.target.hz!; })
      .run({ async: false });
    const simdGBs = (hz[`${fmt.type.name} simd`] * wBytes) / 1e9;
    const genericGBs = (hz[`${fmt.type.name} generic`] * wBytes) / 1e9;
    results.push({ format: fmt.type.name, weightBytes: wBytes, simdGBs, genericGBs, speedup: simdGBs / genericGBs });
    for (const p of [src, w, x, xq, out]) arena.release(p);
  }
  engine.dispose();
  return { rows, cols, node: process.version, simd, results };
}

export function formatKernels(r: KernelResult): string {
  const simd = SIMD_LABEL[r.simd];
  const head = `${simd} GB/s`;
  const lines = [`mat×vec ${r.rows}×${r.cols}, one thread, ${simd} kernels, ${r.node}`, `format   weight MiB   ${head}   generic GB/s   SIMD gain`];
  for (const row of r.results) {
    lines.push(`${row.format.padEnd(8)} ${(row.weightBytes / 2 ** 20).toFixed(2).padStart(10)} ${row.simdGBs.toFixed(2).padStart(head.length + 2)} ` +
      `${row.genericGBs.toFixed(2).padStart(14)} ${row.speedup.toFixed(2).padStart(10)}×`);
  }
  return lines.join('\n') + '\n';
}

/** The `--kernels` section: its own command-line options, text or JSON on stdout. */
export function runKernelSection(argv: readonly string[] = process.argv): void {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i > 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, fallback: number) => (arg(name) === undefined ? fallback : Number(arg(name)));
  const r = benchKernels({ rows: num('--rows', 2048), cols: num('--cols', 2048), formats: arg('--formats')?.split(',') });
  process.stdout.write(argv.includes('--json') ? JSON.stringify(r, null, 2) + '\n' : formatKernels(r));
}

if (process.argv[1]?.endsWith('kernels.bench.js')) runKernelSection();
