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
  static const KernelTable t = {"avx2", psrlm_avx2::W, psrlm_avx2::MR, psrlm_avx2::PEAK_FMAS,
                                psrlm_avx2::kEntries, sizeof(psrlm_avx2::kEntries) / sizeof(psrlm_avx2::kEntries[0])};
  return &t;
}
}  // namespace psrlm
