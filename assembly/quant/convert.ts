// Per-type row conversions: activation quantizers (f32 → the activation format a weight type pairs
// with, as ggml's vec_dot_type) and dequantizers (weight row → f32, for embedding lookups and tests).
import {
  GGML_F32, GGML_F16, GGML_BF16, GGML_Q4_0, GGML_Q4_1, GGML_Q5_0, GGML_Q5_1, GGML_Q8_0,
  GGML_Q2_K, GGML_Q3_K, GGML_Q4_K, GGML_Q5_K, GGML_Q6_K, GGML_IQ4_NL, GGML_IQ4_XS,
} from '../layout';
import { dequantize_row_f32 } from './f32';
import { dequantize_row_f16, round_row_f16 } from './f16';
import { dequantize_row_bf16, round_row_bf16 } from './bf16';
import { dequantize_row_q8_0, quantize_row_q8_0, quantize_row_q8_0_generic } from './q8_0';
import { quantize_row_q8_1, quantize_row_q8_1_generic } from './q8_1';
import { quantize_row_q8_K } from './q8_k';
import { dequantize_row_q4_0 } from './q4_0';
import { dequantize_row_q4_1 } from './q4_1';
import { dequantize_row_q5_0 } from './q5_0';
import { dequantize_row_q5_1 } from './q5_1';
import { dequantize_row_q2_K } from './q2_k';
import { dequantize_row_q3_K } from './q3_k';
import { dequantize_row_q4_K } from './q4_k';
import { dequantize_row_q5_K } from './q5_k';
import { dequantize_row_q6_K } from './q6_k';
import { dequantize_row_iq4_nl } from './iq4_nl';
import { dequantize_row_iq4_xs } from './iq4_xs';

/** 1 if the kernels can run weights of this ggml type. */
export function type_supported(type: i32): i32 {
  switch (type) {
    case GGML_F32: case GGML_F16: case GGML_BF16:
    case GGML_Q4_0: case GGML_Q4_1: case GGML_Q5_0: case GGML_Q5_1: case GGML_Q8_0:
    case GGML_Q2_K: case GGML_Q3_K: case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K:
    case GGML_IQ4_NL: case GGML_IQ4_XS:
      return 1;
    default:
      return 0;
  }
}

export function dequantize_row(type: i32, x: usize, y: usize, n: i32): void {
  switch (type) {
    case GGML_F32: dequantize_row_f32(x, y, n); break;
    case GGML_F16: dequantize_row_f16(x, y, n); break;
    case GGML_BF16: dequantize_row_bf16(x, y, n); break;
    case GGML_Q4_0: dequantize_row_q4_0(x, y, n); break;
    case GGML_Q4_1: dequantize_row_q4_1(x, y, n); break;
    case GGML_Q5_0: dequantize_row_q5_0(x, y, n); break;
    case GGML_Q5_1: dequantize_row_q5_1(x, y, n); break;
    case GGML_Q8_0: dequantize_row_q8_0(x, y, n); break;
    case GGML_Q2_K: dequantize_row_q2_K(x, y, n); break;
    case GGML_Q3_K: dequantize_row_q3_K(x, y, n); break;
    case GGML_Q4_K: dequantize_row_q4_K(x, y, n); break;
    case GGML_Q5_K: dequantize_row_q5_K(x, y, n); break;
    case GGML_Q6_K: dequantize_row_q6_K(x, y, n); break;
    case GGML_IQ4_NL: dequantize_row_iq4_nl(x, y, n); break;
    case GGML_IQ4_XS: dequantize_row_iq4_xs(x, y, n); break;
    default: unreachable();
  }
}

/** Convert an f32 activation row to the activation format that weights of `type` pair with. */
@inline function quantize_activation_impl(simd: bool, type: i32, x: usize, y: usize, n: i32): void {
  switch (type) {
    case GGML_F32: memory.copy(y, x, <usize>n << 2); break;
    case GGML_F16: round_row_f16(x, y, n); break;
    case GGML_BF16: round_row_bf16(x, y, n); break;
    case GGML_Q4_0: case GGML_Q5_0: case GGML_Q8_0: case GGML_IQ4_NL:
      if (simd) quantize_row_q8_0(x, y, n); else quantize_row_q8_0_generic(x, y, n);
      break;
    case GGML_Q4_1: case GGML_Q5_1:
      if (simd) quantize_row_q8_1(x, y, n); else quantize_row_q8_1_generic(x, y, n);
      break;
    case GGML_Q2_K: case GGML_Q3_K: case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K: case GGML_IQ4_XS:
      quantize_row_q8_K(x, y, n);
      break;
    default: unreachable();
  }
}

export function quantize_activation(type: i32, x: usize, y: usize, n: i32): void {
  quantize_activation_impl(true, type, x, y, n);
}

export function quantize_activation_generic(type: i32, x: usize, y: usize, n: i32): void {
  quantize_activation_impl(false, type, x, y, n);
}
