// Agreement with llama.cpp, per reference case: max |Δ logit|, KL(llama.cpp ‖ ours), top-1,
// worst l_out RMS error, greedy tokens matched. `node dist/bench/agreement.js [reference dir]`
// (default: test/fixtures/reference). Reads the reference JSON copies (plain or gzipped).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { loadModel, type Model } from '../src/index.js';
import { packageRoot } from '../src/paths.js';

const root = packageRoot();
const dir = process.argv[2] ?? join(root, 'test', 'fixtures', 'reference');
const generic = process.argv.includes('--generic');

function readJson(path: string) {
  const raw = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
}

function logSoftmax(l: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < l.length; i++) max = Math.max(max, l[i]);
  let s = 0;
  for (let i = 0; i < l.length; i++) s += Math.exp(l[i] - max);
  const lse = max + Math.log(s);
  return Float64Array.from({ length: l.length }, (_, i) => l[i] - lse);
}

const argmax = (v: ArrayLike<number>) => { let b = 0; for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i; return b; };

console.log('case'.padEnd(42) + 'max|Δlogit|     KL       top1  l_out max rel  greedy');
for (const model of readdirSync(dir).sort()) {
  if (model === 'dequant') continue;
  const file = ['models', 'test/fixtures/models'].map((d) => join(root, d, `${model}.gguf`)).find(existsSync);
  if (!file) continue;
  const m = await loadModel(file, { generic });
  for (const c of readdirSync(join(dir, model)).sort()) {
    try {
      report(m, model, c);
    } catch (e) {
      console.log(`${model}/${c}`.padEnd(42) + `error: ${(e as Error).message}`);
    }
  }
  m.dispose();
}

function report(m: Model, model: string, c: string): void {
    const ref = readJson(join(dir, model, c));
    const s = m.createSession({ contextSize: ref.n_ctx });
    const lOut = new Map<string, number>();
    let logits = s.evaluate(ref.tokens, {
      onTap: (name, layer, data, nTok, width) => {
        if (name !== 'l_out') return;
        const row = data.subarray((nTok - 1) * width, nTok * width);
        lOut.set(`l_out-${layer}`, Math.sqrt(row.reduce((a, v) => a + v * v, 0) / width));
      },
    });
    let maxDiff = 0;
    for (let i = 0; i < logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - ref.logits[i]));
    const lp = logSoftmax(ref.logits), lq = logSoftmax(logits);
    let kl = 0;
    for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
    let rmsErr = 0;
    for (const t of ref.tensors.filter((t: { name: string }) => t.name.startsWith('l_out-'))) {
      rmsErr = Math.max(rmsErr, Math.abs(lOut.get(t.name)! / t.rms - 1));
    }
    const top1 = argmax(logits) === ref.logits_argmax;
    let matched = 0;
    for (const want of ref.greedy.tokens) {
      const got = argmax(logits);
      if (got !== want) break;
      matched++;
      if (matched < ref.greedy.tokens.length) logits = s.evaluate([got]);
    }
    console.log(`${model}/${c.replace(/\.json(\.gz)?$/, '')}`.padEnd(42) +
      `${maxDiff.toExponential(2).padStart(10)} ${kl.toExponential(2).padStart(10)}   ${top1 ? 'yes' : 'NO '}  ` +
      `${rmsErr.toExponential(2).padStart(12)}   ${matched}/${ref.greedy.tokens.length}`);
    s.dispose();
}
