// Causal attention of one query position over the first nKv cached positions, all heads.
//
//   q      [nHead][headDim]             f32, RoPE applied
//   kc     [nKv][nHeadKv·headDim]       K cache rows
//   vt     [nHeadKv·headDim][vtStride]  V cache, transposed (llama.cpp's v_trans layout)
//   out    [nHead][headDim]
//   scores [≥ nKv rounded up to 16]     scratch
//
// Grouped-query attention: query head h reads KV head h / (nHead / nHeadKv).
// The arithmetic follows llama.cpp's non-flash CPU path: kq = K·q per position, then
// soft_max_ext (see softmax_inplace),
// then kqv = Vᵀ·p as a dot product over positions. The probabilities past nKv are zero up to the
// next multiple of 16, so that dot runs over whole 16-lane steps exactly as ggml's padded n_kv does.
import { vec_dot_f32, vec_dot_f32_generic } from '../quant/float_dot';
import { ggml_expf, reduce_add_16 } from '../util/expf';

/**
 * ggml_vec_soft_max_f32 over nPad scores (a multiple of 16; entries past n are masked out):
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

@inline function attention_impl(
  simd: bool, q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32,
): void {
  const group = nHead / nHeadKv;
  const kRowBytes = <usize>kvRowFloats << 2;
  const nPad = (nKv + 15) & ~15;
  for (let h = 0; h < nHead; h++) {
    const qh = q + (<usize>(h * headDim) << 2);
    const kvh = h / group;
    const kOff = <usize>(kvh * headDim) << 2;
    for (let t = 0; t < nKv; t++) {
      const kt = kc + <usize>t * kRowBytes + kOff;
      const d = simd ? vec_dot_f32(headDim, kt, qh) : vec_dot_f32_generic(headDim, kt, qh);
      store<f32>(scores + (<usize>t << 2), d * scale);
    }
    softmax_inplace(scores, nKv, nPad);
    const oh = out + (<usize>(h * headDim) << 2);
    for (let d = 0; d < headDim; d++) {
      const vrow = vt + (<usize>((kvh * headDim + d) * vtStride) << 2);
      store<f32>(oh + (<usize>d << 2), simd ? vec_dot_f32(nPad, vrow, scores) : vec_dot_f32_generic(nPad, vrow, scores));
    }
  }
}

export function attention(
  q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32,
): void {
  attention_impl(true, q, kc, vt, out, scores, nHead, nHeadKv, headDim, nKv, kvRowFloats, vtStride, scale);
}

export function attention_generic(
  q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32,
): void {
  attention_impl(false, q, kc, vt, out, scores, nHead, nHeadKv, headDim, nKv, kvRowFloats, vtStride, scale);
}

/** dst[c][pos0 + r] = src[r][c] for nRows rows of nCols: new V rows into the transposed cache. */
export function store_transposed(src: usize, nRows: i32, nCols: i32, dst: usize, dstStride: i32, pos0: i32): void {
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      store<f32>(dst + (<usize>(c * dstStride + pos0 + r) << 2), load<f32>(src + (<usize>(r * nCols + c) << 2)));
    }
  }
}
