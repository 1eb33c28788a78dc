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

/** rotate the pair at p by table entry i */
@inline function rotate_pair(p: usize, cache: usize, i: i32): void {
  const c = load<f32>(cache + (<usize>i << 2));
  const s = load<f32>(cache + (<usize>(i + 1) << 2));
  const x0 = load<f32>(p), x1 = load<f32>(p, 4);
  store<f32>(p, x0 * c - x1 * s);
  store<f32>(p, x0 * s + x1 * c, 4);
}

export function rope_norm_generic(x: usize, nHeads: i32, headDim: i32, nDims: i32, cache: usize): void {
  for (let h = 0; h < nHeads; h++) {
    const hp = x + (<usize>(h * headDim) << 2);
    for (let i = 0; i < nDims; i += 2) rotate_pair(hp + (<usize>i << 2), cache, i);
  }
}

/**
 * Two pairs per f32x4: [x0 x1 x2 x3]·[c0 c0 c1 c1] + [x1 x0 x3 x2]·[-s0 s0 -s1 s1].
 * Bit-identical to the generic twin: a + (-b) is exactly a - b and there is no fused multiply-add.
 */
export function rope_norm(x: usize, nHeads: i32, headDim: i32, nDims: i32, cache: usize): void {
  const sign = f32x4(-1, 1, -1, 1);
  for (let h = 0; h < nHeads; h++) {
    const hp = x + (<usize>(h * headDim) << 2);
    let i = 0;
    for (; i + 4 <= nDims; i += 4) {
      const cs = v128.load(cache + (<usize>i << 2)); // c0 s0 c1 s1
      const cos = i32x4.shuffle(cs, cs, 0, 0, 2, 2);
      const sin = f32x4.mul(i32x4.shuffle(cs, cs, 1, 1, 3, 3), sign);
      const p = hp + (<usize>i << 2);
      const v = v128.load(p);
      const swapped = i32x4.shuffle(v, v, 1, 0, 3, 2);
      v128.store(p, f32x4.add(f32x4.mul(v, cos), f32x4.mul(swapped, sin)));
    }
    for (; i < nDims; i += 2) rotate_pair(hp + (<usize>i << 2), cache, i);
  }
}
