// IQ4_NL — block layout: to be documented with the implementation.
// STUB: filled in by the IQ4_NL implementation; the dispatch in ops/matmul.ts and quant/convert.ts
// already routes IQ4_NL here.

export function dequantize_row_iq4_nl(x: usize, y: usize, k: i32): void {
  unreachable();
}

export function vec_dot_iq4_nl_q8_0(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_iq4_nl_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
