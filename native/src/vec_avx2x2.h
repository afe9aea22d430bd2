// Sixteen lanes as pairs of AVX2 registers: the AVX-512 layer's width, tile and reduction order on AVX2
// hardware. It exists so that the sixteen-lane code paths (tile edges, masks, tails) are exercised by the
// tests on machines without AVX-512 (PSRLM_NATIVE_ISA=avx2x2); it is never chosen automatically.

struct V {
  __m256 lo, hi;
};

static constexpr int W = 16;
static constexpr int MR = 12;
static constexpr int KC = 256;

alignas(32) static const int32_t kLaneMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

static inline __m256i mask8(int n) {
  n = n < 0 ? 0 : n > 8 ? 8 : n;
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMask + 8 - n));
}

static inline V vzero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
static inline V vset(float x) { return {_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
static inline V vload(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
static inline void vstore(float* p, V a) { _mm256_storeu_ps(p, a.lo); _mm256_storeu_ps(p + 8, a.hi); }
static inline V vbcast(const float* p) { __m256 x = _mm256_broadcast_ss(p); return {x, x}; }
static inline V vloadn(const float* p, int n) {
  if (n >= W) return vload(p);
  return {_mm256_maskload_ps(p, mask8(n)), _mm256_maskload_ps(p + 8, mask8(n - 8))};
}
static inline void vstoren(float* p, V a, int n) {
  if (n >= W) { vstore(p, a); return; }
  _mm256_maskstore_ps(p, mask8(n), a.lo);
  _mm256_maskstore_ps(p + 8, mask8(n - 8), a.hi);
}
static inline V vkeepn(V a, int n, float fill) {
  if (n >= W) return a;
  __m256 f = _mm256_set1_ps(fill);
  return {_mm256_blendv_ps(f, a.lo, _mm256_castsi256_ps(mask8(n))),
          _mm256_blendv_ps(f, a.hi, _mm256_castsi256_ps(mask8(n - 8)))};
}

#define PSRLM_PAIR(name, op) \
  static inline V name(V a, V b) { return {op(a.lo, b.lo), op(a.hi, b.hi)}; }
PSRLM_PAIR(vadd, _mm256_add_ps)
PSRLM_PAIR(vsub, _mm256_sub_ps)
PSRLM_PAIR(vmul, _mm256_mul_ps)
PSRLM_PAIR(vdiv, _mm256_div_ps)
PSRLM_PAIR(vmax, _mm256_max_ps)
PSRLM_PAIR(vmin, _mm256_min_ps)
#undef PSRLM_PAIR
static inline V vfma(V a, V b, V c) { return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }
static inline __m256 round8(__m256 a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline V vround(V a) { return {round8(a.lo), round8(a.hi)}; }
static inline __m256 pow2i8(__m256 n) {
  __m256i e = _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
static inline V vpow2i(V n) { return {pow2i8(n.lo), pow2i8(n.hi)}; }

static inline float vhsum(V a) {
  __m256 h = _mm256_add_ps(a.lo, a.hi);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
static inline float vhmax(V a) {
  __m256 h = _mm256_max_ps(a.lo, a.hi);
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
