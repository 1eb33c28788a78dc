// Public API of quantscope.
export { loadModel, Model, type LoadModelOptions, type TokenizeOptions, type DetokenizeOptions } from './model.js';
export {
  Session, type SessionOptions, type KvCacheType, type EvaluateOptions, type GenerateOptions, type GeneratedToken,
  type GenerationResult, type StopReason,
} from './session.js';
export type { SamplingOptions } from './sampling/index.js';
export type { LlamaConfig } from './model/config.js';
export type { LoadProgress } from './model/weights.js';
export { LAYER_TAPS, OUTPUT_TAPS, type TapName, type TapFn } from './model/taps.js';
export { readGguf, parseGguf } from './gguf/reader.js';
export { inspectGguf, formatInspect, type InspectReport } from './gguf/inspect.js';
export type { GgufFile, GgufTensorInfo, GgufValue } from './gguf/types.js';
export {
  QuantscopeError, GgufError, UnsupportedTensorTypeError, ContextOverflowError, AbortError, type ErrorKind,
} from './errors.js';
export { defaultModelPath } from './paths.js';
export {
  computeStats, collectStats, StatsResult, collectLayerTable, layerRows, anomaliesOf, ANOMALY_RULES, ANOMALY_LEGEND, embeddingRow,
  rankOf, probOf, tokenInfo, nextToken, type TensorStats, type CollectStatsOptions, type StatsSelectionOptions, type StatsTapHook,
  type TapStatsEntry, type LayerRow, type LayerTableOptions, type Anomaly, type TokenInfo,
} from './stats/index.js';
export {
  perplexity, scorePerplexity, sessionLogitSource, planChunks, chunkTokens, vocabularyMismatch, readTextFile,
  MIN_PERPLEXITY_CONTEXT, type PerplexityOptions, type PerplexityResult, type PerplexityProgress, type ChunkStats,
  type KlDivergenceStats, type ChunkLogitSource, type ChunkPlan, type ScoreOptions,
} from './eval/perplexity.js';
export {
  compareFiles, compareModels, pickBase, findAnomalies, COMPARE_RULES, COMPARE_LEGEND, cosineSimilarity, relativeRmsError,
  klDivergence, logSoftmax, topK, overlapFraction, type CompareOptions, type CompareFilesOptions, type ReferenceProvider,
  type ReferenceAnswer, type CompareReport, type FileComparison, type CompareFileInfo, type NextTokenColumn, type ScoredToken,
  type DivergenceRow, type NextTokenAgreement, type Continuation, type ReferenceColumn, type CompareAnomaly,
} from './compare/index.js';
export { formatCompareText, formatCompareMarkdown, renderCompareHtml, llamaCppProvider } from './compare/index.js';
