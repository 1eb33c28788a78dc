// Kernels the module's export list (assembly/index.ts) does not carry, compiled for a test from the
// same sources into a small module over its own memory (imported and shared, as asconfig.json builds
// the real one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';
import { ROOT } from './fixtures.js';

export interface TestKernels {
  fns: Record<string, (...a: number[]) => number>;
  memory: WebAssembly.Memory;
  /** first free 64-byte-aligned address after the module's static data */
  base: number;
}

export async function compileTestKernels(entry: string, initialPages = 1): Promise<TestKernels> {
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main(['__test_entry.ts', '--outFile', '__test.wasm', '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert'], {
    readFile: (name: string) => {
      if (name === '__test_entry.ts') return entry;
      try { return readFileSync(join(ROOT, name), 'utf8'); } catch { return null; }
    },
    writeFile: (name: string, contents: Uint8Array | string) => { if (name.endsWith('.wasm')) binary = contents as Uint8Array; },
    listFiles: () => [],
  });
  if (error || !binary) throw new Error(`test kernels did not compile: ${error}\n${stderr.toString()}`);
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: 65536, shared: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(binary)), { env: { memory, abort: () => { throw new Error('abort'); } } });
  const fns = instance.exports as unknown as TestKernels['fns'];
  const base = typeof fns.heap_base === 'function' ? (fns.heap_base() + 63) & ~63 : 0;
  return { fns, memory, base };
}
