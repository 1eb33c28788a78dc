import { ggml_expf, libm_expf } from '../util/expf';
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
  silu_mul_items(gate, up, out, rowLen, 0, rowLen * nRows);
}

/** silu_mul over the values i0 … i1 − 1 of the [nRows][rowLen] arrays */
@inline function silu_mul_items(gate: usize, up: usize, out: usize, rowLen: i32, i0: i32, i1: i32): void {
  const whole = rowLen & ~15;
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    const e = i % rowLen < whole ? ggml_expf(-g) : libm_expf(-g);
    store<f32>(out + o, (g / (<f32>1 + e)) * load<f32>(up + o));
  }
}

// silu_mul as a job of the thread pool (ops/parallel.ts): items are values; arguments as i32 slots
export const SILU_GATE = 0;
export const SILU_UP = 1;
export const SILU_OUT = 2;
export const SILU_ROW_LEN = 3;

/** job: silu_mul of the values i0 … i1 − 1 (`part` unused: the values are independent) */
export function silu_mul_job(args: usize, i0: i32, i1: i32, part: i32): void {
  silu_mul_items(load<u32>(args + SILU_GATE * 4), load<u32>(args + SILU_UP * 4), load<u32>(args + SILU_OUT * 4),
    load<i32>(args + SILU_ROW_LEN * 4), i0, i1);
}
