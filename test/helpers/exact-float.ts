// Exact binary arithmetic for the tests' independent checks of the kernels' f32 rounding.

/** a finite double as m·2^e, m a BigInt (exact) */
const f64Buf = new DataView(new ArrayBuffer(8));
export function decompose(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  f64Buf.setFloat64(0, x);
  const hi = f64Buf.getUint32(0), lo = f64Buf.getUint32(4);
  const E = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (E !== 0) m |= 1n << 52n;
  return [hi >>> 31 ? -m : m, (E === 0 ? 1 : E) - 1075];
}
/** the exact value M·2^e rounded to f32, to nearest even (subnormals, overflow to ±Inf) */
export function roundExactToF32(M: bigint, e: number): number {
  const neg = M < 0n;
  let a = neg ? -M : M;
  const top = e + a.toString(2).length - 1;      // exponent of the leading bit
  const q = Math.max(top - 23, -149);            // exponent of the f32 result's last bit
  if (q > e) {
    const sh = BigInt(q - e), half = 1n << (sh - 1n);
    const r = a >> sh, rem = a - (r << sh);
    a = rem > half || (rem === half && (r & 1n) === 1n) ? r + 1n : r;
  } else a <<= BigInt(e - q);
  const v = Number(a) * 2 ** q;
  if (v >= 2 ** 128) return neg ? -Infinity : Infinity;
  return neg ? -v : v;
}
