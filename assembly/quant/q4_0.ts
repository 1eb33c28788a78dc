// Q4_0 — block layout: to be documented with the implementation.
// STUB: filled in by the Q4_0 implementation; the dispatch in ops/matmul.ts and quant/convert.ts
// already routes Q4_0 here.

export function dequantize_row_q4_0(x: usize, y: usize, k: i32): void {
  unreachable();
}

export function vec_dot_q4_0_q8_0(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_q4_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
