import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** ../shared next to the checkout, when present (it is absent on a fresh clone elsewhere) */
export const SHARED = join(ROOT, '..', 'shared');

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
      if (!file.endsWith('.json')) continue;
      const data = JSON.parse(readFileSync(join(dir, model, file), 'utf8'));
      cases.push({ ...data, id: `${model}/${file.replace(/\.json$/, '')}` });
    }
  }
  return cases;
}
