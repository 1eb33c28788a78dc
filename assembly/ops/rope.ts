import { fma32, fma_f32x4 } from '../util/fma';

// RoPE, llama.cpp "normal" mode (GGML_ROPE_TYPE_NORM): rotate adjacent pairs (x[2i], x[2i+1]) of
// the first nDims values of every head by theta_i = pos · base^(-2i/nDims); values past nDims are
// left alone.
//
// The cos/sin table is built the way ggml_rope_cache_init does it so the angles match bit for bit:
// theta_scale = powf(base, -2/nDims) in f32, theta starts at pos and is multiplied by theta_scale
// once per pair (f32), then cos/sin of (freqScale · theta).
// Table layout: cache[2i] = cos, cache[2i+1] = sin, for i < nDims/2.

export function rope_cache(cache: usize, pos: i32, nDims: i32, freqBase: f32, freqScale: f32): void {
  const exponent: f32 = <f32>-2 / <f32>nDims;
  const thetaScale = <f32>Math.pow(<f64>freqBase, <f64>exponent);
  let theta = <f32>pos;
  for (let i = 0; i < nDims; i += 2) {
    const t = freqScale * theta;
    store<f32>(cache + (<usize>i << 2), <f32>Math.cos(<f64>t));
    store<f32>(cache + (<usize>(i + 1) << 2), <f32>Math.sin(<f64>t));
    theta *= thetaScale;
  }
}

/**
 * rotate the pair at p by table entry i: ggml's `x0*cos - x1*sin`, `x0*sin + x1*cos` as GCC
 * compiles them (-ffp-contract=fast): the first product fused into the sum, fma(x0, c, -(x1·s)) and
 * fma(x0, s, x1·c)
 */
@inline function rotate_pair(p: usize, cache: usize, i: i32): void {
  const c = load<f32>(cache + (<usize>i << 2));
  const s = load<f32>(cache + (<usize>(i + 1) << 2));
  const x0 = load<f32>(p), x1 = load<f32>(p, 4);
  store<f32>(p, fma32(x0, c, -(x1 * s)));
  store<f32>(p, fma32(x0, s, x1 * c), 4);
}

export function rope_norm_generic(x: usize, nHeads: i32, headDim: i32, nDims: i32, cache: usize): void {
  for (let h = 0; h < nHeads; h++) {
    const hp = x + (<usize>(h * headDim) << 2);
    for (let i = 0; i < nDims; i += 2) rotate_pair(hp + (<usize>i << 2), cache, i);
  }
}

/**
 * Two pairs per f32x4: fma([x0 x0 x2 x2], [c0 s0 c1 s1], [x1 x1 x3 x3]·[-s0 c0 -s1 c1]) — the
 * same fused operations as rotate_pair, so bit-identical to the generic twin.
 */
export function rope_norm(x: usize, nHeads: i32, headDim: i32, nDims: i32, cache: usize): void {
  const sign = f32x4(-1, 1, -1, 1);
  for (let h = 0; h < nHeads; h++) {
    const hp = x + (<usize>(h * headDim) << 2);
    let i = 0;
    for (; i + 4 <= nDims; i += 4) {
      const cs = v128.load(cache + (<usize>i << 2));                       // c0 s0 c1 s1
      const p = hp + (<usize>i << 2);
      const v = v128.load(p);                                               // x0 x1 x2 x3
      const first = i32x4.shuffle(v, v, 0, 0, 2, 2);                        // x0 x0 x2 x2
      const second = i32x4.shuffle(v, v, 1, 1, 3, 3);                       // x1 x1 x3 x3
      const other = f32x4.mul(i32x4.shuffle(cs, cs, 1, 0, 3, 2), sign);     // -s0 c0 -s1 c1
      v128.store(p, fma_f32x4(first, cs, f32x4.mul(second, other)));
    }
    for (; i < nDims; i += 2) rotate_pair(hp + (<usize>i << 2), cache, i);
  }
}
