// The vector layer for AVX-512F: sixteen float lanes in a zmm register, masks for partial vectors. Same
// operations as vec_avx2.h (see there for how the layers are used); vec_avx2x2.h runs this width on AVX2
// hardware so the sixteen-lane code paths can be tested on machines without AVX-512.

struct V {
  __m512 v;
};

static constexpr int W = 16;
// GEMM register tile: 12 rows x 2 vectors (24 accumulators and 2 B vectors of the 32 zmm registers; the
// A value is broadcast straight from memory into the FMA). KC x 32 floats of packed B = 32 KiB.
static constexpr int MR = 12;
static constexpr int KC = 256;

static inline __mmask16 mask_n(int n) { return n <= 0 ? 0 : n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1); }

static inline V vzero() { return {_mm512_setzero_ps()}; }
static inline V vset(float x) { return {_mm512_set1_ps(x)}; }
static inline V vload(const float* p) { return {_mm512_loadu_ps(p)}; }
static inline void vstore(float* p, V a) { _mm512_storeu_ps(p, a.v); }
static inline V vbcast(const float* p) { return {_mm512_set1_ps(*p)}; }
static inline V vloadn(const float* p, int n) {
  if (n >= W) return vload(p);
  return {_mm512_maskz_loadu_ps(mask_n(n), p)};
}
static inline void vstoren(float* p, V a, int n) {
  if (n >= W) { vstore(p, a); return; }
  _mm512_mask_storeu_ps(p, mask_n(n), a.v);
}
static inline V vkeepn(V a, int n, float fill) {
  if (n >= W) return a;
  return {_mm512_mask_blend_ps(mask_n(n), _mm512_set1_ps(fill), a.v)};
}

static inline V vadd(V a, V b) { return {_mm512_add_ps(a.v, b.v)}; }
static inline V vsub(V a, V b) { return {_mm512_sub_ps(a.v, b.v)}; }
static inline V vmul(V a, V b) { return {_mm512_mul_ps(a.v, b.v)}; }
static inline V vdiv(V a, V b) { return {_mm512_div_ps(a.v, b.v)}; }
static inline V vmax(V a, V b) { return {_mm512_max_ps(a.v, b.v)}; }
static inline V vmin(V a, V b) { return {_mm512_min_ps(a.v, b.v)}; }
static inline V vfma(V a, V b, V c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
static inline V vround(V a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
static inline V vpow2i(V n) {
  __m512i e = _mm512_add_epi32(_mm512_cvttps_epi32(n.v), _mm512_set1_epi32(127));
  return {_mm512_castsi512_ps(_mm512_slli_epi32(e, 23))};
}

// Horizontal sum and maximum in a fixed order: halves, then as in the eight-lane layer.
static inline __m256 upper(V a) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a.v), 1)); }
static inline float vhsum(V a) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a.v), upper(a));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
static inline float vhmax(V a) {
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a.v), upper(a));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
