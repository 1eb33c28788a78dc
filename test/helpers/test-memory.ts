// Placing test inputs in an engine's WASM memory: every block allocated during a test is released
// after it (vitest afterEach), so the suites' many small inputs never grow the arena.
import { afterEach } from 'vitest';
import type { Arena } from '../../src/wasm/arena.js';

export function testMemory(arena: Arena) {
  const live: number[] = [];
  const releaseAll = (): void => {
    for (const p of live.splice(0)) arena.release(p);
  };
  afterEach(releaseAll);
  const alloc = (bytes: number): number => {
    const p = arena.alloc(bytes);
    live.push(p);
    return p;
  };
  return {
    alloc,
    /** release what this test allocated so far (before afterEach, in a long loop) */
    releaseAll,
    /** bytes into fresh WASM memory, `misalign` bytes past a 64-byte boundary */
    putBytes(bytes: Uint8Array, misalign = 0): number {
      const p = alloc(misalign + bytes.length) + misalign;
      arena.bytes(p, bytes.length).set(bytes);
      return p;
    },
    putF32(values: ArrayLike<number>): number {
      const p = alloc(values.length * 4);
      arena.f32(p, values.length).set(values);
      return p;
    },
    getF32: (p: number, n: number): Float32Array => new Float32Array(arena.memory.buffer.slice(p, p + 4 * n)),
    getBytes: (p: number, n: number): Uint8Array => arena.bytes(p, n).slice(),
  };
}
