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
