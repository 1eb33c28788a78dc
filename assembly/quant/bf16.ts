// BF16 — block layout: to be documented with the implementation.
// STUB: filled in by the BF16 implementation.

export function dequantize_row_bf16(x: usize, y: usize, k: i32): void {
  unreachable();
}

/** y[i] = f32(bf16(x[i])): the activation as llama.cpp's BF16 dot sees it */
export function round_row_bf16(x: usize, y: usize, n: i32): void {
  unreachable();
}

export function vec_dot_bf16(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_bf16_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
