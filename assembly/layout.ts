// ggml type ids the kernels understand. The TypeScript side mirrors these in src/quant/formats.ts;
// test/layout.test.ts checks the two agree through the exported `type_supported`.
export const GGML_F32: i32 = 0;
export const GGML_F16: i32 = 1;
export const GGML_Q8_0: i32 = 8;
