// quantscope's side of the e2e bench, in a child process of its own (see speed-protocol.ts): load
// the model with the kernel set asked for (SpeedRequest.kernels; speed-run.ts gives the child the
// node flags that set needs), then per run evaluate the prompt as one batch from an empty session and the generated
// tokens one at a time, as llama.cpp's child does with the same ids.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { packageRoot } from '../src/paths.js';
import { cpuSeconds, maxRssBytes, sendToParent, type SpeedRequest, type SpeedResult } from './speed-protocol.js';

async function measure(req: SpeedRequest): Promise<SpeedResult> {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const t0 = performance.now();
  // the kernel set explicitly (auto by default), so that QUANTSCOPE_KERNELS in the environment does not pick it
  const model = await loadModel(req.modelPath, { threads: req.threads, kernels: req.kernels ?? 'auto' });
  const loadSeconds = (performance.now() - t0) / 1000;
  await sendToParent({ type: 'progress', step: 'loaded' });
  // the whole prompt in one forward pass, as llama.cpp gets it (n_batch = prompt length)
  const session = model.createSession({ contextSize: req.prompt.length + req.gen.length, batchSize: req.prompt.length });
  const ppSeconds: number[] = [];
  const tgSeconds: number[] = [];
  for (let run = 0; run < req.warmup + req.reps; run++) {
    session.reset();
    const a = performance.now();
    session.evaluate(req.prompt);
    const b = performance.now();
    for (const id of req.gen) session.evaluate([id]);
    const c = performance.now();
    if (run >= req.warmup) {
      ppSeconds.push((b - a) / 1000);
      tgSeconds.push((c - b) / 1000);
    }
    await sendToParent({ type: 'progress', step: `run ${run + 1}` });
  }
  const kind = model.loaded.engine.kind;
  const kernels = { generic: 'scalar _generic kernels', simd128: 'WASM SIMD128', relaxed: 'WASM relaxed SIMD' }[kind];
  const threads = model.threads; // what the engine runs, which may be fewer than asked (generic kernels: 1)
  model.dispose();
  return {
    engine: `quantscope ${version} (${kernels}, ${threads} thread${threads === 1 ? '' : 's'})`, kernels: kind, threads,
    loadSeconds, ppSeconds, tgSeconds, maxRssBytes: maxRssBytes(), cpuSeconds: cpuSeconds(),
  };
}

process.on('disconnect', () => process.exit(1)); // the parent is gone: nobody wants the numbers
process.once('message', (req: SpeedRequest) => {
  measure(req).then(
    (result) => sendToParent({ type: 'result', result }),
    (e) => sendToParent({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
  ).then(() => process.exit(0));
});
