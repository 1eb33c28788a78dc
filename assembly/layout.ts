// Block geometry shared by several formats. (Which ggml type uses which kernels is decided on the
// TypeScript side, in src/quant/formats.ts.)

/** values per super-block of the K-quants (and IQ4_XS) */
export const QK_K: i32 = 256;
