// The kernels compiled for AVX-512F (sixteen lanes), chosen at run time where the CPU and OS support it.
// This file is built with that instruction set enabled (binding.gyp); everything it compiles lives in its
// own namespace and is reached only through the table, after the CPU has been checked (addon.cc).
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "kernels.h"

namespace psrlm_avx512 {
#include "vec_avx512.h"
#include "kernels_all.h"
}  // namespace psrlm_avx512

namespace psrlm {
const KernelTable* table_avx512() {
  namespace k = psrlm_avx512;
  static const KernelTable t = {"avx512", k::W, k::MR, k::PEAK_FMAS, k::kEntries,
                                (int)(sizeof k::kEntries / sizeof k::kEntries[0])};
  return &t;
}
}  // namespace psrlm
