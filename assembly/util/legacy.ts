// Pieces shared by ggml's "legacy" 32-value block formats (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL) and the
// Q8_0 / Q8_1 activation blocks they are dotted with.
//
// All of them store a block's 32 weights as 16 bytes of nibbles in the same element order:
//
//   qs[j] & 0x0F  → element j        (j = 0..15)
//   qs[j] >> 4    → element j + 16
//
// so nibbles_lo(qs) holds elements 0..15 and nibbles_hi(qs) elements 16..31, and each half lines up
// with 16 consecutive int8 activations of the Q8 block. The 5-bit formats add a u32 `qh` whose bit j
// is bit 4 of element j.
//
// The integer part of every block dot (Σ q_w·q_x over 32 values) is exact in i32 in any order
// (|Σ| ≤ 32·128·128 = 2^19), so the SIMD kernels may sum it lane-wise; only the float part, one
// scalar expression per block added to the running sum in block order, fixes the result's bits.
import { dot_i8x16, hsum_i32x4 } from './simd';

/** values per block, for every format in this family and for Q8_0 / Q8_1 */
export const QK: i32 = 32;

/** byte offset of block `ib` in a row of `bytes`-sized blocks */
@inline export function block_at(p: usize, ib: i32, bytes: i32): usize {
  return p + <usize>ib * bytes;
}

/** the f16 bits at p (scales d, m, s are all stored this way) */
@inline export function half_at(p: usize): u32 {
  return <u32>load<u16>(p);
}

/** the 4 bytes of qh at p as one little-endian u32 (bit j = bit 4 of element j); p may be unaligned */
@inline export function qh_at(p: usize): u32 {
  return load<u32>(p);
}

/** low nibble of qs[j]: element j (scalar) */
@inline export function nib_lo(qs: usize, j: i32): i32 {
  return <i32>(load<u8>(qs + j) & 0x0f);
}

/** high nibble of qs[j]: element j + 16 (scalar) */
@inline export function nib_hi(qs: usize, j: i32): i32 {
  return <i32>(load<u8>(qs + j) >> 4);
}

/** bit 4 of element j (0 or 16) of a 5-bit block, element j in 0..31 */
@inline export function high_bit(qh: u32, j: i32): i32 {
  return <i32>((qh >> j) & 1) << 4;
}

/**
 * Sixteen bytes, byte i = 0x10 if bit i of `bits` (a 16-bit field) is set, else 0: the bit-4 planes of
 * 16 consecutive elements of a 5-bit block (bits = qh & 0xffff for elements 0..15, qh >> 16 for 16..31).
 */
@inline export function high_bits_16(bits: u32): v128 {
  // bytes 0..7 copy the field's low byte, bytes 8..15 its high byte; lane i then tests bit i % 8
  const spread = i8x16.shuffle(i32x4.splat(bits), i32x4.splat(bits), 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const mask = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return v128.and(i8x16.eq(v128.and(spread, mask), mask), i8x16.splat(0x10));
}

/**
 * Σ w[i]·x[i] over a block's 32 values: `lo` and `hi` hold the weights of elements 0..15 and 16..31
 * as int8 lanes, `xq` points at the 32 int8 activation quants. Exact.
 */
@inline export function block_dot_i8(lo: v128, hi: v128, xq: usize): i32 {
  return hsum_i32x4(i32x4.add(dot_i8x16(lo, v128.load(xq)), dot_i8x16(hi, v128.load(xq, 16))));
}
