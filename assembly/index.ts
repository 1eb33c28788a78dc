// The kernel module's export surface. Every pointer is a byte offset into the imported memory,
// which the TypeScript side manages (src/wasm/arena.ts); the module itself never allocates.
// The per-format kernels are bound to ggml type ids on the TypeScript side (src/quant/formats.ts).
export { fp16_to_fp32, fp32_to_fp16 } from './util/fp16';
export { ggml_expf, ggml_expf_row } from './util/expf';
export {
  vec_dot_f32, vec_dot_f32_generic, vec_dot_f32_tinyblas, vec_dot_f32_tinyblas_generic,
  vec_dot_f16, vec_dot_f16_generic, vec_dot_f16_tinyblas, vec_dot_f16_tinyblas_generic,
} from './quant/float_dot';
export { dequantize_row_f32 } from './quant/f32';
export { dequantize_row_f16, round_row_f16 } from './quant/f16';
export {
  quantize_row_q8_0, quantize_row_q8_0_generic, quantize_row_q8_0x, quantize_row_q8_0x_generic, dequantize_row_q8_0,
  vec_dot_q8_0_q8_0, vec_dot_q8_0_q8_0_generic, vec_dot4_q8_0_q8_0, vec_dot4_q8_0_q8_0_generic,
  vec_dot4x4_q8_0_q8_0, vec_dot4x4_q8_0_q8_0_generic,
} from './quant/q8_0';
export { quantize_row_q8_1, quantize_row_q8_1_generic } from './quant/q8_1';
export { quantize_row_q8_K } from './quant/q8_k';
export { dequantize_row_bf16, round_row_bf16, vec_dot_bf16, vec_dot_bf16_generic } from './quant/bf16';
export {
  dequantize_row_q4_0, vec_dot_q4_0_q8_0, vec_dot_q4_0_q8_0_generic, vec_dot4_q4_0_q8_0, vec_dot4_q4_0_q8_0_generic,
  vec_dot4x4_q4_0_q8_0, vec_dot4x4_q4_0_q8_0_generic,
} from './quant/q4_0';
export { dequantize_row_q4_1, vec_dot_q4_1_q8_1, vec_dot_q4_1_q8_1_generic } from './quant/q4_1';
export { dequantize_row_q5_0, vec_dot_q5_0_q8_0, vec_dot_q5_0_q8_0_generic } from './quant/q5_0';
export { dequantize_row_q5_1, vec_dot_q5_1_q8_1, vec_dot_q5_1_q8_1_generic } from './quant/q5_1';
export { dequantize_row_q2_K, vec_dot_q2_K_q8_K, vec_dot_q2_K_q8_K_generic } from './quant/q2_k';
export { dequantize_row_q3_K, vec_dot_q3_K_q8_K, vec_dot_q3_K_q8_K_generic } from './quant/q3_k';
export {
  dequantize_row_q4_K, vec_dot_q4_K_q8_K, vec_dot_q4_K_q8_K_generic, vec_dot4_q4_K_q8_K, vec_dot4_q4_K_q8_K_generic,
} from './quant/q4_k';
export { dequantize_row_q5_K, vec_dot_q5_K_q8_K, vec_dot_q5_K_q8_K_generic } from './quant/q5_k';
export {
  dequantize_row_q6_K, vec_dot_q6_K_q8_K, vec_dot_q6_K_q8_K_generic, vec_dot4_q6_K_q8_K, vec_dot4_q6_K_q8_K_generic,
} from './quant/q6_k';
export {
  dequantize_row_iq4_nl, vec_dot_iq4_nl_q8_0, vec_dot_iq4_nl_q8_0_generic, vec_dot_iq4_nl_q8_0_tinyblas,
  vec_dot_iq4_nl_q8_0_tinyblas_generic,
} from './quant/iq4_nl';
export { dequantize_row_iq4_xs, vec_dot_iq4_xs_q8_K, vec_dot_iq4_xs_q8_K_generic } from './quant/iq4_xs';
export { mul_mat, mul_mat_chunks, mul_mat_job, rows4_kernel_of, set_rows4_kernel, set_tile_kernel, tile_kernel_of } from './ops/matmul';
export { interleave_rows4 } from './ops/rows4';
export { rms_norm, rms_norm_generic } from './ops/norm';
export { rope_cache, rope_norm, rope_norm_generic } from './ops/rope';
export {
  attention, attention_generic, store_transposed,
  attention_f16, attention_f16_generic, store_rows_f16, store_transposed_f16,
  attention_job, attention_job_generic, attention_f16_job, attention_f16_job_generic,
} from './ops/attention';
export { add, add_generic, silu_mul, silu_mul_generic, silu_mul_job, silu_mul_job_generic } from './ops/elementwise';
export { run_chunks } from './ops/parallel';
export { stream_sum, stream_sum_generic, stream_sum_job } from './ops/bandwidth';

/** First byte the host may use: everything below holds the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}
