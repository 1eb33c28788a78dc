// Causal attention of one query position over the first nKv cached positions, all heads.
//
//   q      [nHead][headDim]             f32, RoPE applied
//   kc     [nKv][nHeadKv·headDim]       K cache rows
//   vt     [nHeadKv·headDim][vtStride]  V cache, transposed (llama.cpp's v_trans layout)
//   out    [nHead][headDim]
//   scores [≥ nKv rounded up to 32]     scratch
//
// Grouped-query attention: query head h reads KV head h / (nHead / nHeadKv).
// The arithmetic follows llama.cpp's non-flash CPU path: kq = K·q per position, then
// soft_max_ext (see softmax_inplace), then kqv = Vᵀ·p as a dot product over positions.
// llama.cpp attends over n_kv = the used cells padded to 32 (the rest masked), so the scores past nKv
// are zero up to that multiple of 32 and the Vᵀ·p dot runs over the same length. kq always sums in
// ggml_vec_dot_f32's order: its q operand is a permuted (non-contiguous) view, which llamafile's
// tinyBLAS does not take. kqv is a mul_mat over contiguous probabilities: `batched` (≥ 2 query
// tokens in the ubatch) selects tinyBLAS's order, one token ggml_vec_dot_f32's (quant/float_dot.ts).
import { vec_dot_f32, vec_dot_f32_generic, vec_dot_f32_tinyblas, vec_dot_f32_tinyblas_generic } from '../quant/float_dot';
import { ggml_expf, reduce_add_16 } from '../util/expf';

/**
 * ggml_vec_soft_max_f32 over nPad scores (a multiple of 32; entries past n are masked out):
 * e = ggml_expf(x - max), summed per 16 lanes in f32 (reduce_add) and across chunks in double,
 * then scaled by f32(1 / sum).
 */
@inline function softmax_inplace(scores: usize, n: i32, nPad: i32): void {
  let mx = -Infinity as f32;
  for (let t = 0; t < n; t++) mx = max(mx, load<f32>(scores + (<usize>t << 2)));
  for (let t = 0; t < n; t++) {
    const p = scores + (<usize>t << 2);
    store<f32>(p, ggml_expf(load<f32>(p) - mx));
  }
  for (let t = n; t < nPad; t++) store<f32>(scores + (<usize>t << 2), 0);
  let sum: f64 = 0;
  for (let t = 0; t < nPad; t += 16) sum += <f64>reduce_add_16(scores + (<usize>t << 2));
  const inv = <f32>(1.0 / sum);
  for (let t = 0; t < n; t++) {
    const p = scores + (<usize>t << 2);
    store<f32>(p, load<f32>(p) * inv);
  }
}

@inline function dot(simd: bool, batched: bool, n: i32, a: usize, b: usize): f32 {
  if (batched) return simd ? vec_dot_f32_tinyblas(n, a, b) : vec_dot_f32_tinyblas_generic(n, a, b);
  return simd ? vec_dot_f32(n, a, b) : vec_dot_f32_generic(n, a, b);
}

@inline function attention_impl(
  simd: bool, q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  const group = nHead / nHeadKv;
  const kRowBytes = <usize>kvRowFloats << 2;
  const nPad = (nKv + 31) & ~31;
  for (let h = 0; h < nHead; h++) {
    const qh = q + (<usize>(h * headDim) << 2);
    const kvh = h / group;
    const kOff = <usize>(kvh * headDim) << 2;
    for (let t = 0; t < nKv; t++) {
      const kt = kc + <usize>t * kRowBytes + kOff;
      const d = dot(simd, false, headDim, kt, qh); // q is a permuted view: ggml skips tinyBLAS
      store<f32>(scores + (<usize>t << 2), d * scale);
    }
    softmax_inplace(scores, nKv, nPad);
    const oh = out + (<usize>(h * headDim) << 2);
    for (let d = 0; d < headDim; d++) {
      const vrow = vt + (<usize>((kvh * headDim + d) * vtStride) << 2);
      store<f32>(oh + (<usize>d << 2), dot(simd, batched, nPad, vrow, scores));
    }
  }
}

export function attention(
  q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  attention_impl(true, q, kc, vt, out, scores, nHead, nHeadKv, headDim, nKv, kvRowFloats, vtStride, scale, batched);
}

export function attention_generic(
  q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  attention_impl(false, q, kc, vt, out, scores, nHead, nHeadKv, headDim, nKv, kvRowFloats, vtStride, scale, batched);
}

/** dst[c][pos0 + r] = src[r][c] for nRows rows of nCols: new V rows into the transposed cache. */
export function store_transposed(src: usize, nRows: i32, nCols: i32, dst: usize, dstStride: i32, pos0: i32): void {
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      store<f32>(dst + (<usize>(c * dstStride + pos0 + r) << 2), load<f32>(src + (<usize>(r * nCols + c) << 2)));
    }
  }
}
