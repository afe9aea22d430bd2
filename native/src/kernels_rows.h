// Row and column reductions (the native forms of src/engine/kernels/norm.ts, loss.ts and the GEMM's
// helpers in matmul.ts): layernorm forward and backward, fused log-softmax / cross-entropy and its
// gradient, log-softmax for sampling, transposes and column sums. Each row's (or column's) reduction runs
// in one order whatever else is in the call, so inference rows reproduce the training forward's bits.

// Sum of row[0, n) in vector lanes, then across lanes.
static inline float row_sum(const float* row, int n) {
  V s = vzero();
  int j = 0;
  for (; j + W <= n; j += W) s = vadd(s, vload(row + j));
  if (j < n) s = vadd(s, vloadn(row + j, n - j));
  return vhsum(s);
}

static void layernorm_fwd(const float* x, const float* w, const float* b, float* out, float* mean, float* rstd, int C,
                          float eps, int r0, int r1) {
  const float inv_c = 1.0f / (float)C;
  for (int i = r0; i < r1; i++) {
    const float* xr = x + (size_t)i * C;
    float* orow = out + (size_t)i * C;
    const float m = row_sum(xr, C) * inv_c;
    const V mv = vset(m);
    V q = vzero();
    for (int j = 0; j < C; j += W) {
      const V d = vkeepn(vsub(vloadn(xr + j, C - j), mv), C - j, 0.0f);
      q = vfma(d, d, q);
    }
    const float var = vhsum(q) * inv_c;
    const float rs = 1.0f / __builtin_sqrtf(var + eps);
    mean[i] = m;
    rstd[i] = rs;
    const V rv = vset(rs);
    for (int j = 0; j < C; j += W) {
      const int n = C - j;
      const V h = vmul(vsub(vloadn(xr + j, n), mv), rv);
      vstoren(orow + j, vfma(h, vloadn(w + j, n), vloadn(b + j, n)), n);
    }
  }
}

// dx[i] += rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dout * w. Rows [r0, r1).
static void layernorm_bwd_dx(const float* dout, const float* x, const float* w, const float* mean, const float* rstd,
                             float* dx, int C, int r0, int r1) {
  const float inv_c = 1.0f / (float)C;
  for (int i = r0; i < r1; i++) {
    const float* xr = x + (size_t)i * C;
    const float* dr = dout + (size_t)i * C;
    float* dxr = dx + (size_t)i * C;
    const V mv = vset(mean[i]), rv = vset(rstd[i]);
    V sg = vzero(), sgx = vzero();
    for (int j = 0; j < C; j += W) {
      const int n = C - j;
      const V g = vmul(vloadn(dr + j, n), vloadn(w + j, n));
      const V h = vkeepn(vmul(vsub(vloadn(xr + j, n), mv), rv), n, 0.0f);
      sg = vadd(sg, g);
      sgx = vfma(g, h, sgx);
    }
    const V av = vset(vhsum(sg) * inv_c), bv = vset(vhsum(sgx) * inv_c);
    for (int j = 0; j < C; j += W) {
      const int n = C - j;
      const V g = vmul(vloadn(dr + j, n), vloadn(w + j, n));
      const V h = vmul(vsub(vloadn(xr + j, n), mv), rv);
      const V t = vsub(vsub(g, av), vmul(h, bv));
      vstoren(dxr + j, vfma(t, rv, vloadn(dxr + j, n)), n);
    }
  }
}

// dw[j] += sum_i dout[i,j] * xhat[i,j];  db[j] += sum_i dout[i,j]. Columns [c0, c1), rows streamed in order.
static void layernorm_bwd_dw(const float* dout, const float* x, const float* mean, const float* rstd, float* dw,
                             float* db, int M, int C, int c0, int c1) {
  for (int j = c0; j < c1; j += 2 * W) {
    const int n0 = c1 - j, n1 = c1 - j - W;
    V w0 = vzero(), w1 = vzero(), b0 = vzero(), b1 = vzero();
    const float* dp = dout + j;
    const float* xp = x + j;
    for (int i = 0; i < M; i++, dp += C, xp += C) {
      const V mv = vset(mean[i]), rv = vset(rstd[i]);
      const V d0 = vloadn(dp, n0), d1 = vloadn(dp + W, n1);
      w0 = vfma(d0, vmul(vsub(vloadn(xp, n0), mv), rv), w0);
      w1 = vfma(d1, vmul(vsub(vloadn(xp + W, n1), mv), rv), w1);
      b0 = vadd(b0, d0);
      b1 = vadd(b1, d1);
    }
    vstoren(dw + j, vadd(vloadn(dw + j, n0), w0), n0);
    vstoren(dw + j + W, vadd(vloadn(dw + j + W, n1), w1), n1);
    vstoren(db + j, vadd(vloadn(db + j, n0), b0), n0);
    vstoren(db + j + W, vadd(vloadn(db + j + W, n1), b1), n1);
  }
}

// log(sum_j exp(row[j])), stably; shared by xent and log_softmax so sampling sees the training bits.
static float log_sum_exp(const float* row, int n) {
  V mv = vset(-__builtin_inff());
  int j = 0;
  for (; j + W <= n; j += W) mv = vmax(mv, vload(row + j));
  if (j < n) mv = vmax(mv, vkeepn(vloadn(row + j, n - j), n - j, -__builtin_inff()));
  const float mx = vhmax(mv);
  const V mxv = vset(mx);
  V s = vzero();
  for (j = 0; j + W <= n; j += W) s = vadd(s, vexp(vsub(vload(row + j), mxv)));
  if (j < n) s = vadd(s, vkeepn(vexp(vsub(vloadn(row + j, n - j), mxv)), n - j, 0.0f));
  return mx + logf(vhsum(s));
}

// log p(target) per row and, with withGrad, the row overwritten by g * (onehot(target) - softmax) where g
// is the row's weight dL/dlogp. Rows with a negative target: logp 0, gradient 0.
static void xent(float* logits, const int32_t* targets, const float* g, float* logp, int Vn, int with_grad, int r0,
                 int r1) {
  for (int i = r0; i < r1; i++) {
    float* row = logits + (size_t)i * Vn;
    const int tgt = targets[i];
    if (tgt < 0) {
      logp[i] = 0;
      if (with_grad) zero(row, 0, Vn);
      continue;
    }
    const float lse = log_sum_exp(row, Vn);
    logp[i] = row[tgt] - lse;
    if (with_grad) {
      const float gi = g[i];
      const V lv = vset(lse), ng = vset(-gi);
      for (int j = 0; j < Vn; j += W) {
        const int n = Vn - j;
        vstoren(row + j, vmul(ng, vexp(vsub(vloadn(row + j, n), lv))), n);
      }
      row[tgt] += gi;
    }
  }
}

static void log_softmax(float* logits, int Vn, int r0, int r1) {
  for (int i = r0; i < r1; i++) {
    float* row = logits + (size_t)i * Vn;
    const V lv = vset(log_sum_exp(row, Vn));
    for (int j = 0; j < Vn; j += W) vstoren(row + j, vsub(vloadn(row + j, Vn - j), lv), Vn - j);
  }
}

// dst[C, R] = src[R, C]^T over source rows [r0, r1), in 8 x 8 blocks for cache locality.
static void transpose(const float* src, float* dst, int R, int C, int r0, int r1) {
  for (int i0 = r0; i0 < r1; i0 += 8) {
    const int i1 = r1 - i0 < 8 ? r1 : i0 + 8;
    for (int j0 = 0; j0 < C; j0 += 8) {
      const int j1 = C - j0 < 8 ? C : j0 + 8;
      for (int i = i0; i < i1; i++) {
        for (int j = j0; j < j1; j++) dst[(size_t)j * R + i] = src[(size_t)i * C + j];
      }
    }
  }
}

// out[j] (+)= sum_i X[i, j] over rows in order; columns [c0, c1), four vectors of columns per pass.
static void colsum(const float* x, float* out, int M, int N, int accumulate, int c0, int c1) {
  int j = c0;
  for (; j + 4 * W <= c1; j += 4 * W) {
    V s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
    const float* p = x + j;
    for (int i = 0; i < M; i++, p += N) {
      s0 = vadd(s0, vload(p));
      s1 = vadd(s1, vload(p + W));
      s2 = vadd(s2, vload(p + 2 * W));
      s3 = vadd(s3, vload(p + 3 * W));
    }
    float* o = out + j;
    if (accumulate) {
      s0 = vadd(s0, vload(o));
      s1 = vadd(s1, vload(o + W));
      s2 = vadd(s2, vload(o + 2 * W));
      s3 = vadd(s3, vload(o + 3 * W));
    }
    vstore(o, s0);
    vstore(o + W, s1);
    vstore(o + 2 * W, s2);
    vstore(o + 3 * W, s3);
  }
  for (; j < c1; j += W) {
    const int n = c1 - j;
    V s = vzero();
    const float* p = x + j;
    for (int i = 0; i < M; i++, p += N) s = vadd(s, vloadn(p, n));
    if (accumulate) s = vadd(s, vloadn(out + j, n));
    vstoren(out + j, s, n);
  }
}
