// F32 weights: 4 bytes per value, 32 bits per weight. Activation format: F32.
// The dot product lives in float_dot.ts (shared with F16, which differs only in the weight load).

export function dequantize_row_f32(x: usize, y: usize, n: i32): void {
  memory.copy(y, x, <usize>n << 2);
}
