// F16 weights: IEEE half, 2 bytes per value, 16 bits per weight.
//
// Activation format "F16": llama.cpp rounds the activation row to f16 (vec_dot_type = F16) and its
// x86 dot converts both sides back to f32 before multiplying. We keep the activation as f32 values
// already rounded to f16 (`round_row_f16`), which gives the same products without converting the
// activation again for every weight row. The dot product itself is in float_dot.ts.
import { fp16_to_fp32, fp32_to_fp16 } from '../util/fp16';

/** y[i] = f32(f16(x[i])): the activation as llama.cpp's F16 dot sees it. */
export function round_row_f16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, fp16_to_fp32(fp32_to_fp16(load<f32>(x + o))));
  }
}

export function dequantize_row_f16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), fp16_to_fp32(load<u16>(x + (<usize>i << 1))));
}
