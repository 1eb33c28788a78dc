// ggml type ids the kernels understand. The TypeScript side mirrors these in src/quant/formats.ts;
// test/layout.test.ts checks the two agree through the exported `type_supported`.
export const GGML_F32: i32 = 0;
export const GGML_F16: i32 = 1;
export const GGML_Q4_0: i32 = 2;
export const GGML_Q4_1: i32 = 3;
export const GGML_Q5_0: i32 = 6;
export const GGML_Q5_1: i32 = 7;
export const GGML_Q8_0: i32 = 8;
export const GGML_Q2_K: i32 = 10;
export const GGML_Q3_K: i32 = 11;
export const GGML_Q4_K: i32 = 12;
export const GGML_Q5_K: i32 = 13;
export const GGML_Q6_K: i32 = 14;
export const GGML_IQ4_NL: i32 = 20;
export const GGML_IQ4_XS: i32 = 23;
export const GGML_BF16: i32 = 30;

/** values per super-block of the K-quants (and IQ4_XS) */
export const QK_K: i32 = 256;
