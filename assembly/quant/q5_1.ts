// Q5_1 — block layout: to be documented with the implementation.
// STUB: filled in by the Q5_1 implementation; the dispatch in ops/matmul.ts and quant/convert.ts
// already routes Q5_1 here.

export function dequantize_row_q5_1(x: usize, y: usize, k: i32): void {
  unreachable();
}

export function vec_dot_q5_1_q8_1(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_q5_1_q8_1_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
