// Per-type row conversions: activation quantizers (f32 → the weight's activation format) and
// dequantizers (weight row → f32, used for embedding lookups and tests).
import { GGML_F32, GGML_F16, GGML_Q8_0 } from '../layout';
import { dequantize_row_f32 } from './f32';
import { dequantize_row_f16, round_row_f16 } from './f16';
import { dequantize_row_q8_0, quantize_row_q8_0, quantize_row_q8_0_generic } from './q8_0';

/** 1 if the kernels can run weights of this ggml type. */
export function type_supported(type: i32): i32 {
  return i32(type == GGML_F32 || type == GGML_F16 || type == GGML_Q8_0);
}

export function dequantize_row(type: i32, x: usize, y: usize, n: i32): void {
  switch (type) {
    case GGML_F32: dequantize_row_f32(x, y, n); break;
    case GGML_F16: dequantize_row_f16(x, y, n); break;
    case GGML_Q8_0: dequantize_row_q8_0(x, y, n); break;
    default: unreachable();
  }
}

/** Convert an f32 activation row to the activation format that weights of `type` pair with. */
@inline function quantize_activation_impl(simd: bool, type: i32, x: usize, y: usize, n: i32): void {
  switch (type) {
    case GGML_F32: memory.copy(y, x, <usize>n << 2); break;
    case GGML_F16: round_row_f16(x, y, n); break;
    case GGML_Q8_0: if (simd) quantize_row_q8_0(x, y, n); else quantize_row_q8_0_generic(x, y, n); break;
    default: unreachable();
  }
}

export function quantize_activation(type: i32, x: usize, y: usize, n: i32): void {
  quantize_activation_impl(true, type, x, y, n);
}

export function quantize_activation_generic(type: i32, x: usize, y: usize, n: i32): void {
  quantize_activation_impl(false, type, x, y, n);
}
