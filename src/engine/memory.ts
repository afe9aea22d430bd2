// The engine's heap: one shared WebAssembly memory (so both threads see the same tensors) and a small
// first-fit allocator over it, written here because the kernels never allocate and wasm has no allocator
// of its own without a runtime. Blocks are 64-byte aligned (cache lines, v128 loads); freed blocks are
// coalesced with their neighbours; the memory grows in whole pages when no free block fits.
import { MAX_PAGES, WASM_PAGE } from './wasm.js';

const ALIGN = 64;
export const RESERVED = 64 * 1024;

export class Heap {
  readonly memory: WebAssembly.Memory;
  private top: number;
  /** Free blocks as [start, size], sorted by start. */
  private free: Array<[number, number]> = [];
  private sizes = new Map<number, number>();
  private f32cache: Float32Array;
  private i32cache: Int32Array;
  private u8cache: Uint8Array;
  private used = 0;
  peak = 0;

  constructor(initialBytes = 16 << 20) {
    const pages = Math.ceil(initialBytes / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    // Below RESERVED lie the kernel module's static data (the math library's lookup tables, placed there
    // by the module's data segments) and address 0, which the kernels read as "no pointer".
    this.top = RESERVED;
    this.f32cache = new Float32Array(this.memory.buffer);
    this.i32cache = new Int32Array(this.memory.buffer);
    this.u8cache = new Uint8Array(this.memory.buffer);
  }

  /** Allocates `bytes` bytes (contents unspecified). */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let ptr = -1;
    for (let i = 0; i < this.free.length; i++) {
      const [start, len] = this.free[i]!;
      if (len >= size) {
        ptr = start;
        if (len === size) this.free.splice(i, 1);
        else this.free[i] = [start + size, len - size];
        break;
      }
    }
    if (ptr < 0) {
      ptr = this.top;
      this.top += size;
      this.ensure(this.top);
    }
    this.sizes.set(ptr, size);
    this.used += size;
    this.peak = Math.max(this.peak, this.used);
    return ptr;
  }

  allocF32(n: number): number {
    return this.alloc(n * 4);
  }

  /** Allocates and zero-fills. */
  calloc(bytes: number): number {
    const p = this.alloc(bytes);
    this.u8().fill(0, p, p + bytes);
    return p;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`heap: release of unknown pointer ${ptr} (double free?)`);
    this.sizes.delete(ptr);
    this.used -= size;
    // insert sorted, then merge with neighbours
    let lo = 0,
      hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]![0] < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, [ptr, size]);
    if (lo + 1 < this.free.length && this.free[lo]![0] + this.free[lo]![1] === this.free[lo + 1]![0]) {
      this.free[lo]![1] += this.free[lo + 1]![1];
      this.free.splice(lo + 1, 1);
    }
    if (lo > 0 && this.free[lo - 1]![0] + this.free[lo - 1]![1] === this.free[lo]![0]) {
      this.free[lo - 1]![1] += this.free[lo]![1];
      this.free.splice(lo, 1);
      lo--;
    }
    // a free block at the top goes back to the bump region
    const last = this.free[this.free.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.free.pop();
    }
  }

  get bytesInUse(): number {
    return this.used;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / WASM_PAGE);
    if (have / WASM_PAGE + pages > MAX_PAGES) {
      throw new Error(
        `engine heap: ${(end / 2 ** 30).toFixed(2)} GiB needed, over the 4 GiB wasm32 limit; use a smaller ` +
          `batch or model.`,
      );
    }
    // grow by at least a quarter to keep growth events rare
    this.memory.grow(Math.min(MAX_PAGES - have / WASM_PAGE, Math.max(pages, Math.ceil(have / WASM_PAGE / 4))));
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    if (this.f32cache.buffer.byteLength !== buf.byteLength) {
      this.f32cache = new Float32Array(buf);
      this.i32cache = new Int32Array(buf);
      this.u8cache = new Uint8Array(buf);
    }
  }

  /** A Float32Array over the whole memory (index = byte pointer / 4). Re-fetch after allocating. */
  f32(): Float32Array {
    this.refresh();
    return this.f32cache;
  }

  i32(): Int32Array {
    this.refresh();
    return this.i32cache;
  }

  u8(): Uint8Array {
    this.refresh();
    return this.u8cache;
  }

  /** Copy out n floats at ptr. */
  readF32(ptr: number, n: number): Float32Array {
    return this.f32().slice(ptr >>> 2, (ptr >>> 2) + n);
  }

  writeF32(ptr: number, data: ArrayLike<number>): void {
    this.f32().set(data, ptr >>> 2);
  }

  writeI32(ptr: number, data: ArrayLike<number>): void {
    this.i32().set(data, ptr >>> 2);
  }
}
