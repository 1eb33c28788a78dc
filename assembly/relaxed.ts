// The relaxed-SIMD kernel module (dist/kernels-relaxed.wasm): everything of the SIMD128 module
// (index.ts) plus the kernels that use relaxed-SIMD instructions. A module holding any of them does
// not compile where relaxed SIMD is off (Node 20 without --experimental-wasm-relaxed-simd), so it is
// a module of its own, chosen at load by WebAssembly.validate and a check that its relaxed_madd is
// fused (src/wasm/instance.ts); formats.ts names the kernels it adds (`vecDot4Relaxed`).
export * from './index';
export { vec_dot4_q4_0_q8_0_relaxed, vec_dot4x4_q4_0_q8_0_relaxed } from './quant/q4_0';
export { vec_dot4_q8_0_q8_0_relaxed, vec_dot4x4_q8_0_q8_0_relaxed } from './quant/q8_0';
export { vec_dot4_q4_K_q8_K_relaxed } from './quant/q4_k';
export { vec_dot4_q6_K_q8_K_relaxed } from './quant/q6_k';

/**
 * relaxed_madd on a case where fused and unfused results differ: a = 2^-24·(1 + 2^-23),
 * b = 1 − 2^-23, a·b = 2^-24·(1 − 2^-46) exactly, c = 1 + 2^-23. Fused: the exact sum lies just
 * below the midpoint 1 + 1.5·2^-23, so 1 + 2^-23. Unfused: a·b rounds to 2^-24, the sum is that
 * midpoint, which rounds to even, 1 + 2^-22.
 * True when every lane gave the fused result.
 */
export function relaxed_madd_is_fused(): bool {
  const a = f32x4.splat(reinterpret<f32>(0x33800001)); // 2^-24·(1 + 2^-23)
  const b = f32x4.splat(reinterpret<f32>(0x3f7ffffe)); // 1 − 2^-23
  const c = f32x4.splat(reinterpret<f32>(0x3f800001)); // 1 + 2^-23
  const r = f32x4.relaxed_madd(a, b, c);
  return i32x4.all_true(i32x4.eq(r, i32x4.splat(0x3f800001)));
}
