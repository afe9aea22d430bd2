// What every instruction-set build of the kernels exports: a table of entry points with one signature.
// Arguments arrive as doubles (the JavaScript numbers, unconverted): byte offsets into the engine's heap,
// integers and floats, in the order of the WebAssembly kernels' parameters (src/engine/wasm.ts); `pre`
// of them precede the kernel's range [lo, hi) of its parallel dimension (rows, columns, heads, elements),
// which the thread pool splits. Kernels with no range (pre counts all) ignore lo and hi.
#pragma once
#include <cstdint>

namespace psrlm {

typedef double (*KernelFn)(const double* args, uint8_t* base, int lo, int hi);

struct KernelEntry {
  const char* name;
  KernelFn fn;
  int pre;
};

struct KernelTable {
  const char* isa;
  int lanes;           // floats per vector
  int mr;              // GEMM tile rows: row splits at multiples of it keep tiles whole
  int peak_fmas;       // vector FMAs per trip of peak_fma
  const KernelEntry* entries;
  int count;
};

const KernelTable* table_avx512();
const KernelTable* table_avx2();
const KernelTable* table_avx2x2();

}  // namespace psrlm
