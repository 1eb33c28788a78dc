// The TypeScript format table (src/quant/formats.ts) and the kernels (assembly/layout.ts) must
// agree on which ggml types can run: a type in one and not the other would either trap in WASM or
// refuse a model the kernels could run.
import { it, expect } from 'vitest';
import { createEngine } from '../src/wasm/instance.js';
import { FORMATS, rowBytes, activationRowBytes } from '../src/quant/formats.js';
import { GGML_TYPES } from '../src/quant/ggml-types.js';

it('runnable formats in TypeScript are exactly the types the kernels support', () => {
  const { exports } = createEngine();
  for (let id = 0; id < 64; id++) {
    expect(exports.type_supported(id) === 1, `ggml type ${id}`).toBe(FORMATS.has(id));
  }
});

it('row sizes follow the ggml block geometry', () => {
  for (const [id, f] of FORMATS) {
    const t = GGML_TYPES.get(id)!;
    expect(f.type).toBe(t);
    expect(rowBytes(id, 256)).toBe((256 / t.blockSize) * t.typeSize);
  }
  expect(activationRowBytes('q8_0', 64)).toBe(68);
  expect(activationRowBytes('f16', 64)).toBe(256);
});
