// IEEE half precision <-> single precision, exact in both directions (round to nearest even
// on the way down, like x86 F16C `_cvtss_sh(x, 0)` that llama.cpp's CPU path uses).
//
//   f16: s eeeee mmmmmmmmmm   bias 15      f32: s eeeeeeee m(23)   bias 127
//
// f16 → f32 reads the 15 magnitude bits as an f32 whose exponent is biased by 15 instead of 127
// and multiplies by 2^112 to re-bias: exact for normals *and* subnormals, since WASM keeps f32
// denormals. Only Inf/NaN (exponent 31) need a separate path.

const REBIAS: f32 = reinterpret<f32>(0x77800000); // 2^112

@inline export function fp16_to_fp32(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  const em = h & 0x7fff;
  if (em >= 0x7c00) return reinterpret<f32>(sign | 0x7f800000 | ((em & 0x3ff) << 13));
  const mag = reinterpret<f32>(em << 13) * REBIAS;
  return reinterpret<f32>(reinterpret<u32>(mag) | sign);
}

/** 8 halves at `p` → two f32x4 (low four in `lo`, high four returned through `fp16x8_hi`). */
@inline export function fp16x4_to_f32x4(h: v128): v128 {
  // h: four u32 lanes, each holding one half in its low 16 bits
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  const em = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(em, 13);
  const finite = f32x4.mul(shifted, f32x4.splat(REBIAS));
  const special = v128.or(shifted, i32x4.splat(0x7f800000));
  const isSpecial = i32x4.ge_s(em, i32x4.splat(0x7c00));
  return v128.or(v128.bitselect(special, finite, isSpecial), sign);
}

/**
 * fp16x4_to_f32x4 of the halves in i16 lanes 0 … 3 of `h`, in fewer instructions. Sign-extended to
 * i32 and moved up 13 bits, a half's exponent and mantissa land on an f32's, with three copies of
 * the sign above them that a mask clears but for the top one; times 2^112 (a power of two: exact,
 * subnormal halves included) that is the f32 value of a finite half. An Inf or NaN half (exponent
 * 31) takes the f32 exponent 255 instead, by a select rather than a branch, which would split the
 * kernels' straight-line code (and keep V8 from interleaving the tokens of a tile). The constants
 * come from memory, one load each where V8 would build a v128 constant in three instructions.
 */
@inline export function halves4_to_f32x4(h: v128): v128 {
  const e = i32x4.extend_low_i16x8_s(h);
  const bits = v128.and(i32x4.shl(e, 13), v128.load(HALF_CONSTS)); // sign | exponent | mantissa
  const special = i32x4.eq(v128.and(e, v128.load(HALF_CONSTS, 32)), v128.load(HALF_CONSTS, 32));
  return v128.bitselect(v128.or(bits, v128.load(HALF_CONSTS, 48)), f32x4.mul(bits, v128.load(HALF_CONSTS, 16)), special);
}

/** halves4_to_f32x4's constants (i32 lanes): 0x8fffffff, 2^112 (f32), 0x7c00, 0x7f800000 */
const HALF_CONSTS = memory.data<u32>([
  0x8fffffff, 0x8fffffff, 0x8fffffff, 0x8fffffff,
  0x77800000, 0x77800000, 0x77800000, 0x77800000,
  0x00007c00, 0x00007c00, 0x00007c00, 0x00007c00,
  0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000,
], 16);

@inline export function fp16x8_lo(p: usize): v128 {
  return fp16x4_to_f32x4(v128.load16x4_u(p));
}

@inline export function fp16x8_hi(p: usize): v128 {
  return fp16x4_to_f32x4(v128.load16x4_u(p, 8));
}

/** f32 → f16 bits, round to nearest even; overflow → ±Inf, NaN stays NaN. */
export function fp32_to_fp16(f: f32): u32 {
  const bits = reinterpret<u32>(f);
  const sign = (bits >>> 16) & 0x8000;
  const ax = bits & 0x7fffffff;
  if (ax >= 0x47800000) {
    // |f| >= 65536 (or Inf/NaN): NaN keeps a quiet payload, everything else is Inf
    return sign | (ax > 0x7f800000 ? 0x7e00 : 0x7c00);
  }
  if (ax < 0x38800000) {
    // result is an f16 subnormal or zero: let the FPU round by adding 0.5 (2^-1), which lines the
    // f16 subnormal ulp (2^-24) up with the f32 ulp of the sum
    const DENORM_MAGIC: u32 = 126 << 23;
    const sum = reinterpret<f32>(ax) + reinterpret<f32>(DENORM_MAGIC);
    return sign | (reinterpret<u32>(sum) - DENORM_MAGIC);
  }
  // normal: re-bias the exponent, add the rounding bias (half ulp - 1, plus 1 when the kept mantissa is odd)
  const mantOdd = (ax >>> 13) & 1;
  const rounded = ax + (<u32>(15 - 127) << 23) + 0xfff + mantOdd;
  return sign | (rounded >>> 13);
}

// bf16 ("brain float"): the upper 16 bits of an f32 — s eeeeeeee mmmmmmm, bias 127.

/** bf16 bits → f32, exact (the bits become the f32's upper half; NaN payloads are kept). */
@inline export function bf16_to_fp32(h: u32): f32 {
  return reinterpret<f32>(h << 16);
}

/**
 * f32 → bf16 bits as ggml's GGML_FP32_TO_BF16 (ggml_compute_fp32_to_bf16): NaN → (bits >> 16) | 64,
 * i.e. sign and top payload kept and forced quiet; everything else rounds to nearest even on the
 * upper 16 bits, subnormals included (no flush), finite values past the largest bf16 → ±Inf.
 */
@inline export function fp32_to_bf16(f: f32): u32 {
  const u = reinterpret<u32>(f);
  if ((u & 0x7fffffff) > 0x7f800000) return (u >> 16) | 64;
  return (u + 0x7fff + ((u >> 16) & 1)) >> 16;
}
