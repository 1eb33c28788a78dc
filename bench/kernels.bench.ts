// Kernel micro-benchmarks: matrix × vector throughput per weight format, SIMD against the scalar
// `_generic` twins, in GB/s of weight bytes streamed. `npm run bench` (after `npm run build`).
//   --rows N --cols N   matrix shape (default 2048 × 2048: a TinyLlama attention projection)
//   --json              machine-readable output
import Benchmark from 'benchmark';
import { createEngine } from '../src/wasm/instance.js';
import { FORMATS, activationRowBytes, rowBytes } from '../src/quant/formats.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const rows = arg('--rows', 2048);
const cols = arg('--cols', 2048);
const json = process.argv.includes('--json');

/** deterministic pseudo-random numbers (mulberry32) */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row { format: string; weightBytes: number; simdGBs: number; genericGBs: number; speedup: number }
const results: Row[] = [];
const engine = createEngine();
const { exports: k, arena } = engine;
const rand = rng(42);

for (const [typeId, fmt] of FORMATS) {
  const act = fmt.activation;
  const wBytes = rowBytes(typeId, cols) * rows;
  const xBytes = activationRowBytes(act, cols);
  const src = arena.alloc(rows * cols * 4, 'bench source');
  const w = arena.alloc(wBytes, 'bench weights');
  const x = arena.alloc(cols * 4, 'bench activation f32');
  const xq = arena.alloc(xBytes, 'bench activation');
  const out = arena.alloc(rows * 4, 'bench output');
  const f = arena.f32(src, rows * cols);
  for (let i = 0; i < f.length; i++) f[i] = (rand() - 0.5) * 0.1;
  const xv = arena.f32(x, cols);
  for (let i = 0; i < cols; i++) xv[i] = rand() - 0.5;
  // weights: quantize random f32 rows through the activation quantizer of the same format when it
  // produces that format's blocks (Q8_0), else convert element-wise
  if (fmt.type.name === 'F32') arena.f32(w, rows * cols).set(f);
  else if (fmt.type.name === 'F16') {
    const h = new Uint16Array(arena.memory.buffer, w, rows * cols);
    for (let i = 0; i < h.length; i++) h[i] = k.fp32_to_fp16(f[i]);
  } else for (let r = 0; r < rows; r++) k.quantize_row_q8_0(src + r * cols * 4, w + r * rowBytes(typeId, cols), cols);
  k.quantize_activation(typeId, x, xq, cols);
  const xin = act === 'f32' ? x : xq;
  const xinBytes = act === 'f32' ? cols * 4 : xBytes;

  const hz: Record<string, number> = {};
  const suite = new Benchmark.Suite();
  suite
    .add(`${fmt.type.name} simd`, () => k.mul_mat(typeId, w, rowBytes(typeId, cols), xin, xinBytes, out, rows, 0, rows, cols, 1))
    .add(`${fmt.type.name} generic`, () => k.mul_mat_generic(typeId, w, rowBytes(typeId, cols), xin, xinBytes, out, rows, 0, rows, cols, 1))
    .on('cycle', (e: Benchmark.Event) => { hz[e.target.name!] = e.target.hz!; })
    .run({ async: false });
  const simd = (hz[`${fmt.type.name} simd`] * wBytes) / 1e9;
  const generic = (hz[`${fmt.type.name} generic`] * wBytes) / 1e9;
  results.push({ format: fmt.type.name, weightBytes: wBytes, simdGBs: simd, genericGBs: generic, speedup: simd / generic });
  for (const p of [src, w, x, xq, out]) arena.release(p);
}

if (json) {
  console.log(JSON.stringify({ rows, cols, node: process.version, results }, null, 2));
} else {
  console.log(`mat×vec ${rows}×${cols}, one thread, ${process.version}`);
  console.log('format   weight MiB   SIMD GB/s   generic GB/s   SIMD gain');
  for (const r of results) {
    console.log(`${r.format.padEnd(8)} ${(r.weightBytes / 2 ** 20).toFixed(2).padStart(10)} ${r.simdGBs.toFixed(2).padStart(11)} ` +
      `${r.genericGBs.toFixed(2).padStart(14)} ${r.speedup.toFixed(2).padStart(10)}×`);
  }
}
