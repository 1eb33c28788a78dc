// End to end against llama.cpp: for every reference case copied from ../shared/reference (see
// test/fixtures/README.md) the prompt tokens, the last-position logits, the per-layer l_out RMS
// and the greedy continuation must agree with llama.cpp's, on the SIMD kernels and the generic ones.
//
// Bounds, for every model: KL(llama.cpp ‖ ours) of the next-token distribution < 1e-4, the same
// top-1 token, l_out RMS within 0.5%. Models made only of F32/F16/Q8_0 tensors must also keep
// max |Δ logit| ≤ 1e-3 (F32/F16) or 2e-2 (with Q8_0) and l_out RMS within 0.1%.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type Model } from '../src/index.js';
import { ggmlTypeName } from '../src/quant/ggml-types.js';
import { FORMATS } from '../src/quant/formats.js';
import { fixtureStem, modelPath, referenceCases, SHARED, type ReferenceCase } from './helpers/fixtures.js';
import { readGguf } from '../src/gguf/reader.js';

const cases = referenceCases();

const FLOAT_OR_Q8_0 = new Set(['F32', 'F16', 'Q8_0']);

/** max |Δ logit| bound, for models made only of F32/F16/Q8_0 tensors (undefined for others) */
function logitTolerance(types: string[]): number | undefined {
  if (!types.every((t) => FLOAT_OR_Q8_0.has(t))) return undefined;
  return types.includes('Q8_0') ? 2e-2 : 1e-3;
}

/** KL(p ‖ q) of the softmax distributions of two logit vectors, in nats (computed in double) */
function klDivergence(pLogits: ArrayLike<number>, qLogits: ArrayLike<number>): number {
  const logSoftmax = (l: ArrayLike<number>) => {
    let max = -Infinity;
    for (let i = 0; i < l.length; i++) max = Math.max(max, l[i]);
    let sum = 0;
    for (let i = 0; i < l.length; i++) sum += Math.exp(l[i] - max);
    const lse = max + Math.log(sum);
    return Float64Array.from({ length: l.length }, (_, i) => l[i] - lse);
  };
  const lp = logSoftmax(pLogits);
  const lq = logSoftmax(qLogits);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return kl;
}

/** llama.cpp may legitimately part from us only from a step whose top-2 margin is below this */
const NEAR_TIE = 0.01;

function top2(logits: Float32Array): { best: number; margin: number } {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) if (i !== best && logits[i] > second) second = logits[i];
  return { best, margin: logits[best] - second };
}

function rms(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s / v.length);
}

describe.each([
  ['SIMD kernels', false],
  ['generic kernels', true],
])('llama.cpp references (%s)', (_label, generic) => {
  describe.each(cases.map((c) => [c.id, c] as const))('%s', (_id, ref: ReferenceCase) => {
    let model: Model;
    let types: string[];
    beforeAll(async () => {
      model = await loadModel(modelPath(ref.model), { generic });
      types = Object.keys(model.tensorTypes);
    });
    afterAll(() => model?.dispose());

    it('uses only tensor types this engine runs', () => {
      const runnable = [...FORMATS.values()].map((f) => f.type.name);
      expect(types.filter((t) => !runnable.includes(t))).toEqual([]);
    });

    it('tokenizes the prompt as llama.cpp does', () => {
      if (ref.tokenize.from_ids) return; // the case gives token ids, not text
      expect(model.tokenize(ref.prompt!, { addSpecial: ref.tokenize.add_special, parseSpecial: ref.tokenize.parse_special }))
        .toEqual(ref.tokens);
    });

    it('matches the last-position logits and per-layer l_out RMS', () => {
      const session = model.createSession({ contextSize: ref.n_ctx });
      const lOut = new Map<string, number>();
      const logits = session.evaluate(ref.tokens, {
        onTap: (name, layer, data, nTok, width) => {
          if (name === 'l_out') lOut.set(`l_out-${layer}`, rms(data.subarray((nTok - 1) * width, nTok * width)));
        },
      });
      expect(logits.length).toBe(ref.n_vocab);
      expect(klDivergence(ref.logits, logits)).toBeLessThan(1e-4);
      expect(top2(logits).best).toBe(ref.logits_argmax);
      const maxLogitDiff = logitTolerance(types);
      if (maxLogitDiff !== undefined) {
        let maxDiff = 0;
        for (let i = 0; i < logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - ref.logits[i]));
        expect(maxDiff).toBeLessThanOrEqual(maxLogitDiff);
      }

      const rmsTolerance = maxLogitDiff !== undefined ? 1e-3 : 5e-3;
      const refLOut = ref.tensors.filter((t) => t.name.startsWith('l_out-'));
      expect(refLOut.length).toBe(model.config.nLayer);
      for (const t of refLOut) {
        const ours = lOut.get(t.name);
        expect(ours, t.name).toBeDefined();
        expect(Math.abs(ours! / t.rms - 1), t.name).toBeLessThanOrEqual(rmsTolerance);
      }
      session.dispose();
    });

    it('continues greedily as llama.cpp does (parting only after a near-tie)', () => {
      const session = model.createSession({ contextSize: ref.n_ctx });
      let logits = session.evaluate(ref.tokens);
      let nearTieSeen = false;
      for (let step = 0; step < ref.greedy.tokens.length; step++) {
        const { best, margin } = top2(logits);
        if (margin < NEAR_TIE) nearTieSeen = true;
        if (best !== ref.greedy.tokens[step]) {
          expect(nearTieSeen, `step ${step}: ours ${best}, llama.cpp ${ref.greedy.tokens[step]}, no near-tie before`).toBe(true);
          break;
        }
        if (step + 1 < ref.greedy.tokens.length) logits = session.evaluate([best]);
      }
      session.dispose();
    });
  });
});

describe('reference coverage', () => {
  it('has a copy of every ../shared reference whose model this engine runs', async () => {
    const dir = join(SHARED, 'reference');
    if (!existsSync(dir)) return; // a fresh clone elsewhere: the copies are all there is
    const ours = new Set(cases.map((c) => c.id));
    const runnable = new Set([...FORMATS.keys()]);
    for (const model of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
      if (model === 'dequant') continue;
      const file = join(SHARED, 'models', `${model}.gguf`);
      const gguf = await readGguf(file);
      const unsupported = gguf.tensors.filter((t) => !runnable.has(t.type)).map((t) => ggmlTypeName(t.type));
      if (unsupported.length) continue;
      for (const c of readdirSync(join(dir, model))) expect(ours, `${model}/${c}`).toContain(`${model}/${fixtureStem(c)}`);
    }
  });
});
