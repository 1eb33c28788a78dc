import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** ../shared next to the checkout, when present (it is absent on a fresh clone elsewhere) */
export const SHARED = join(ROOT, '..', 'shared');

/**
 * A JSON fixture. The copies of llama.cpp's JSON outputs are stored gzipped (`<name>.json.gz`) to keep
 * test/fixtures small; `rel` may name either form.
 */
export function readJsonFixture<T = unknown>(path: string): T {
  const gz = path.endsWith('.gz') ? path : `${path}.gz`;
  return JSON.parse(gunzipSync(readFileSync(gz)).toString('utf8')) as T;
}

/** `name.json.gz` → `name` */
export function fixtureStem(file: string): string {
  return file.replace(/\.json(\.gz)?$/, '');
}

/** The llama-spm vocabulary llama.cpp's tokenizer vectors were made with: llama-2-tiny-random.gguf
 *  carries exactly its tokens, scores and token types (see ../shared/models/MODELS.md). */
export const SPM_VOCAB_MODEL = join(FIXTURES, 'models', 'llama-2-tiny-random.gguf');

/** A model file by name: the embedded default in models/, else test/fixtures/models/. */
export function modelPath(file: string): string {
  const embedded = join(ROOT, 'models', file);
  return existsSync(embedded) ? embedded : join(FIXTURES, 'models', file);
}

export interface ReferenceTensor {
  name: string;
  ne: number[];
  rms: number;
  mean: number;
  min: number;
  max: number;
  values: number[];
}

/** One llama.cpp reference case (see ../shared/reference/README.md). */
export interface ReferenceCase {
  id: string;
  model: string;
  prompt?: string;
  tokenize: { add_special: boolean; parse_special: boolean; from_ids: boolean };
  tokens: number[];
  n_ctx: number;
  n_vocab: number;
  tensors: ReferenceTensor[];
  logits: number[];
  logits_argmax: number;
  greedy: { n_requested: number; tokens: number[]; text: string };
}

export function referenceCases(dir = join(FIXTURES, 'reference')): ReferenceCase[] {
  const cases: ReferenceCase[] = [];
  for (const model of readdirSync(dir).sort()) {
    if (model === 'dequant') continue;
    for (const file of readdirSync(join(dir, model)).sort()) {
      if (!file.endsWith('.json.gz')) continue;
      const data = readJsonFixture<Omit<ReferenceCase, 'id'>>(join(dir, model, file));
      cases.push({ ...data, id: `${model}/${fixtureStem(file)}` });
    }
  }
  return cases;
}
