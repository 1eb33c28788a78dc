import { ggml_expf, ggml_expf_x4, libm_expf } from '../util/expf';
// Element-wise ops over f32 rows: residual add and the SwiGLU product.

export function add_generic(a: usize, b: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function add(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/**
 * out = silu(gate) · up, per row of rowLen values, as llama.cpp's ggml_silu followed by ggml_mul
 * (`ffn_gate_par`): silu(x) = x / (1 + e^-x), with ggml_v_expf for whole 16-value steps of a row
 * and libm's expf for the row's tail, as ggml_vec_silu_f32 does.
 */
export function silu_mul(gate: usize, up: usize, out: usize, rowLen: i32, nRows: i32): void {
  silu_mul_items(true, gate, up, out, rowLen, 0, rowLen * nRows);
}

/** The scalar twin of silu_mul (ggml_expf one value at a time) */
export function silu_mul_generic(gate: usize, up: usize, out: usize, rowLen: i32, nRows: i32): void {
  silu_mul_items(false, gate, up, out, rowLen, 0, rowLen * nRows);
}

/**
 * silu_mul over the values i0 … i1 − 1 of the [nRows][rowLen] arrays; `simd`: four values at a time
 * (ggml_expf_x4) where all four lie in the whole 16-value steps of one row
 */
@inline function silu_mul_items(simd: bool, gate: usize, up: usize, out: usize, rowLen: i32, i0: i32, i1: i32): void {
  const whole = rowLen & ~15;
  for (let i = i0; i < i1;) {
    const o = <usize>i << 2;
    const at = i % rowLen;
    if (simd && at + 4 <= whole && i + 4 <= i1) {
      const g = v128.load(gate + o);
      const e = ggml_expf_x4(f32x4.neg(g));
      v128.store(out + o, f32x4.mul(f32x4.div(g, f32x4.add(f32x4.splat(1), e)), v128.load(up + o)));
      i += 4;
      continue;
    }
    const g = load<f32>(gate + o);
    const e = at < whole ? ggml_expf(-g) : libm_expf(-g);
    store<f32>(out + o, (g / (<f32>1 + e)) * load<f32>(up + o));
    i++;
  }
}

// silu_mul as a job of the thread pool (ops/parallel.ts): items are values; arguments as i32 slots
export const SILU_GATE = 0;
export const SILU_UP = 1;
export const SILU_OUT = 2;
export const SILU_ROW_LEN = 3;

/** job: silu_mul of the values i0 … i1 − 1 (`part` unused: the values are independent) */
export function silu_mul_job(args: usize, i0: i32, i1: i32, part: i32): void {
  silu_mul_items(true, load<u32>(args + SILU_GATE * 4), load<u32>(args + SILU_UP * 4), load<u32>(args + SILU_OUT * 4),
    load<i32>(args + SILU_ROW_LEN * 4), i0, i1);
}

/** silu_mul_job's scalar twin */
export function silu_mul_job_generic(args: usize, i0: i32, i1: i32, part: i32): void {
  silu_mul_items(false, load<u32>(args + SILU_GATE * 4), load<u32>(args + SILU_UP * 4), load<u32>(args + SILU_OUT * 4),
    load<i32>(args + SILU_ROW_LEN * 4), i0, i1);
}
