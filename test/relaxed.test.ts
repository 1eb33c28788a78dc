// The relaxed-SIMD kernel module (assembly/relaxed.ts, chosen by src/wasm/instance.ts where the
// runtime validates it and its relaxed_madd is fused) must give the SIMD128 module's numbers bit for
// bit: every fixture model gives the same logits at every prompt position and the same greedy tokens
// on both (every model runs relaxed code: its fused multiply-adds — in attention, RoPE and every
// weight format's dot product — are relaxed_madd there), and the kernel suites (rows4, rows4-kquant,
// quant-legacy, kernels, quant-k, quant-k-low — whose engines take the relaxed module when it is
// usable) pass on it.
//
// Node 20 runs relaxed SIMD only with --experimental-wasm-relaxed-simd, so there this file runs
// itself and those suites in a child vitest with the flag (QUANTSCOPE_EXPECT_KERNELS=relaxed makes
// the suites check that their engines really are relaxed); on Node ≥ 22 it checks in-process.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FORMATS } from '../src/quant/formats.js';
import { createEngine, relaxedSimdUsable, type KernelKind } from '../src/wasm/instance.js';
import { FIXTURES, ROOT } from './helpers/fixtures.js';
import { greedyRun } from './helpers/greedy-run.js';
import { readdirSync } from 'node:fs';

/** weight types whose four-row kernels have a relaxed-SIMD form */
const RELAXED_TYPES = new Set([...FORMATS.values()].filter((f) => f.vecDot4Relaxed).map((f) => f.type.name));

async function run(file: string, kernels: KernelKind, threads = 1) {
  const r = await greedyRun(file, { kernels, threads });
  expect(r.kind).toBe(kernels);
  return r;
}

if (relaxedSimdUsable()) {
  const files = readdirSync(join(FIXTURES, 'models')).filter((n) => n.endsWith('.gguf')).sort();

  describe('relaxed-SIMD kernels: the SIMD128 numbers, bit for bit', () => {
    it('auto takes the relaxed module here; formats with relaxed kernels include Q4_0, Q8_0, Q4_K and Q6_K', () => {
      expect(createEngine().kind).toBe('relaxed');
      for (const t of ['Q4_0', 'Q8_0', 'Q4_K', 'Q6_K']) expect(RELAXED_TYPES).toContain(t);
      expect(files.length).toBeGreaterThanOrEqual(17);
    });

    it.each(files)('%s: every prompt position\'s logits and 12 greedy tokens, on 1 and 2 threads', async (file) => {
      const simd = await run(file, 'simd128');
      for (const threads of [1, 2]) {
        const relaxed = await run(file, 'relaxed', threads);
        expect(Buffer.from(relaxed.all.buffer).equals(Buffer.from(simd.all.buffer)), `${threads} thread(s): prompt logits`).toBe(true);
        expect(relaxed.tokens).toEqual(simd.tokens);
        expect(Buffer.from(relaxed.last.buffer).equals(Buffer.from(simd.last.buffer)), `${threads} thread(s): last logits`).toBe(true);
      }
    }, 60_000);
  });
} else {
  describe('relaxed-SIMD kernels (a child vitest with --experimental-wasm-relaxed-simd)', () => {
    it('asking for them here is a clear error', () => {
      expect(() => createEngine({ kernels: 'relaxed' })).toThrow(/relaxed SIMD/);
      expect(createEngine().kind).toBe('simd128');
    });

    // V8 compiles a function first with its baseline compiler (Liftoff), later with its optimizing
    // one: the suites run once as V8 chooses and once held at the baseline tier, so a relaxed
    // instruction that one tier computed differently would show
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const runChild = (flags: string[], suites: string[]) => {
      const r = spawnSync(process.execPath, [vitest, 'run', ...flags.map((f) => `--execArgv=${f}`), ...suites], {
        cwd: ROOT, encoding: 'utf8', timeout: 600_000,
        env: { ...process.env, QUANTSCOPE_EXPECT_KERNELS: 'relaxed', QUANTSCOPE_KERNELS: '' },
      });
      // eslint-disable-next-line no-control-regex
      const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      expect(r.status, out.slice(-4000)).toBe(0);
      expect(out).toMatch(new RegExp(`Test Files\\s+${suites.length} passed`));
      expect(out).not.toMatch(/skipped/);
    };

    it('the model checks of this file and the kernel suites pass on the relaxed module', () => {
      runChild(['--experimental-wasm-relaxed-simd'],
        ['test/relaxed.test.ts', 'test/rows4.test.ts', 'test/rows4-kquant.test.ts', 'test/quant-legacy.test.ts', 'test/kernels.test.ts',
          'test/quant-k.test.ts', 'test/quant-k-low.test.ts']);
    }, 600_000);

    it('… and with every function held at V8\'s baseline tier', () => {
      runChild(['--experimental-wasm-relaxed-simd', '--liftoff-only'], ['test/relaxed.test.ts', 'test/rows4.test.ts', 'test/rows4-kquant.test.ts']);
    }, 600_000);
  });
}
