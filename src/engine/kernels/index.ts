// The engine's hot kernels, in AssemblyScript, compiled to one WebAssembly module with 128-bit SIMD and
// relaxed-SIMD fused multiply-add (scripts/build-kernels.mjs). Every kernel works on raw pointers into
// the shared linear memory and takes a half-open range [start, end) of its natural parallel dimension
// (rows, columns, heads, elements), so the thread pool (src/engine/threads.ts) can split any call
// between the two cores without the kernel knowing about threads. Nothing here allocates.
//
// Numerics: every output element's reduction runs in one fixed order whatever the range split or the
// number of rows in the call, so a row's result never depends on its neighbours. That is what makes
// KV-cache decoding, prefix sharing and batching bit-identical to a full recompute (docs/engine.md).

export * from './matmul';
export * from './norm';
export * from './attention';
export * from './loss';
export * from './elementwise';

// End of the module's static data (the math library's lookup tables live below it); the JavaScript
// heap starts above this.
export function heap_base(): usize {
  return __heap_base;
}
