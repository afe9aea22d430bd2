// The kernels compiled for sixteen lanes emulated on AVX2 (vec_avx2x2.h): tests the AVX-512 code paths anywhere.
// This file is built with that instruction set enabled (binding.gyp); everything it compiles lives in its
// own namespace and is reached only through the table, after the CPU has been checked (addon.cc).
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "kernels.h"

namespace psrlm_avx2x2 {
#include "vec_avx2x2.h"
#include "kernels_all.h"
}  // namespace psrlm_avx2x2

namespace psrlm {
const KernelTable* table_avx2x2() {
  namespace k = psrlm_avx2x2;
  static const KernelTable t = {"avx2x2", k::W, k::MR, k::PEAK_FMAS, k::kEntries,
                                (int)(sizeof k::kEntries / sizeof k::kEntries[0])};
  return &t;
}
}  // namespace psrlm
