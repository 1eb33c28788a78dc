// The 6-bit sub-block scales and mins of Q4_K / Q5_K (ggml's `get_scale_min_k4`), scalar and as
// one vector, and the mins terms of their dot products with Q8_K (the lane scheme of those dot
// products is util/x86.ts).
import { hsum_i32x4 } from './simd';
import { x86_quads } from './x86';

// ------------------------------------------------------------------------------------------------
// 12 bytes q[0..11] hold 8 scales sc[0..7] and 8 mins m[0..7] of 6 bits each:
//
//   byte 0..3    bits 0-5: sc[0..3]          bits 6-7: bits 4-5 of sc[4..7]
//   byte 4..7    bits 0-5: m[0..3]           bits 6-7: bits 4-5 of m[4..7]
//   byte 8..11   bits 0-3: bits 0-3 of sc[4..7]   bits 4-7: bits 0-3 of m[4..7]

/**
 * ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j (0..7) from the 12 bytes at q,
 * packed as `scale | min << 8` (take them apart with k4_scale / k4_min).
 */
@inline export function get_scale_min_k4(j: i32, q: usize): u32 {
  let sc: u32, m: u32;
  if (j < 4) {
    sc = <u32>load<u8>(q + j) & 63;
    m = <u32>load<u8>(q + j + 4) & 63;
  } else {
    sc = (<u32>load<u8>(q + j + 4) & 0xf) | ((<u32>load<u8>(q + j - 4) >> 6) << 4);
    m = (<u32>load<u8>(q + j + 4) >> 4) | ((<u32>load<u8>(q + j) >> 6) << 4);
  }
  return sc | (m << 8);
}

/** the scale part of a get_scale_min_k4 result */
@inline export function k4_scale(sm: u32): i32 {
  return <i32>(sm & 0xff);
}

/** the min part of a get_scale_min_k4 result */
@inline export function k4_min(sm: u32): i32 {
  return <i32>(sm >> 8);
}

/**
 * All eight scales and mins at once, as 16 bytes: sc[0..7] in bytes 0..7, m[0..7] in bytes 8..15
 * (the byte order of ggml's `utmp` rearrangement). Reads 16 bytes at q (4 past the 12 scale bytes;
 * in Q4_K/Q5_K they are quant bytes of the same block and are masked away).
 */
@inline export function scales_mins_k4(q: usize): v128 {
  const v = v128.load(q); // 32-bit words u0 u1 u2 (u3: not ours)
  const v4 = i32x4.shr_u(v, 4);
  // [u0, u2, u1, u2 >> 4] masked to the 6 low bits (lanes 0, 2) or the low nibbles (lanes 1, 3)
  const lo = v128.and(
    i8x16.shuffle(v, v4, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 24, 25, 26, 27),
    i32x4(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f),
  );
  // bits 6-7 of bytes 0..3 (for sc[4..7]) and 4..7 (for m[4..7]) moved to bits 4-5
  const top = v128.and(
    i32x4.shr_u(i8x16.shuffle(v, v, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7), 2),
    i32x4(0, 0x30303030, 0, 0x30303030),
  );
  return v128.or(lo, top);
}

/** Σ_k bsums[k] · m[k/2] over the 16 int16 bsums of a Q8_K block: the mins term of Q4_K/Q5_K, scalar */
@inline export function mins_dot_k4_generic(q: usize, bsums: usize): i32 {
  let sumi = 0;
  for (let k = 0; k < 16; k++) sumi += <i32>load<i16>(bsums + (k << 1)) * k4_min(get_scale_min_k4(k >> 1, q));
  return sumi;
}

/** mins_dot_k4_generic from the scales_mins_k4 vector, in i32x4 lanes */
@inline export function mins_dot_k4(sm: v128, bsums: usize): i32 {
  const zero = i32x4.splat(0);
  // i16 lanes m0 m0 m1 m1 m2 m2 m3 m3 and m4 m4 … m7 m7
  const mlo = i8x16.shuffle(sm, zero, 8, 16, 8, 16, 9, 16, 9, 16, 10, 16, 10, 16, 11, 16, 11, 16);
  const mhi = i8x16.shuffle(sm, zero, 12, 16, 12, 16, 13, 16, 13, 16, 14, 16, 14, 16, 15, 16, 15, 16);
  return hsum_i32x4(i32x4.add(
    i32x4.dot_i16x8_s(v128.load(bsums), mlo),
    i32x4.dot_i16x8_s(v128.load(bsums, 16), mhi),
  ));
}

/**
 * The four mins lanes of llama.cpp's AVX2 Q4_K kernel, scalar, into lanes[0..3]:
 *   prod[k] = m[2k]·(bsums[4k] + bsums[4k+1]) + m[2k+1]·(bsums[4k+2] + bsums[4k+3])
 * (`_mm_hadd_epi16` of the bsums, then `_mm_madd_epi16` with the mins).
 */
@inline export function mins_lanes_k4_generic(q: usize, bsums: usize, lanes: usize): void {
  for (let k = 0; k < 4; k++) {
    const b = bsums + (<usize>k << 3);
    const s0 = <i32>load<i16>(b) + <i32>load<i16>(b, 2);
    const s1 = <i32>load<i16>(b, 4) + <i32>load<i16>(b, 6);
    store<i32>(lanes + (<usize>k << 2),
      k4_min(get_scale_min_k4(2 * k, q)) * s0 + k4_min(get_scale_min_k4(2 * k + 1, q)) * s1);
  }
}

/** mins_lanes_k4_generic from the scales_mins_k4 vector, as an i32x4 */
@inline export function mins_lanes_k4(sm: v128, bsums: usize): v128 {
  const zero = i32x4.splat(0);
  const mlo = i8x16.shuffle(sm, zero, 8, 16, 8, 16, 9, 16, 9, 16, 10, 16, 10, 16, 11, 16, 11, 16);
  const mhi = i8x16.shuffle(sm, zero, 12, 16, 12, 16, 13, 16, 13, 16, 14, 16, 14, 16, 15, 16, 15, 16);
  // pair lanes m[k/2]·(bsums[2k] + bsums[2k+1]), then neighbours added
  return x86_quads(i32x4.dot_i16x8_s(v128.load(bsums), mlo), i32x4.dot_i16x8_s(v128.load(bsums, 16), mhi));
}

/** sc[j] (byte j of a scales_mins_k4 vector) in every i16 lane */
@inline export function scale_splat_k4(sm: v128, j: i32): v128 {
  return i8x16.swizzle(sm, i16x8.splat(<i16>(0x8000 | j)));
}
