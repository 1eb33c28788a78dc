// Causal attention of one query position over the first nKv cached positions, all heads.
//
//   q      [nHead][headDim]             f32, RoPE applied
//   kc     [nKv][nHeadKv·headDim]       K cache rows (f32 here; f16 for attention_f16, at the end)
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
import {
  vec_dot_f32, vec_dot_f32_generic, vec_dot_f32_tinyblas, vec_dot_f32_tinyblas_generic,
  vec_dot_f16, vec_dot_f16_generic, vec_dot_f16_tinyblas, vec_dot_f16_tinyblas_generic,
} from '../quant/float_dot';
import { ggml_expf, ggml_expf_x4, reduce_add_16 } from '../util/expf';
import { fp16_to_fp32, fp32_to_fp16 } from '../util/fp16';

/**
 * ggml_vec_soft_max_f32 over nPad scores (a multiple of 32; entries past n are masked out):
 * e = ggml_expf(x - max), summed per 16 lanes in f32 (reduce_add) and across chunks in double,
 * then scaled by f32(1 / sum).
 */
@inline function softmax_inplace(simd: bool, scores: usize, n: i32, nPad: i32): void {
  let mx = -Infinity as f32;
  for (let t = 0; t < n; t++) mx = max(mx, load<f32>(scores + (<usize>t << 2)));
  let t = 0;
  if (simd) { // four at a time by ggml_expf_x4 (the same bits)
    const m = f32x4.splat(mx);
    for (; t + 4 <= n; t += 4) {
      const p = scores + (<usize>t << 2);
      v128.store(p, ggml_expf_x4(f32x4.sub(v128.load(p), m)));
    }
  }
  for (; t < n; t++) {
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

/** One query head `qh` over KV head `kvh` of the first nKv positions into `oh` (headDim values). */
@inline function attend_head(
  simd: bool, qh: usize, kc: usize, vt: usize, oh: usize, scores: usize,
  kvh: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  const kRowBytes = <usize>kvRowFloats << 2;
  const nPad = (nKv + 31) & ~31;
  const kOff = <usize>(kvh * headDim) << 2;
  for (let t = 0; t < nKv; t++) {
    const kt = kc + <usize>t * kRowBytes + kOff;
    const d = dot(simd, false, headDim, kt, qh); // q is a permuted view: ggml skips tinyBLAS
    store<f32>(scores + (<usize>t << 2), d * scale);
  }
  softmax_inplace(simd, scores, nKv, nPad);
  for (let d = 0; d < headDim; d++) {
    const vrow = vt + (<usize>((kvh * headDim + d) * vtStride) << 2);
    store<f32>(oh + (<usize>d << 2), dot(simd, batched, nPad, vrow, scores));
  }
}

@inline function attention_impl(
  simd: bool, q: usize, kc: usize, vt: usize, out: usize, scores: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowFloats: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  const group = nHead / nHeadKv;
  for (let h = 0; h < nHead; h++) {
    const o = <usize>(h * headDim) << 2;
    attend_head(simd, q + o, kc, vt, out + o, scores, h / group, headDim, nKv, kvRowFloats, vtStride, scale, batched);
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

// ---- F16 KV cache ----------------------------------------------------------------------------
//
// The same attention over a cache that holds IEEE halves (2 bytes per value), as llama.cpp's CPU
// backend computes it with type_k = type_v = F16 and no flash attention:
//
// - K and V reach the cache through ggml_cpy (F32 → F16, round to nearest even: store_rows_f16,
//   store_transposed_f16), after RoPE for K, V transposed as in the F32 cache.
// - kq = ggml_mul_mat(k, q): k is F16, whose vec_dot_type is F16, so ggml_compute_forward_mul_mat
//   first converts the (permuted) F32 q rows into a contiguous F16 buffer (wdata). That buffer is
//   contiguous, so its second llamafile_sgemm call gets a chance — unlike the F32 cache, where q stays
//   a permuted view: a batch of ≥ 2 tokens with headDim % 16 == 0 goes to tinyBLAS (F16 × F16, m =
//   n_kv, a multiple of 32), anything else to ggml_vec_dot_f16.
// - softmax exactly as for the F32 cache (softmax_inplace, in f32).
// - kqv = ggml_mul_mat(v, kq): V is the transposed F16 view (rows = head dims, length n_kv), kq the
//   contiguous F32 probabilities. The first llamafile_sgemm call declines (on x86 an F16 A needs an
//   F16 B), kq is converted to F16, and the second call takes a batch to tinyBLAS (k = n_kv padded
//   to 32 passes k % 16; tinyBLAS::matmul also wants m = headDim % 4 == 0), one token to
//   ggml_vec_dot_f16.
// Both operands of every product are f16 values here, which vec_dot_f16 / vec_dot_f16_tinyblas
// (quant/float_dot.ts) take as u16 weights times f32 values already rounded to f16 — the pairing the
// F16 weights use — so q and the probabilities are rounded to f16 (as f32 values) first.

@inline function round_f16(x: f32): f32 {
  return fp16_to_fp32(fp32_to_fp16(x));
}

@inline function dot_f16(simd: bool, tinyblas: bool, n: i32, w: usize, x: usize): f32 {
  if (tinyblas) return simd ? vec_dot_f16_tinyblas(n, w, x) : vec_dot_f16_tinyblas_generic(n, w, x);
  return simd ? vec_dot_f16(n, w, x) : vec_dot_f16_generic(n, w, x);
}

/** attend_head over an F16 cache; qh16: scratch for the head rounded to f16 */
@inline function attend_head_f16(
  simd: bool, qh: usize, kc: usize, vt: usize, oh: usize, scores: usize, qh16: usize,
  kvh: i32, headDim: i32, nKv: i32, kvRowValues: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  const kRowBytes = <usize>kvRowValues << 1;
  const nPad = (nKv + 31) & ~31;
  // tinyBLAS for a batch; vec_dot_f16(_tinyblas) itself falls back to ggml_vec_dot_f16's order when
  // the row length is not a multiple of 16 (tinyBLAS's k % KN gate), as llama.cpp does
  const kqvTinyblas = batched && (headDim & 3) == 0;
  for (let i = 0; i < headDim; i++) store<f32>(qh16 + (<usize>i << 2), round_f16(load<f32>(qh + (<usize>i << 2))));
  const kOff = <usize>(kvh * headDim) << 1;
  for (let t = 0; t < nKv; t++) {
    const kt = kc + <usize>t * kRowBytes + kOff;
    store<f32>(scores + (<usize>t << 2), dot_f16(simd, batched, headDim, kt, qh16) * scale);
  }
  softmax_inplace(simd, scores, nKv, nPad);
  for (let t = 0; t < nKv; t++) {
    const p = scores + (<usize>t << 2);
    store<f32>(p, round_f16(load<f32>(p))); // the zeros past nKv stay zeros
  }
  for (let d = 0; d < headDim; d++) {
    const vrow = vt + (<usize>((kvh * headDim + d) * vtStride) << 1);
    store<f32>(oh + (<usize>d << 2), dot_f16(simd, kqvTinyblas, nPad, vrow, scores));
  }
}

@inline function attention_f16_impl(
  simd: bool, q: usize, kc: usize, vt: usize, out: usize, scores: usize, qh16: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowValues: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  const group = nHead / nHeadKv;
  for (let h = 0; h < nHead; h++) {
    const o = <usize>(h * headDim) << 2;
    attend_head_f16(simd, q + o, kc, vt, out + o, scores, qh16, h / group, headDim, nKv, kvRowValues, vtStride, scale, batched);
  }
}

/**
 * `attention` over an F16 cache: kc [nKv][kvRowValues] and vt [nHeadKv·headDim][vtStride] hold f16
 * bits; qh16 is scratch for headDim f32 values (one query head rounded to f16).
 */
export function attention_f16(
  q: usize, kc: usize, vt: usize, out: usize, scores: usize, qh16: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowValues: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  attention_f16_impl(true, q, kc, vt, out, scores, qh16, nHead, nHeadKv, headDim, nKv, kvRowValues, vtStride, scale, batched);
}

export function attention_f16_generic(
  q: usize, kc: usize, vt: usize, out: usize, scores: usize, qh16: usize,
  nHead: i32, nHeadKv: i32, headDim: i32, nKv: i32, kvRowValues: i32, vtStride: i32, scale: f32, batched: bool,
): void {
  attention_f16_impl(false, q, kc, vt, out, scores, qh16, nHead, nHeadKv, headDim, nKv, kvRowValues, vtStride, scale, batched);
}

/** dst[i] = f16(src[i]) for n values: new K rows into an F16 cache (ggml_cpy F32 → F16, round to nearest even). */
export function store_rows_f16(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>fp32_to_fp16(load<f32>(src + (<usize>i << 2))));
}

/** dst[c][pos0 + r] = f16(src[r][c]) for nRows rows of nCols: new V rows into the transposed F16 cache. */
export function store_transposed_f16(src: usize, nRows: i32, nCols: i32, dst: usize, dstStride: i32, pos0: i32): void {
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      store<u16>(dst + (<usize>(c * dstStride + pos0 + r) << 1), <u16>fp32_to_fp16(load<f32>(src + (<usize>(r * nCols + c) << 2))));
    }
  }
}

// ---- attention as a job of the thread pool (ops/parallel.ts) -------------------------------------
// The items are the (token, query head) pairs of a batch, item i = token i / nHead, head i % nHead;
// token t attends over the first nKv0 + t positions. Each item is attend_head(_f16) as above, so the
// results are attention()'s whichever thread runs it. A thread's scratch is its own: `part` picks a
// slice of the scratch area (the f16 query head, then the scores).
//
// The arguments, as i32 slots at `args` (src/model/attention-job.ts writes them):
export const ATT_Q = 0;           // queries [nTok][qRow floats]
export const ATT_KC = 1;          // K cache
export const ATT_VT = 2;          // V cache, transposed
export const ATT_OUT = 3;         // output [nTok][qRow floats]
export const ATT_SCRATCH = 4;     // scratch of part 0; part p's is at + p · ATT_SCRATCH_BYTES
export const ATT_SCRATCH_BYTES = 5;
export const ATT_N_HEAD = 6;
export const ATT_N_HEAD_KV = 7;
export const ATT_HEAD_DIM = 8;
export const ATT_N_KV0 = 9;       // positions token 0 attends over
export const ATT_KV_ROW = 10;     // K cache row length (floats or halves)
export const ATT_VT_STRIDE = 11;
export const ATT_SCALE = 12;      // f32 bits
export const ATT_BATCHED = 13;    // nonzero: the batch has ≥ 2 tokens (tinyBLAS order for kqv)

@inline function arg(args: usize, slot: i32): i32 {
  return load<i32>(args + (<usize>slot << 2));
}

@inline function attention_items(simd: bool, f16: bool, args: usize, i0: i32, i1: i32, part: i32): void {
  const nHead = arg(args, ATT_N_HEAD), headDim = arg(args, ATT_HEAD_DIM);
  const group = nHead / arg(args, ATT_N_HEAD_KV);
  const qRowBytes = <usize>(nHead * headDim) << 2;
  const scratch = <usize>arg(args, ATT_SCRATCH) + <usize>part * <usize>arg(args, ATT_SCRATCH_BYTES);
  const qh16 = scratch, scores = scratch + (<usize>headDim << 2);
  const kc = <usize>arg(args, ATT_KC), vt = <usize>arg(args, ATT_VT);
  const kvRow = arg(args, ATT_KV_ROW), vtStride = arg(args, ATT_VT_STRIDE), nKv0 = arg(args, ATT_N_KV0);
  const scale = reinterpret<f32>(arg(args, ATT_SCALE)), batched = arg(args, ATT_BATCHED) != 0;
  for (let i = i0; i < i1; i++) {
    const t = i / nHead, h = i % nHead;
    const o = <usize>t * qRowBytes + (<usize>(h * headDim) << 2);
    const qh = <usize>arg(args, ATT_Q) + o, oh = <usize>arg(args, ATT_OUT) + o;
    if (f16) attend_head_f16(simd, qh, kc, vt, oh, scores, qh16, h / group, headDim, nKv0 + t, kvRow, vtStride, scale, batched);
    else attend_head(simd, qh, kc, vt, oh, scores, h / group, headDim, nKv0 + t, kvRow, vtStride, scale, batched);
  }
}

/** job: items i0 … i1 − 1 of a batch's attention over an F32 cache */
export function attention_job(args: usize, i0: i32, i1: i32, part: i32): void { attention_items(true, false, args, i0, i1, part); }
export function attention_job_generic(args: usize, i0: i32, i1: i32, part: i32): void { attention_items(false, false, args, i0, i1, part); }
/** job: the same over an F16 cache */
export function attention_f16_job(args: usize, i0: i32, i1: i32, part: i32): void { attention_items(true, true, args, i0, i1, part); }
export function attention_f16_job_generic(args: usize, i0: i32, i1: i32, part: i32): void { attention_items(false, true, args, i0, i1, part); }
