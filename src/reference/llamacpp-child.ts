// The child process of runLlamaCpp (llamacpp.ts): it gets one request over IPC, loads node-llama-cpp
// from the path the parent resolved, runs the jobs one after another (load → evaluate → greedy →
// dispose) and sends each result back. It exits when done, at the first failure, or when the parent
// goes away. It never writes to stdout; llama.cpp's log (warnings and errors only) goes to stderr,
// whose tail the parent puts into its error messages.
import { pathToFileURL } from 'node:url';
import type { ChildJob, ChildMessage, ChildRequest, LlamaCppResult } from './llamacpp.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type Token = import('node-llama-cpp').Token;
type InputItem = import('node-llama-cpp').ControlledEvaluateInputItem;

function send(message: ChildMessage): Promise<void> {
  // resolve once the message is handed to the channel, so that process.exit cannot drop it
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** llama.cpp's tokenization with add_special = parse_special = true, as its own tools (and our reference
 *  JSONs) do. node-llama-cpp's tokenize() never adds BOS/EOS, so we add them as the model's metadata says. */
function tokenizeAsLlamaCpp(model: LlamaModel, text: string): number[] {
  const { bos, eos, shouldPrependBosToken, shouldAppendEosToken } = model.tokens;
  return [
    ...(shouldPrependBosToken && bos !== null ? [bos] : []),
    ...model.tokenize(text, true),
    ...(shouldAppendEosToken && eos !== null ? [eos] : []),
  ];
}

/** node-llama-cpp's default is its maxThreads (4 on our 2-core test machine), and oversubscribed ggml
 *  threads spin at their barriers: 500 ms per token instead of 1 ms. Even one thread per core only pays
 *  for big matrices: small models get 1 thread, others the math cores. Results do not depend on it
 *  (measured bit-identical for 1 and 2 threads: ggml splits rows, not sums, across threads). */
function defaultThreads(llama: Llama, model: LlamaModel): number {
  return model.size < SMALL_MODEL_BYTES ? 1 : llama.cpuMathCores;
}
const SMALL_MODEL_BYTES = 64 * 2 ** 20;
const LOG_FLUSH_MS = 100;

async function runJob(llama: Llama, job: ChildJob, engine: string, threads: number | undefined): Promise<LlamaCppResult> {
  const model = await llama.loadModel({ modelPath: job.modelPath, gpuLayers: 0 });
  try {
    const promptTokens = job.prompt === undefined ? null : tokenizeAsLlamaCpp(model, job.prompt);
    const context = await model.createContext({
      // one spare cell: with a context exactly as long as the tokens, node-llama-cpp makes room for the
      // next token by shifting the context (dropping the first tokens) before it evaluates
      contextSize: job.tokens.length + job.nPredict + 1,
      // the whole prompt in one batch, as our reference JSONs were made (batch size picks the kernels)
      batchSize: job.tokens.length,
      // llama.cpp's classic attention path, the default when the reference JSONs were made
      flashAttention: false,
      // F32 K and V unless the job asks for F16: the reference JSONs were made with an F32 KV cache,
      // while node-llama-cpp's default is F16, which rounds every cached K/V value. The option is marked
      // experimental but F32 is plain ggml; llama.cpp's log confirms it ("K (f32), V (f32)").
      experimentalKvCacheKeyType: job.kvType === 'f16' ? 'F16' : 'F32',
      experimentalKvCacheValueType: job.kvType === 'f16' ? 'F16' : 'F32',
      threads: threads ?? defaultThreads(llama, model),
      failedCreationRemedy: false,
    });
    const sequence = context.getSequence();

    // controlledEvaluate decodes exactly these ids (no BOS added, no re-tokenization). Temperature 0
    // puts only llama.cpp's greedy sampler in the chain, which leaves the logits alone, so the
    // "probabilities" node-llama-cpp returns are the softmax of the raw logits over the whole vocabulary.
    const last = job.tokens.length - 1;
    const greedyStep = { generateNext: { token: true, options: { temperature: 0 } } };
    const input = job.tokens.map((t, i): InputItem =>
      i < last ? (t as Token) : [t as Token, { generateNext: { ...greedyStep.generateNext, probabilities: true } }]);
    const out = (await sequence.controlledEvaluate(input))[last]?.next;
    if (!out?.probabilities || out.token == null) throw new Error('llama.cpp returned no distribution for the last token');
    const checkContext = (expected: number[]) => {
      const held = sequence.contextTokens;
      if (held.length !== expected.length || held.some((t, i) => t !== expected[i])) {
        throw new Error('node-llama-cpp did not evaluate the tokens as given (context shift?)');
      }
    };
    checkContext(job.tokens);

    // node-llama-cpp sums the softmax in f32 (off from 1 by up to ~1e-5 on a 4k vocabulary): renormalize in
    // double so that the vector is a distribution (KL against it is then ≥ 0)
    let nVocab = 0;
    let sum = 0;
    for (const [id, p] of out.probabilities) { nVocab = Math.max(nVocab, id + 1); sum += p; }
    const probs = new Float32Array(nVocab);
    for (const [id, p] of out.probabilities) probs[id] = p / sum;
    const top = Array.from(probs.keys())
      .sort((a, b) => probs[b] - probs[a] || a - b)
      .slice(0, job.topK)
      .map((id) => ({ id, prob: probs[id], text: model.detokenize([id as Token], true, job.tokens as Token[]) }));

    const greedy: number[] = [];
    let next: number = out.token;
    while (greedy.length < job.nPredict) {
      greedy.push(next);
      if (model.isEogToken(next as Token) || greedy.length === job.nPredict) break;
      const step = (await sequence.controlledEvaluate([[next as Token, greedyStep]]))[0]?.next.token;
      if (step == null) throw new Error(`llama.cpp returned no token at greedy step ${greedy.length}`);
      next = step;
    }
    checkContext([...job.tokens, ...greedy.slice(0, -1)]); // the last greedy token is never evaluated
    return { engine, modelPath: job.modelPath, promptTokens, probs, top, greedy };
  } finally {
    await model.dispose(); // disposes its context too
  }
}

async function main(request: ChildRequest): Promise<number> {
  let llama: Llama;
  try {
    const nlc = (await import(pathToFileURL(request.moduleEntry).href)) as NodeLlamaCpp;
    llama = await nlc.getLlama({
      gpu: false,
      build: 'never', // use the prebuilt CPU binary; never start a cmake build from a comparison
      logLevel: nlc.LlamaLogLevel.warn,
      logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`),
    });
  } catch (e) {
    await send({ type: 'error', index: null, reason: 'unavailable', message: `node-llama-cpp cannot start: ${errorText(e)}` });
    return 1;
  }
  const engine = `node-llama-cpp ${request.moduleVersion} (llama.cpp ${llama.llamaCppRelease.release}, ${llama.buildType}, CPU)`;
  for (const [index, job] of request.jobs.entries()) {
    try {
      await send({ type: 'result', index, result: await runJob(llama, job, engine, request.threads) });
    } catch (e) {
      // llama.cpp's log reaches JS asynchronously, after the error: the reason for a failed load ("tensor
      // 'x' data is not within the file bounds") would be lost if we exited at once
      await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS));
      await send({ type: 'error', index, reason: 'failed', message: errorText(e) });
      return 1;
    }
  }
  await llama.dispose();
  return 0;
}

process.on('disconnect', () => process.exit(1)); // the parent is gone: nobody wants the results
process.once('message', (request: ChildRequest) => {
  main(request).then(
    (code) => process.exit(code),
    (e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); },
  );
});
