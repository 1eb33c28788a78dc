// RMSNorm as ggml computes it: the mean of squares is summed in double (ggml_float), the scale
// 1/sqrt(mean + eps) is f32, and the weight is applied afterwards as a separate multiply:
//   out[i] = (x[i] · scale) · w[i]

@inline function rms_scale(sumsq: f64, n: i32, eps: f32): f32 {
  const mean = <f32>(sumsq / <f64>n);
  return <f32>1 / sqrt<f32>(mean + eps);
}

export function rms_norm_generic(x: usize, w: usize, out: usize, n: i32, eps: f32): void {
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    sum += <f64>(v * v);
  }
  const scale = rms_scale(sum, n, eps);
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, (load<f32>(x + o) * scale) * load<f32>(w + o));
  }
}

export function rms_norm(x: usize, w: usize, out: usize, n: i32, eps: f32): void {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const sq = f32x4.mul(v, v);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(sq));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(sq, sq, 2, 3, 0, 1)));
  }
  const s = f64x2.add(s0, s1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    sum += <f64>(v * v);
  }
  const scale = f32x4.splat(rms_scale(sum, n, eps));
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    v128.store(out + o, f32x4.mul(f32x4.mul(v128.load(x + o), scale), v128.load(w + o)));
  }
  const sc = f32x4.extract_lane(scale, 0);
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, (load<f32>(x + o) * sc) * load<f32>(w + o));
  }
}
