// Element-wise and bookkeeping kernels (the native forms of src/engine/kernels/elementwise.ts): GELU
// forward and backward, residual adds, embeddings, AdamW, squared norms, zeroing, and the FMA peak. Tails
// go through masked vectors with the body's arithmetic, so an element's result never depends on where a
// range was cut.

// out = gelu(x) over elements [n0, n1)
static void gelu_fwd(const float* x, float* out, int n0, int n1) {
  int i = n0;
  for (; i + W <= n1; i += W) vstore(out + i, gelu(vload(x + i)));
  if (i < n1) vstoren(out + i, gelu(vloadn(x + i, n1 - i)), n1 - i);
}

// dx = dout * gelu'(x), written, elements [n0, n1)
static void gelu_bwd(const float* x, const float* dout, float* dx, int n0, int n1) {
  int i = n0;
  for (; i + W <= n1; i += W) vstore(dx + i, gelu_grad(vload(x + i), vload(dout + i)));
  if (i < n1) vstoren(dx + i, gelu_grad(vloadn(x + i, n1 - i), vloadn(dout + i, n1 - i)), n1 - i);
}

static void add_inplace(float* a, const float* b, int n0, int n1) {
  int i = n0;
  for (; i + W <= n1; i += W) vstore(a + i, vadd(vload(a + i), vload(b + i)));
  if (i < n1) vstoren(a + i, vadd(vloadn(a + i, n1 - i), vloadn(b + i, n1 - i)), n1 - i);
}

// h[i] = wte[tok[i]] + wpe[pos[i]] for rows [r0, r1)
static void embed_fwd(const int32_t* tok, const int32_t* pos, const float* wte, const float* wpe, float* h, int C,
                      int r0, int r1) {
  for (int i = r0; i < r1; i++) {
    const float* e = wte + (size_t)tok[i] * C;
    const float* p = wpe + (size_t)pos[i] * C;
    float* o = h + (size_t)i * C;
    int j = 0;
    for (; j + W <= C; j += W) vstore(o + j, vadd(vload(e + j), vload(p + j)));
    if (j < C) vstoren(o + j, vadd(vloadn(e + j, C - j), vloadn(p + j, C - j)), C - j);
  }
}

// dwte[tok[i]] += dh[i]; dwpe[pos[i]] += dh[i] over rows [r0, r1): a scatter, so one thread only.
static void embed_bwd(const int32_t* tok, const int32_t* pos, const float* dh, float* dwte, float* dwpe, int C,
                      int r0, int r1) {
  for (int i = r0; i < r1; i++) {
    float* e = dwte + (size_t)tok[i] * C;
    float* p = dwpe + (size_t)pos[i] * C;
    const float* d = dh + (size_t)i * C;
    for (int j = 0; j < C; j += W) {
      const int n = C - j;
      const V g = vloadn(d + j, n);
      vstoren(e + j, vadd(vloadn(e + j, n), g), n);
      vstoren(p + j, vadd(vloadn(p + j, n), g), n);
    }
  }
}

// AdamW on elements [n0, n1), PyTorch semantics (docs/engine.md); the same float operations in the same
// order as the WebAssembly kernel. gscale folds gradient clipping in; bc1 = 1 - b1^t, bc2 = 1 - b2^t.
static void adamw(float* p, const float* g, float* m, float* v, float lr, float b1, float b2, float eps, float wd,
                  float bc1, float bc2, float gscale, int n0, int n1) {
  const float decay = 1.0f - lr * wd;
  const float step = lr / bc1;
  const float inv_sqrt_bc2 = 1.0f / __builtin_sqrtf(bc2);
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (int i = n0; i < n1; i++) {
    const float gi = g[i] * gscale;
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = __builtin_sqrtf(vi) * inv_sqrt_bc2 + eps;
    p[i] = p[i] * decay - step * mi / denom;
  }
}

// Sum of squares of x[0, n) (the global gradient norm): float vectors flushed into a double every 4096
// elements.
static double sumsq(const float* x, int n) {
  double s = 0;
  V acc = vzero();
  int i = 0;
  for (; i + W <= n; i += W) {
    const V v = vload(x + i);
    acc = vfma(v, v, acc);
    if (((i + W) & 4095) == 0) {
      s += (double)vhsum(acc);
      acc = vzero();
    }
  }
  if (i < n) {
    const V v = vloadn(x + i, n - i);
    acc = vfma(v, v, acc);
  }
  return s + (double)vhsum(acc);
}

static void zero(float* x, int n0, int n1) {
  int i = n0;
  for (; i + W <= n1; i += W) vstore(x + i, vzero());
  if (i < n1) vstoren(x + i, vzero(), n1 - i);
}

// The machine's FMA throughput at this vector width: PEAK_FMAS independent chains (more than latency x
// ports on current x86 cores) fed from registers, one FMA each per trip. Benchmarks report GEMM rates
// against it.
static constexpr int PEAK_FMAS = 12;

static float peak_fma(int n, const float* p) {
  const V a = vloadn(p, 1), b = vloadn(p + 1, 1);
  V s[PEAK_FMAS];
  for (int j = 0; j < PEAK_FMAS; j++) s[j] = vloadn(p + 2 + j, 1);
  for (int i = 0; i < n; i++) {
#pragma GCC unroll 16
    for (int j = 0; j < PEAK_FMAS; j++) s[j] = vfma(a, b, s[j]);
  }
  V t = s[0];
  for (int j = 1; j < PEAK_FMAS; j++) t = vadd(t, s[j]);
  return vhsum(t);
}
