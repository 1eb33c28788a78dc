import { QuantscopeError } from '../errors.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most; V8 allows the full 65536 pages. */
const MAX_PAGES = 65536;

interface FreeBlock { ptr: number; size: number }

/**
 * Regions of the engine's linear memory: weights, activations, KV caches, scratch.
 * A first-fit free list with coalescing, so sessions can be created and disposed repeatedly.
 * Typed-array views must be re-created after any alloc (growth detaches old views): use `f32()`.
 */
export class Arena {
  readonly memory: WebAssembly.Memory;
  private top: number;
  private free: FreeBlock[] = [];
  private sizes = new Map<number, number>();

  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.top = align(base, 64);
  }

  get bytesInUse(): number {
    let f = 0;
    for (const b of this.free) f += b.size;
    return this.top - f;
  }

  /** Allocate `bytes` (64-byte aligned, so v128 loads and cache lines line up). */
  alloc(bytes: number, what = 'buffer'): number {
    const size = align(Math.max(bytes, 1), 64);
    const i = this.free.findIndex((b) => b.size >= size);
    let ptr: number;
    if (i >= 0) {
      const b = this.free[i];
      ptr = b.ptr;
      if (b.size === size) this.free.splice(i, 1);
      else { b.ptr += size; b.size -= size; }
    } else {
      ptr = this.top;
      this.ensure(ptr + size, what);
      this.top = ptr + size;
    }
    this.sizes.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.free.push({ ptr, size });
    this.free.sort((a, b) => a.ptr - b.ptr);
    const merged: FreeBlock[] = [];
    for (const b of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.ptr + last.size === b.ptr) last.size += b.size;
      else merged.push({ ...b });
    }
    const tail = merged[merged.length - 1];
    if (tail && tail.ptr + tail.size === this.top) { this.top = tail.ptr; merged.pop(); }
    this.free = merged;
  }

  bytes(ptr: number, n: number): Uint8Array { return new Uint8Array(this.memory.buffer, ptr, n); }
  f32(ptr: number, n: number): Float32Array { return new Float32Array(this.memory.buffer, ptr, n); }

  private ensure(end: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) {
      throw new QuantscopeError('wasm', `out of WASM memory allocating ${what}: needs ${(end / 2 ** 20).toFixed(1)} MiB, wasm32 allows 4096 MiB`);
    }
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new QuantscopeError('wasm', `could not grow WASM memory to ${(end / 2 ** 20).toFixed(1)} MiB for ${what}`, { cause: e });
    }
  }
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
