// The vector layer for AVX2 + FMA: eight float lanes in a ymm register. The kernels (kernels_*.h) are
// written once against this small set of operations and compiled once per instruction set, each copy in
// its own namespace (isa_*.cc), so the same source runs at 8 lanes here and at 16 under AVX-512.
// Included inside that namespace, after <immintrin.h>; every function is static inline so no symbol
// compiled for one instruction set can be picked by the linker for another.

struct V {
  __m256 v;
};

static constexpr int W = 8;
// Register tile of the GEMM: MR rows x 2 vectors of columns (6 x 16: 12 accumulators, 2 B vectors and
// one broadcast fill the 16 ymm registers). KC: reduction block, so a packed B panel (KC x 16 floats,
// 16 KiB) stays in L1 while every row tile of A streams past it.
static constexpr int MR = 6;
static constexpr int KC = 256;

alignas(32) static const int32_t kLaneMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

static inline __m256i mask_n(int n) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMask + 8 - n)); }

static inline V vzero() { return {_mm256_setzero_ps()}; }
static inline V vset(float x) { return {_mm256_set1_ps(x)}; }
static inline V vload(const float* p) { return {_mm256_loadu_ps(p)}; }
static inline void vstore(float* p, V a) { _mm256_storeu_ps(p, a.v); }
static inline V vbcast(const float* p) { return {_mm256_broadcast_ss(p)}; }
// The first n lanes (0 <= n <= W) from memory, the rest zero; lanes past n are never touched in memory.
static inline V vloadn(const float* p, int n) {
  if (n >= W) return vload(p);
  return {_mm256_maskload_ps(p, mask_n(n > 0 ? n : 0))};
}
static inline void vstoren(float* p, V a, int n) {
  if (n >= W) { vstore(p, a); return; }
  if (n > 0) _mm256_maskstore_ps(p, mask_n(n), a.v);
}
// Lanes at or past n replaced by `fill`.
static inline V vkeepn(V a, int n, float fill) {
  if (n >= W) return a;
  return {_mm256_blendv_ps(_mm256_set1_ps(fill), a.v, _mm256_castsi256_ps(mask_n(n > 0 ? n : 0)))};
}

static inline V vadd(V a, V b) { return {_mm256_add_ps(a.v, b.v)}; }
static inline V vsub(V a, V b) { return {_mm256_sub_ps(a.v, b.v)}; }
static inline V vmul(V a, V b) { return {_mm256_mul_ps(a.v, b.v)}; }
static inline V vdiv(V a, V b) { return {_mm256_div_ps(a.v, b.v)}; }
static inline V vmax(V a, V b) { return {_mm256_max_ps(a.v, b.v)}; }
static inline V vmin(V a, V b) { return {_mm256_min_ps(a.v, b.v)}; }
// a * b + c, rounded once
static inline V vfma(V a, V b, V c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
static inline V vround(V a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
// 2^n for integral n in [-126, 127]
static inline V vpow2i(V n) {
  __m256i e = _mm256_add_epi32(_mm256_cvttps_epi32(n.v), _mm256_set1_epi32(127));
  return {_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
}

// Horizontal sum and maximum, in a fixed order (pairs of halves, then pairs of pairs).
static inline float vhsum(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
static inline float vhmax(V a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
