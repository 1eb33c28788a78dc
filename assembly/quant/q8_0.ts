// Q8_0 — blocks of 32 weights, 34 bytes, 8.5 bits per weight (ggml `block_q8_0`):
//
//   byte 0..1   d      f16 scale
//   byte 2..33  qs[32] int8 quants            value[i] = d · qs[i]
//
// Q8_0 is also the activation format for Q8_0 weights: llama.cpp quantizes each activation row to
// Q8_0 blocks (x86 path: d = amax/127, q = round-half-even(x · 127/amax)) and takes an integer dot
// product per block, scaled by d_w·d_x in f32.
import { fp16_to_fp32, fp32_to_fp16 } from '../util/fp16';
import { dot_i8x16, hsum_i32x4 } from '../util/simd';

export const QK8_0: i32 = 32;
export const Q8_0_BYTES: i32 = 34;

@inline function block(p: usize, ib: i32): usize {
  return p + <usize>ib * Q8_0_BYTES;
}

/** stores d = f16(amax/127) at dp and returns the multiplier 127/amax, as llama.cpp's x86 quantizer */
@inline function q8_scale(amax: f32, dp: usize): f32 {
  store<u16>(dp, <u16>fp32_to_fp16(amax / 127));
  return amax != 0 ? <f32>127 / amax : 0;
}

/**
 * One block of 32 activations → f16 d at `dp` and 32 int8 quants at `qp` (llama.cpp's x86
 * quantizer); returns the f32 d before rounding (Q8_1 needs it for its sum).
 */
export function quantize_block_q8_generic(xb: usize, dp: usize, qp: usize): f32 {
  let amax: f32 = 0;
  for (let j = 0; j < QK8_0; j++) amax = max(amax, abs(load<f32>(xb + (<usize>j << 2))));
  const id = q8_scale(amax, dp);
  for (let j = 0; j < QK8_0; j++) store<i8>(qp + j, saturate_i8(nearest(load<f32>(xb + (<usize>j << 2)) * id)));
  return amax / 127;
}

export function quantize_row_q8_0_generic(x: usize, y: usize, k: i32): void {
  const nb = k / QK8_0;
  for (let ib = 0; ib < nb; ib++) {
    const yb = block(y, ib);
    quantize_block_q8_generic(x + (<usize>(ib * QK8_0) << 2), yb, yb + 2);
  }
}

/** The SIMD twin of quantize_block_q8_generic (same bytes). */
@inline export function quantize_block_q8(xb: usize, dp: usize, qp: usize): f32 {
  const v0 = v128.load(xb), v1 = v128.load(xb, 16), v2 = v128.load(xb, 32), v3 = v128.load(xb, 48);
  const v4 = v128.load(xb, 64), v5 = v128.load(xb, 80), v6 = v128.load(xb, 96), v7 = v128.load(xb, 112);
  let m = f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3)));
  m = f32x4.max(m, f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))));
  const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  const id = f32x4.splat(q8_scale(amax, dp));
  v128.store(qp, quantize_16(v0, v1, v2, v3, id));
  v128.store(qp + 16, quantize_16(v4, v5, v6, v7, id));
  return amax / 127;
}

export function quantize_row_q8_0(x: usize, y: usize, k: i32): void {
  const nb = k / QK8_0;
  for (let ib = 0; ib < nb; ib++) {
    const yb = block(y, ib);
    quantize_block_q8(x + (<usize>(ib * QK8_0) << 2), yb, yb + 2);
  }
}

/**
 * A rounded quant into int8 as the SIMD path's trunc_sat + narrow does it: NaN → 0, out of range
 * saturates. Only reachable when 127/amax overflows (amax < 4e-37), where the block scale is 0 anyway.
 */
@inline function saturate_i8(v: f32): i8 {
  if (v != v) return 0;
  return <i8><i32>min(max(v, <f32>-128), <f32>127);
}

/** round-half-even(v · id) for 16 floats, saturated into 16 int8 lanes. */
@inline function quantize_16(a: v128, b: v128, c: v128, d: v128, id: v128): v128 {
  const ia = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, id)));
  const ib = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(b, id)));
  const ic = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(c, id)));
  const idd = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(d, id)));
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(ia, ib), i16x8.narrow_i32x4_s(ic, idd));
}

export function dequantize_row_q8_0(x: usize, y: usize, k: i32): void {
  const nb = k / QK8_0;
  for (let ib = 0; ib < nb; ib++) {
    const xb = block(x, ib);
    const d = fp16_to_fp32(load<u16>(xb));
    for (let j = 0; j < QK8_0; j++) store<f32>(y + (<usize>(ib * QK8_0 + j) << 2), d * <f32>load<i8>(xb + 2 + j));
  }
}

/** Σ over blocks of f32(Σ qw·qx) · (d_w·d_x). */
export function vec_dot_q8_0_q8_0_generic(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK8_0;
  let sum: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = block(x, ib);
    let sumi: i32 = 0;
    for (let j = 0; j < QK8_0; j++) sumi += <i32>load<i8>(wb + 2 + j) * <i32>load<i8>(xb + 2 + j);
    sum += <f32>sumi * (fp16_to_fp32(load<u16>(wb)) * fp16_to_fp32(load<u16>(xb)));
  }
  return sum;
}

/** Same sums as the generic twin: the integer part in i32x4 lanes, the float part in block order. */
export function vec_dot_q8_0_q8_0(n: i32, w: usize, x: usize): f32 {
  const nb = n / QK8_0;
  let sum: f32 = 0;
  for (let ib = 0; ib < nb; ib++) {
    const wb = block(w, ib), xb = block(x, ib);
    const acc = i32x4.add(
      dot_i8x16(v128.load(wb + 2), v128.load(xb + 2)),
      dot_i8x16(v128.load(wb + 18), v128.load(xb + 18)),
    );
    sum += <f32>hsum_i32x4(acc) * (fp16_to_fp32(load<u16>(wb)) * fp16_to_fp32(load<u16>(xb)));
  }
  return sum;
}
