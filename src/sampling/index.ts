export { Rng } from './rng.js';
export {
  DEFAULT_SAMPLING,
  resolveSampling,
  type GreedyConfig,
  type SamplingConfig,
  type SamplingOptions,
  type StochasticConfig,
} from './config.js';
export {
  applyRepetitionPenalty,
  applyTemperature,
  candidatesFromLogits,
  createCandidates,
  fillCandidates,
  minP,
  softmaxCandidates,
  sortCandidates,
  topK,
  topP,
  type Candidates,
} from './processors.js';
export { Sampler, argmax, logSoftmaxAt, sampleFromProbs, softmax, type SampleResult } from './sampler.js';
