// The non-linear 4-bit grid shared by IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl): a 4-bit index
// selects one of these int8 values, which then scale like an ordinary quant.
export const KVALUES_IQ4NL = memory.data<i8>([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]);

/** grid value of a 4-bit index (scalar) */
@inline export function iq4_value(index: u32): i32 {
  return <i32>load<i8>(KVALUES_IQ4NL + index);
}

/** grid values of 16 4-bit indices (each byte of `indices` < 16) */
@inline export function iq4_values(indices: v128): v128 {
  return i8x16.swizzle(v128.load(KVALUES_IQ4NL), indices);
}
