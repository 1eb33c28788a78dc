// llama.cpp's side of the e2e bench (node-llama-cpp, CPU, prebuilt binary), in a child process of its
// own like src/reference/llamacpp-child.ts: the same file, token ids and batch as quantscope's child
// (speed-child.ts), an F32 KV cache like ours, and exactly the requested thread count — node-llama-cpp's
// default (its maxThreads, 4 on a 2-core machine) oversubscribes small machines badly.
import { pathToFileURL } from 'node:url';
import { cpuSeconds, maxRssBytes, sendToParent, type SpeedRequest, type SpeedResult } from './speed-protocol.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Token = import('node-llama-cpp').Token;
type InputItem = import('node-llama-cpp').ControlledEvaluateInputItem;

async function measure(req: SpeedRequest): Promise<SpeedResult> {
  const nlc = (await import(pathToFileURL(req.moduleEntry!).href)) as NodeLlamaCpp;
  const llama = await nlc.getLlama({
    gpu: false,
    build: 'never', // the prebuilt CPU binary; never start a cmake build from a bench
    maxThreads: 0, // no pool limit: the context's `threads` is then the number of threads used
    logLevel: nlc.LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`),
  });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: req.modelPath, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: req.prompt.length + req.gen.length + 1, // one spare cell: node-llama-cpp shifts a full context
    batchSize: req.prompt.length, // the prompt in one batch, as quantscope evaluates it
    threads: req.threads,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32', // quantscope's KV cache is F32 (src/model/kv-cache.ts)
    experimentalKvCacheValueType: 'F32',
    failedCreationRemedy: false,
  });
  const sequence = context.getSequence();
  const loadSeconds = (performance.now() - t0) / 1000;
  await sendToParent({ type: 'progress', step: 'loaded' });

  // every evaluation asks for the last token's next token (greedy), so the LM head runs as in ours,
  // where each evaluate() returns the last position's logits
  const next = { generateNext: { token: true, options: { temperature: 0 } } };
  const last = req.prompt.length - 1;
  const promptInput = req.prompt.map((t, i): InputItem => (i < last ? (t as Token) : [t as Token, next]));
  const ppSeconds: number[] = [];
  const tgSeconds: number[] = [];
  for (let run = 0; run < req.warmup + req.reps; run++) {
    await sequence.clearHistory();
    const a = performance.now();
    await sequence.controlledEvaluate(promptInput);
    const b = performance.now();
    for (const id of req.gen) await sequence.controlledEvaluate([[id as Token, next]]);
    const c = performance.now();
    if (sequence.contextTokens.length !== req.prompt.length + req.gen.length) {
      throw new Error('node-llama-cpp did not keep the tokens as given (context shift?)');
    }
    if (run >= req.warmup) {
      ppSeconds.push((b - a) / 1000);
      tgSeconds.push((c - b) / 1000);
    }
    await sendToParent({ type: 'progress', step: `run ${run + 1}` });
  }
  const engine = `node-llama-cpp ${req.moduleVersion} (llama.cpp ${llama.llamaCppRelease.release}, ${llama.buildType}, CPU, ${req.threads} thread${req.threads === 1 ? '' : 's'})`;
  await model.dispose();
  await llama.dispose();
  return { engine, threads: req.threads, loadSeconds, ppSeconds, tgSeconds, maxRssBytes: maxRssBytes(), cpuSeconds: cpuSeconds() };
}

process.on('disconnect', () => process.exit(1));
process.once('message', (req: SpeedRequest) => {
  measure(req).then(
    (result) => sendToParent({ type: 'result', result }),
    (e) => sendToParent({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
  ).then(() => process.exit(0));
});
