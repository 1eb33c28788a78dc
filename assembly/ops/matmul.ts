// out[t][r] = dot(w row r, x token t) for rows r0..r1 and nTok activation rows.
// The weight row is the outer loop so each row, once pulled from memory, serves every token of a
// batch. `x` holds the activations already converted to the weight type's activation format
// (see formats in src/quant/formats.ts): F32 and F16-rounded f32 rows, or Q8_0 blocks.
import { vec_dot_f32, vec_dot_f32_generic, vec_dot_f16, vec_dot_f16_generic } from '../quant/float_dot';
import { vec_dot_bf16, vec_dot_bf16_generic } from '../quant/bf16';
import { vec_dot_q4_0_q8_0, vec_dot_q4_0_q8_0_generic } from '../quant/q4_0';
import { vec_dot_q4_1_q8_1, vec_dot_q4_1_q8_1_generic } from '../quant/q4_1';
import { vec_dot_q5_0_q8_0, vec_dot_q5_0_q8_0_generic } from '../quant/q5_0';
import { vec_dot_q5_1_q8_1, vec_dot_q5_1_q8_1_generic } from '../quant/q5_1';
import { vec_dot_q8_0_q8_0, vec_dot_q8_0_q8_0_generic } from '../quant/q8_0';
import { vec_dot_q2_K_q8_K, vec_dot_q2_K_q8_K_generic } from '../quant/q2_k';
import { vec_dot_q3_K_q8_K, vec_dot_q3_K_q8_K_generic } from '../quant/q3_k';
import { vec_dot_q4_K_q8_K, vec_dot_q4_K_q8_K_generic } from '../quant/q4_k';
import { vec_dot_q5_K_q8_K, vec_dot_q5_K_q8_K_generic } from '../quant/q5_k';
import { vec_dot_q6_K_q8_K, vec_dot_q6_K_q8_K_generic } from '../quant/q6_k';
import { vec_dot_iq4_nl_q8_0, vec_dot_iq4_nl_q8_0_generic } from '../quant/iq4_nl';
import { vec_dot_iq4_xs_q8_K, vec_dot_iq4_xs_q8_K_generic } from '../quant/iq4_xs';
import {
  GGML_F32, GGML_F16, GGML_BF16, GGML_Q4_0, GGML_Q4_1, GGML_Q5_0, GGML_Q5_1, GGML_Q8_0,
  GGML_Q2_K, GGML_Q3_K, GGML_Q4_K, GGML_Q5_K, GGML_Q6_K, GGML_IQ4_NL, GGML_IQ4_XS,
} from '../layout';

/** weight row · activation row, by weight type (the activation is already in that type's format) */
@inline function vec_dot(type: i32, simd: bool, n: i32, w: usize, x: usize): f32 {
  switch (type) {
    case GGML_F32: return simd ? vec_dot_f32(n, w, x) : vec_dot_f32_generic(n, w, x);
    case GGML_F16: return simd ? vec_dot_f16(n, w, x) : vec_dot_f16_generic(n, w, x);
    case GGML_BF16: return simd ? vec_dot_bf16(n, w, x) : vec_dot_bf16_generic(n, w, x);
    case GGML_Q4_0: return simd ? vec_dot_q4_0_q8_0(n, w, x) : vec_dot_q4_0_q8_0_generic(n, w, x);
    case GGML_Q4_1: return simd ? vec_dot_q4_1_q8_1(n, w, x) : vec_dot_q4_1_q8_1_generic(n, w, x);
    case GGML_Q5_0: return simd ? vec_dot_q5_0_q8_0(n, w, x) : vec_dot_q5_0_q8_0_generic(n, w, x);
    case GGML_Q5_1: return simd ? vec_dot_q5_1_q8_1(n, w, x) : vec_dot_q5_1_q8_1_generic(n, w, x);
    case GGML_Q8_0: return simd ? vec_dot_q8_0_q8_0(n, w, x) : vec_dot_q8_0_q8_0_generic(n, w, x);
    case GGML_Q2_K: return simd ? vec_dot_q2_K_q8_K(n, w, x) : vec_dot_q2_K_q8_K_generic(n, w, x);
    case GGML_Q3_K: return simd ? vec_dot_q3_K_q8_K(n, w, x) : vec_dot_q3_K_q8_K_generic(n, w, x);
    case GGML_Q4_K: return simd ? vec_dot_q4_K_q8_K(n, w, x) : vec_dot_q4_K_q8_K_generic(n, w, x);
    case GGML_Q5_K: return simd ? vec_dot_q5_K_q8_K(n, w, x) : vec_dot_q5_K_q8_K_generic(n, w, x);
    case GGML_Q6_K: return simd ? vec_dot_q6_K_q8_K(n, w, x) : vec_dot_q6_K_q8_K_generic(n, w, x);
    case GGML_IQ4_NL: return simd ? vec_dot_iq4_nl_q8_0(n, w, x) : vec_dot_iq4_nl_q8_0_generic(n, w, x);
    case GGML_IQ4_XS: return simd ? vec_dot_iq4_xs_q8_K(n, w, x) : vec_dot_iq4_xs_q8_K_generic(n, w, x);
    default: unreachable(); return 0;
  }
}

@inline function mul_mat_impl(
  simd: bool, type: i32, w: usize, wRowBytes: i32, x: usize, xRowBytes: i32,
  out: usize, outRowFloats: i32, r0: i32, r1: i32, cols: i32, nTok: i32,
): void {
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * wRowBytes;
    for (let t = 0; t < nTok; t++) {
      const v = vec_dot(type, simd, cols, wr, x + <usize>t * xRowBytes);
      store<f32>(out + ((<usize>t * outRowFloats + r) << 2), v);
    }
  }
}

export function mul_mat(
  type: i32, w: usize, wRowBytes: i32, x: usize, xRowBytes: i32,
  out: usize, outRowFloats: i32, r0: i32, r1: i32, cols: i32, nTok: i32,
): void {
  mul_mat_impl(true, type, w, wRowBytes, x, xRowBytes, out, outRowFloats, r0, r1, cols, nTok);
}

export function mul_mat_generic(
  type: i32, w: usize, wRowBytes: i32, x: usize, xRowBytes: i32,
  out: usize, outRowFloats: i32, r0: i32, r1: i32, cols: i32, nTok: i32,
): void {
  mul_mat_impl(false, type, w, wRowBytes, x, xRowBytes, out, outRowFloats, r0, r1, cols, nTok);
}

/** Single-row dot product through the same dispatch (tests and the kernel bench use it). */
export function vec_dot_row(type: i32, n: i32, w: usize, x: usize): f32 {
  return vec_dot(type, true, n, w, x);
}

export function vec_dot_row_generic(type: i32, n: i32, w: usize, x: usize): f32 {
  return vec_dot(type, false, n, w, x);
}
