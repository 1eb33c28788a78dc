// llama.cpp's perplexity numbers for the kjv-austen fixture files, from ../shared/models/MODELS.md.
/**
 * llama.cpp's `llama-perplexity -c 128` on valid.txt (llama.cpp c392e50, CPU), from
 * ../shared/models/MODELS.md: the "Per-file results" table (F16 … Q2_K) and the "Added later" table
 * (Q5_1, IQ4_XS). 342 chunks, 21,546 scored tokens.
 */
export const LLAMA_CPP_PPL: Record<string, number> = {
  F16: 30.5211,
  Q8_0: 30.529769,
  Q6_K: 30.539649,
  Q5_K_M: 30.576539,
  Q4_K_M: 30.729902,
  Q4_0: 30.768283,
  Q4_1: 30.727661,
  Q5_0: 30.605152,
  Q3_K_M: 31.135628,
  Q2_K: 33.244397,
  Q5_1: 30.5729,
  IQ4_XS: 30.7456,
};
/** Q8_0 against F16 with `--kl-divergence` (MODELS.md "Per-file results"). */
export const LLAMA_CPP_Q8_KL = { kld: 0.000187, kldError: 0.000001, sameTop: 0.98761, sameTopError: 0.00075 };
export const LLAMA_CPP_CHUNKS = 342;
export const LLAMA_CPP_SCORED = 21_546;
