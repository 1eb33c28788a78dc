// An independent IEEE half-precision codec for the tests (written from the format's definition, not
// from the kernels' bit tricks), and the exact helpers it rests on.

/** floor(log2 |a|) exactly, for finite a ≠ 0 */
export function exponentOf(a: number): number {
  a = Math.abs(a);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** v rounded to the nearest integer, ties to even */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** IEEE half bits → number: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-24·m */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** number → IEEE half bits, round to nearest even, overflow → ±Inf, NaN → quiet NaN (what x86 F16C
 *  and ggml_cpy F32 → F16 do) */
export function numberToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal units of 2^-24 (1024 → min normal)
  const e = exponentOf(a);
  if (e > 15) return sign | 0x7c00;
  let m = roundHalfEven((a / 2 ** e) * 1024); // 1024..2048
  let E = e + 15;
  if (m === 2048) { m = 1024; E++; }
  if (E >= 31) return sign | 0x7c00;
  return sign | (E << 10) | (m - 1024);
}

/** x rounded to the nearest half's value */
export const roundToHalf = (x: number): number => halfToNumber(numberToHalf(x));
