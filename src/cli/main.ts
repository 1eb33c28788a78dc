#!/usr/bin/env node
import { Command, Option } from 'commander';
import { QuantscopeError } from '../errors.js';
import { DEFAULT_MODEL_FILE } from '../paths.js';
import { runCommand } from './run.js';
import { inspectCommand } from './inspect.js';
import { statsCommand } from './stats.js';
import { perplexityCommand } from './perplexity.js';
import { compareCommand } from './compare.js';
import { collect, floatArg, intArg } from './options.js';

/** kernel options of every command that runs a model */
const GENERIC = new Option('--generic', 'use the scalar _generic kernels instead of SIMD');
const KERNELS = new Option('--kernels <kind>', 'auto (relaxed SIMD where the runtime runs it exactly, else SIMD128), relaxed, simd128 or generic; the numbers are the same')
  .choices(['auto', 'relaxed', 'simd128', 'generic']);
const THREADS = new Option('-t, --threads <n>', 'threads for the matrix products (default: one per core; the numbers do not depend on it)')
  .argParser(intArg(1, 1024));
/** what the KV cache stores (SessionOptions.kvType) */
const KV_TYPE = new Option('--kv-type <type>', 'KV cache type: f32 (default, as the llama.cpp references) or f16 (half the memory, as llama.cpp computes with an F16 cache; llama.cpp\'s own default)')
  .choices(['f32', 'f16']);

const program = new Command()
  .name('quantscope')
  .description('GGUF LLM inference in WebAssembly SIMD, with a look inside the model run')
  .showHelpAfterError('(add --help for usage)');

program
  .command('run')
  .description('generate a continuation of a prompt (the prompt and continuation go to stdout)')
  .argument('[prompt]', 'text to continue')
  .option('-m, --model <file>', `GGUF model (default: the embedded models/${DEFAULT_MODEL_FILE})`)
  .option('-n, --n-predict <n>', 'maximum new tokens', intArg(), 128)
  .option('--temp <t>', 'temperature; 0 is greedy', floatArg(0), 0.8)
  .option('--top-k <k>', 'top-k filter; 0 is off', intArg(), 40)
  .option('--top-p <p>', 'top-p (nucleus) filter; 1 is off', floatArg(0, 1), 0.95)
  .option('--min-p <p>', 'min-p filter; 0 is off', floatArg(0, 1), 0.05)
  .option('--repeat-penalty <r>', 'repetition penalty; 1 is off', floatArg(0), 1)
  .option('--seed <s>', 'random seed (a seed reproduces a run exactly)', intArg(Number.MIN_SAFE_INTEGER))
  .option('-c, --ctx <n>', 'context size in tokens (default: the model\'s, at most 4096)', intArg(1))
  .option('--stop <text>', 'stop when this text appears (repeatable)', collect, [])
  .addOption(KV_TYPE)
  .addOption(GENERIC).addOption(KERNELS).addOption(THREADS)
  .action(runCommand);

program
  .command('inspect')
  .description('describe a GGUF file: architecture, hyper-parameters, tokenizer, tensors')
  .argument('<file>', 'GGUF file')
  .option('--json', 'print the report as JSON')
  .action(inspectCommand);

program
  .command('stats')
  .description('next token and per-layer statistics (RMS, mean, SwiGLU) of a prompt\'s last position')
  .argument('[prompt]', 'text to evaluate (or -p)')
  .option('-m, --model <file>', `GGUF model (default: the embedded models/${DEFAULT_MODEL_FILE})`)
  .option('-p, --prompt <text>', 'text to evaluate')
  .option('--layers <list>', 'layers to show, e.g. 0,5,10 (default: all)')
  .option('--tap <names>', 'print these taps\' full statistics instead of the layer table, e.g. l_out,ffn_gate_par (repeatable; all)', collect)
  .option('--positions <list>', 'last, all, or positions such as 0,3', 'last')
  .option('--token <id>', 'also report this token\'s logit, rank and probability', intArg())
  .option('--json', 'print everything computed as JSON')
  .option('-c, --ctx <n>', 'context size in tokens (default: the model\'s, at most 4096)', intArg(1))
  .addOption(KV_TYPE)
  .addOption(GENERIC).addOption(KERNELS).addOption(THREADS)
  .action(statsCommand);

program
  .command('compare')
  .description('one prompt through several GGUF files side by side: next tokens, per-layer tables, divergence, continuations')
  .argument('[prompt]', 'text to evaluate (or -p)')
  .option('-m, --model <file>', 'GGUF file to compare (repeat: at least two)', collect, [])
  .option('-p, --prompt <text>', 'text to evaluate')
  .option('-n, --n-predict <n>', 'greedy tokens to continue, to see where the files part ways', intArg(), 16)
  .option('--layers <list>', 'layers of the tables and divergence, e.g. 0,5,10,15,21 (default: all)')
  .option('--top-k <k>', 'size of the top-k lists and overlap', intArg(1), 10)
  .option('--base <file|index>', 'file to measure divergence and KL against (default: the one with most bits per weight)')
  .option('--reference <engine>', 'add llama.cpp\'s own answer for each file (needs node-llama-cpp): llama.cpp')
  .option('--json [file]', 'write the report as JSON (to stdout without a file name)')
  .option('--markdown [file]', 'write the report as Markdown (to stdout without a file name)')
  .option('--html <file>', 'write a self-contained HTML report with charts')
  .option('-c, --ctx <n>', 'context size in tokens (default: prompt + n-predict)', intArg(1))
  .addOption(KV_TYPE)
  .addOption(GENERIC).addOption(KERNELS).addOption(THREADS)
  .action(compareCommand);

program
  .command('perplexity')
  .description('perplexity of a text as llama-perplexity computes it (and KL divergence against a base model)')
  .option('-m, --model <file>', `GGUF model (default: the embedded models/${DEFAULT_MODEL_FILE})`)
  .requiredOption('-f, --file <file>', 'text file (one trailing newline is dropped, as llama.cpp does)')
  .option('-c, --ctx <n>', 'tokens per chunk; the second half of each chunk is scored', intArg(), 512)
  .option('-b, --batch <n>', 'tokens per forward pass (default: the session default)', intArg(1))
  .option('--kl-base <file>', 'base GGUF model: also report KL divergence, same top token and RMS Δp against it')
  .option('--chunks <n>', 'evaluate at most this many chunks (default: all)', intArg(1))
  .option('--json', 'print the result as JSON')
  .addOption(KV_TYPE)
  .addOption(GENERIC).addOption(KERNELS).addOption(THREADS)
  .action(perplexityCommand);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof QuantscopeError) {
    process.stderr.write(`quantscope: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
