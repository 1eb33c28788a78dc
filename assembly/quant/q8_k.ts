// Q8_K — the activation format for the K-quants and IQ4_XS: super-blocks of 256, 292 bytes
// (9.125 bits per value):
//
//   byte 0..3      d          f32 scale
//   byte 4..259    qs[256]    int8                       value[i] = d · qs[i]
//   byte 260..291  bsums[16]  int16, Σ qs over each 16   (lets the weights' mins apply per sub-block)
//
// Quantized as llama.cpp's quantize_row_q8_K_ref, which its x86 build uses: the value of largest
// magnitude (the first one, on ties) sets iscale = -127/max, q = min(127, round-half-even(iscale·x)),
// d = 1/iscale. There is no SIMD version: it runs once per activation row.
import { QK_K } from '../layout';

export const Q8_K_BYTES: i32 = 292;
export const Q8_K_QS: i32 = 4;
export const Q8_K_BSUMS: i32 = 260;

/** llama.cpp's nearest_int: round half to even through the f32 adder */
@inline function nearest_int(v: f32): i32 {
  return <i32>nearest(v);
}

export function quantize_row_q8_K(x: usize, y: usize, k: i32): void {
  const nb = k / QK_K;
  for (let ib = 0; ib < nb; ib++) {
    const xb = x + (<usize>(ib * QK_K) << 2);
    const yb = y + <usize>ib * Q8_K_BYTES;
    let amax: f32 = 0;
    let mx: f32 = 0;
    for (let j = 0; j < QK_K; j++) {
      const v = load<f32>(xb + (<usize>j << 2));
      if (abs(v) > amax) { amax = abs(v); mx = v; }
    }
    if (amax == 0) {
      memory.fill(yb, 0, Q8_K_BYTES);
      continue;
    }
    const iscale: f32 = <f32>-127 / mx;
    for (let j = 0; j < QK_K; j++) {
      store<i8>(yb + Q8_K_QS + j, <i8>min(127, nearest_int(iscale * load<f32>(xb + (<usize>j << 2)))));
    }
    for (let g = 0; g < QK_K / 16; g++) {
      let sum = 0;
      for (let j = 0; j < 16; j++) sum += <i32>load<i8>(yb + Q8_K_QS + g * 16 + j);
      store<i16>(yb + Q8_K_BSUMS + (g << 1), <i16>sum);
    }
    store<f32>(yb, <f32>1 / iscale);
  }
}
