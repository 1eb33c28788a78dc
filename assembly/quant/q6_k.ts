// Q6_K — block layout: to be documented with the implementation.
// STUB: filled in by the Q6_K implementation; the dispatch in ops/matmul.ts and quant/convert.ts
// already routes Q6_K here.

export function dequantize_row_q6_K(x: usize, y: usize, k: i32): void {
  unreachable();
}

export function vec_dot_q6_K_q8_K(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_q6_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
