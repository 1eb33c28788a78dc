// Q3_K — block layout: to be documented with the implementation.
// STUB: filled in by the Q3_K implementation; the dispatch in ops/matmul.ts and quant/convert.ts
// already routes Q3_K here.

export function dequantize_row_q3_K(x: usize, y: usize, k: i32): void {
  unreachable();
}

export function vec_dot_q3_K_q8_K(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_q3_K_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
