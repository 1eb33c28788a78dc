// IQ4_XS — block layout: to be documented with the implementation.
// STUB: filled in by the IQ4_XS implementation; the dispatch in ops/matmul.ts and quant/convert.ts
// already routes IQ4_XS here.

export function dequantize_row_iq4_xs(x: usize, y: usize, k: i32): void {
  unreachable();
}

export function vec_dot_iq4_xs_q8_K(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}

export function vec_dot_iq4_xs_q8_K_generic(n: i32, w: usize, x: usize): f32 {
  unreachable();
  return 0;
}
