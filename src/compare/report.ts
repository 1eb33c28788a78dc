// The data of a `compare` run: plain JSON (numbers, strings, arrays), so `--json` is this object
// as-is and the text, Markdown and HTML renderers all read the same thing.
import type { LayerRow } from '../stats/layer-table.js';

/** A token as one file's distribution scores it. */
export interface ScoredToken {
  id: number;
  text: string;
  logit: number;
  /** softmax probability of the raw logits */
  prob: number;
  /** 1 = the file's top token; equal logits share a rank */
  rank: number;
}

/** What one file is: its path, format and size. */
export interface CompareFileInfo {
  path: string;
  /** file name without directory */
  name: string;
  /** llama.cpp's name of general.file_type (e.g. `Q4_K_M`), or the dominant matrix type when absent */
  format: string;
  /** tensor type → count */
  tensorTypes: Record<string, number>;
  /** bytes of tensor data */
  weightBytes: number;
  /** tensor data bits per weight, over all tensors */
  bitsPerWeight: number;
}

/** The next token a file generates after the prompt, and how every file ranks it. */
export interface NextTokenColumn extends ScoredToken {
  /** rank of this token id in each file's distribution, in file order (this file's own entry is `rank`) */
  rankIn: number[];
  /** the file's top-k tokens (k = the report's topK), best first */
  top: ScoredToken[];
}

/** Divergence of a file's `l_out` hidden state from the base file's, at the prompt's last position. */
export interface DivergenceRow {
  layer: number;
  /** cos∠(h_file, h_base) */
  cosine: number;
  /** ‖h_file − h_base‖ / ‖h_base‖ */
  relRms: number;
}

/** The next-token distribution of a file against the base file's. */
export interface NextTokenAgreement {
  /** KL(base ‖ file) in nats, over the whole vocabulary */
  kl: number;
  /** |top-k(base) ∩ top-k(file)| / k */
  topKOverlap: number;
  sameTop1: boolean;
}

/** A file's greedy continuation of `nPredict` tokens. */
export interface Continuation {
  ids: number[];
  /** text of each token */
  pieces: string[];
  /** the continuation as text */
  text: string;
  /** index of the first token that differs from the base file's continuation; null when none does */
  partsAt: number | null;
}

/** llama.cpp's answer for one file (through node-llama-cpp), beside ours. */
export interface ReferenceColumn {
  /** e.g. `node-llama-cpp 3.21.1 (llama.cpp b…)` */
  engine: string;
  /** llama.cpp's most likely next tokens with their probabilities, best first */
  top: { id: number; text: string; prob: number }[];
  /** llama.cpp's greedy continuation (ids), as long as ours */
  greedy: number[];
  greedyText: string;
  /** llama.cpp's top-1 equals ours */
  nextAgrees: boolean;
  /** index of the first greedy token that differs from ours; null when all agree */
  greedyPartsAt: number | null;
  /** KL(llama.cpp ‖ ours) of the next-token distribution, in nats, when llama.cpp's full distribution is known */
  kl: number | null;
}

/** Everything known about one file in the comparison. */
export interface FileComparison {
  file: CompareFileInfo;
  /** the prompt's token ids under this file's tokenizer */
  promptTokens: number[];
  next: NextTokenColumn;
  /** one row per compared layer (the seed notes' table): input/output RMS, mean, SwiGLU RMS/mean, anomalies */
  layers: LayerRow[];
  /** per compared layer, against the base file; empty for the base file itself */
  divergence: DivergenceRow[];
  /** against the base file; null for the base file itself */
  agreement: NextTokenAgreement | null;
  /** null when nPredict is 0 */
  continuation: Continuation | null;
  /** present when a llama.cpp reference was asked for: the column, or why it could not be had */
  reference?: ReferenceColumn | { error: string };
}

/** One ⚠ mark: where, and the rule that raised it. */
export interface CompareAnomaly {
  /** index into `files` */
  file: number;
  /** the layer, or null for a file-level mark (e.g. the next token) */
  layer: number | null;
  rule: string;
  /** the numbers that tripped the rule, as a short phrase */
  detail: string;
}

export interface CompareReport {
  /** bumped when the shape of this object changes */
  schema: 1;
  prompt: string;
  /** the base file's prompt tokens with their texts */
  tokens: { id: number; text: string }[];
  /** index into `files` of the highest-precision file (the one divergence and KL are measured against) */
  baseIndex: number;
  /** the layers in every file's `layers` and `divergence`, ascending */
  layers: number[];
  topK: number;
  nPredict: number;
  files: FileComparison[];
  anomalies: CompareAnomaly[];
  /** rule name → what it checks */
  anomalyRules: Record<string, string>;
}
