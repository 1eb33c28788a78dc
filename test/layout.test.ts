// The format table (src/quant/formats.ts) is the only place that binds ggml types to kernels; these
// checks keep it and the kernel module (assembly/index.ts) from drifting apart.
import { it, expect } from 'vitest';
import { createEngine } from '../src/wasm/instance.js';
import { ACTIVATIONS, FORMATS, rowBytes, activationRowBytes } from '../src/quant/formats.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';

const { exports, formats } = createEngine();
const exported = Object.keys(exports).filter((k) => typeof exports[k] === 'function');

it('binds every format of the table to kernels the module exports (SIMD and generic)', () => {
  expect(formats.size).toBe(FORMATS.size);
  for (const [id, spec] of FORMATS) {
    expect(formats.get(id)!.spec).toBe(spec);
    expect(exported, spec.type.name).toContain(spec.vecDot);
    expect(exported, spec.type.name).toContain(`${spec.vecDot}_generic`);
    expect(exported, spec.type.name).toContain(spec.vecDotBatch);
    expect(exported, spec.type.name).toContain(`${spec.vecDotBatch}_generic`);
    expect(exported, spec.type.name).toContain(spec.dequantize);
  }
});

it('leaves no per-format kernel of the module out of the table', () => {
  const used = new Set<string>();
  for (const spec of FORMATS.values()) {
    used.add(spec.vecDot).add(`${spec.vecDot}_generic`).add(spec.vecDotBatch).add(`${spec.vecDotBatch}_generic`).add(spec.dequantize);
  }
  for (const a of Object.values(ACTIVATIONS)) if (a.quantize) used.add(a.quantize.simd).add(a.quantize.generic);
  const perFormat = exported.filter((k) => /^(vec_dot_|dequantize_row_|quantize_row_|round_row_)/.test(k));
  expect(perFormat.filter((k) => !used.has(k))).toEqual([]);
});

it('row sizes follow the ggml block geometry', () => {
  for (const [id, f] of FORMATS) {
    const t = GGML_TYPES.get(id)!;
    expect(f.type).toBe(t);
    expect(rowBytes(id, 256)).toBe((256 / t.blockSize) * t.typeSize);
  }
  expect(activationRowBytes('q8_0', 64)).toBe(68);
  expect(activationRowBytes('q8_1', 64)).toBe(72);
  expect(activationRowBytes('q8_K', 512)).toBe(584);
  expect(activationRowBytes('f16', 64)).toBe(256);
});
