// Q8_1 — the activation format for Q4_1 and Q5_1 weights: blocks of 32, 36 bytes (9 bits per value):
//
//   byte 0..1   d      f16 scale
//   byte 2..3   s      f16, d · Σ qs (lets the weight's offset m be applied as m·s)
//   byte 4..35  qs[32] int8                value[i] = d · qs[i]
//
// Quantized as llama.cpp's x86 quantize_row_q8_1: like Q8_0 (d = amax/127, q = round-half-even(x·127/amax)),
// and s = f16(d · Σq) with the f32 d before its rounding to f16.
import { fp32_to_fp16 } from '../util/fp16';
import { quantize_block_q8, quantize_block_q8_generic } from './q8_0';

export const QK8_1: i32 = 32;
export const Q8_1_BYTES: i32 = 36;

@inline function quantize_row_impl(simd: bool, x: usize, y: usize, k: i32): void {
  const nb = k / QK8_1;
  for (let ib = 0; ib < nb; ib++) {
    const yb = y + <usize>ib * Q8_1_BYTES;
    const xb = x + (<usize>(ib * QK8_1) << 2);
    const d = simd ? quantize_block_q8(xb, yb, yb + 4) : quantize_block_q8_generic(xb, yb, yb + 4);
    let sum = 0;
    for (let j = 0; j < QK8_1; j++) sum += <i32>load<i8>(yb + 4 + j);
    store<u16>(yb + 2, <u16>fp32_to_fp16(d * <f32>sum));
  }
}

export function quantize_row_q8_1(x: usize, y: usize, k: i32): void { quantize_row_impl(true, x, y, k); }
export function quantize_row_q8_1_generic(x: usize, y: usize, k: i32): void { quantize_row_impl(false, x, y, k); }
