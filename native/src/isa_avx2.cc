// The kernels compiled for AVX2 + FMA (eight lanes): every x86-64 CPU since Haswell and Zen.
// This file is built with that instruction set enabled (binding.gyp); everything it compiles lives in its
// own namespace and is reached only through the table, after the CPU has been checked (addon.cc).
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "kernels.h"

namespace psrlm_avx2 {
#include "vec_avx2.h"
#include "kernels_all.h"
}  // namespace psrlm_avx2

namespace psrlm {
const KernelTable* table_avx2() {
  namespace k = psrlm_avx2;
  static const KernelTable t = {"avx2", k::W, k::MR, k::PEAK_FMAS, k::kEntries,
                                (int)(sizeof k::kEntries / sizeof k::kEntries[0])};
  return &t;
}
}  // namespace psrlm
