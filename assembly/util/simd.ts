// Horizontal reductions and small integer helpers shared by every kernel.

@inline export function hsum_f32x4(v: v128): f32 {
  // ((v0 + v2) + (v1 + v3)): pairwise, like the x86 hadd sequence
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

@inline export function hsum_i32x4(v: v128): i32 {
  const s = i32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1);
}

/** [Σ v0, Σ v1, Σ v2, Σ v3]: the lane sums of four i32x4 side by side (exact) */
@inline export function hsum_i32x4x4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const a = i32x4.add(i32x4.shuffle(v0, v1, 0, 1, 4, 5), i32x4.shuffle(v0, v1, 2, 3, 6, 7));
  const b = i32x4.add(i32x4.shuffle(v2, v3, 0, 1, 4, 5), i32x4.shuffle(v2, v3, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

/** Σ of the four lanes of v, in every lane (exact) */
@inline export function hsum_i32x4_splat(v: v128): v128 {
  const s = i32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return i32x4.add(s, i32x4.shuffle(s, s, 1, 0, 3, 2));
}

/** the even bytes of v sign-extended into i16 lanes (lane k = byte 2k) */
@inline export function even_i8_to_i16(v: v128): v128 {
  return i16x8.shr_s(i16x8.shl(v, 8), 8);
}

/** the odd bytes of v sign-extended into i16 lanes (lane k = byte 2k + 1) */
@inline export function odd_i8_to_i16(v: v128): v128 {
  return i16x8.shr_s(v, 8);
}

/** Σ a[i]·b[i] over 16 signed bytes, as four i32 partial sums. */
@inline export function dot_i8x16(a: v128, b: v128): v128 {
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a), i16x8.extend_low_i8x16_s(b));
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a), i16x8.extend_high_i8x16_s(b));
  return i32x4.add(lo, hi);
}

/** the low 4 bits of each of 16 bytes */
@inline export function nibbles_lo(v: v128): v128 {
  return v128.and(v, i8x16.splat(0x0f));
}

/** the high 4 bits of each of 16 bytes */
@inline export function nibbles_hi(v: v128): v128 {
  return i8x16.shr_u(v, 4);
}

/** 0x0f in every byte (load it once per kernel: V8 would build the constant anew at every use) */
export const NIBBLE_MASK = memory.data<u8>([15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], 16);
