// Layer statistics: per-tap tensor statistics, the per-layer table, next-token info.
export { computeStats, type TensorStats } from './tensor-stats.js';
export { collectStats, StatsResult, type CollectStatsOptions, type StatsTapHook, type TapStatsEntry } from './collect.js';
export { type StatsSelectionOptions, isTapName, resolveTaps, resolveLayers, resolvePositions } from './selection.js';
export {
  collectLayerTable, layerRows, layerTableLayers, anomaliesOf, ANOMALY_RULES, ANOMALY_LEGEND,
  type LayerRow, type Anomaly, type LayerTableOptions,
} from './layer-table.js';
export { embeddingRow } from './embedding.js';
export { rankOf, argmax, probOf, tokenInfo, nextToken, type TokenInfo } from './tokens.js';
