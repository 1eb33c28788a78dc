// Comparing GGUF files of one model: measurements, report data, renderers.
export { compareFiles, compareModels, pickBase, findAnomalies, COMPARE_RULES, COMPARE_LEGEND, type CompareOptions, type CompareFilesOptions, type ReferenceProvider, type ReferenceAnswer } from './compare.js';
export { probeModel, describeFile, type FileProbe, type ProbeOptions } from './probe.js';
export { cosineSimilarity, relativeRmsError, klDivergence, logSoftmax, topK, overlapFraction } from './metrics.js';
export type * from './report.js';
export { formatCompareText, formatCompareMarkdown } from './render-text.js';
export { renderCompareHtml } from './html.js';
export { llamaCppProvider } from './llamacpp-provider.js';
