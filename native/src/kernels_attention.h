// Causal multi-head attention, the native forms of src/engine/kernels/attention.ts (see there for the
// layouts: packed "varlen" sequences for training, chained KV-cache segments with transposed keys for
// inference). Keys are transposed per (sequence, head) so W scores come out of one vector accumulator;
// four queries share every key and value load. The score (one FMA chain over d, then the scale), the
// softmax (score_row / softmax_row) and the weighted sum (one FMA chain over positions in order) are the
// same operations in training and in cached inference, so decoding reproduces a full recompute bit for
// bit on this path too. Loads that could run past a block's end are masked.

static inline float fmax_(float a, float b) { return a > b ? a : b; }

// kt[d * len + u] = k_u[d]
static void transpose_head(const float* src, size_t ld, float* kt, int len, int D) {
  for (int u = 0; u < len; u++) {
    const float* s = src + (size_t)u * ld;
    for (int d = 0; d < D; d++) kt[(size_t)d * len + u] = s[d];
  }
}

// out[u] = scale * q . k_u for u in [0, n) from transposed keys (rows ldk floats apart); returns the
// running maximum.
static float score_row(const float* q, const float* kt, size_t ldk, int n, int D, float scale, float* out, float mx) {
  const V sv = vset(scale);
  int u = 0;
  for (; u + 4 * W <= n; u += 4 * W) {
    V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
    const float* kp = kt + u;
    for (int d = 0; d < D; d++, kp += ldk) {
      const V x = vbcast(q + d);
      a0 = vfma(x, vload(kp), a0);
      a1 = vfma(x, vload(kp + W), a1);
      a2 = vfma(x, vload(kp + 2 * W), a2);
      a3 = vfma(x, vload(kp + 3 * W), a3);
    }
    a0 = vmul(a0, sv); a1 = vmul(a1, sv); a2 = vmul(a2, sv); a3 = vmul(a3, sv);
    vstore(out + u, a0); vstore(out + u + W, a1); vstore(out + u + 2 * W, a2); vstore(out + u + 3 * W, a3);
    mx = fmax_(mx, vhmax(vmax(vmax(a0, a1), vmax(a2, a3))));
  }
  for (; u < n; u += W) {
    const int m = n - u;
    V acc = vzero();
    const float* kp = kt + u;
    if (m >= W) {
      for (int d = 0; d < D; d++, kp += ldk) acc = vfma(vbcast(q + d), vload(kp), acc);
    } else {
      for (int d = 0; d < D; d++, kp += ldk) acc = vfma(vbcast(q + d), vloadn(kp, m), acc);
    }
    acc = vmul(acc, sv);
    vstoren(out + u, acc, m);
    mx = fmax_(mx, vhmax(vkeepn(acc, m, -__builtin_inff())));
  }
  return mx;
}

// In place: row[0, n) <- softmax(row[0, n)), given its maximum.
static void softmax_row(float* row, int n, float mx) {
  const V mv = vset(mx);
  V sum = vzero();
  int u = 0;
  for (; u + W <= n; u += W) {
    const V e = vexp(vsub(vload(row + u), mv));
    vstore(row + u, e);
    sum = vadd(sum, e);
  }
  if (u < n) {
    const V e = vkeepn(vexp(vsub(vloadn(row + u, n - u), mv)), n - u, 0.0f);
    vstoren(row + u, e, n - u);
    sum = vadd(sum, e);
  }
  const V inv = vset(1.0f / vhsum(sum));
  for (u = 0; u < n; u += W) vstoren(row + u, vmul(vloadn(row + u, n - u), inv), n - u);
}

// acc += sum_u p[u] * v_u[0, nd) over u in [0, n), v rows ldv floats apart.
static inline V weighted(const float* p, const float* v, size_t ldv, int n, V acc, int nd) {
  if (nd >= W) {
    for (int u = 0; u < n; u++, v += ldv) acc = vfma(vbcast(p + u), vload(v), acc);
  } else {
    for (int u = 0; u < n; u++, v += ldv) acc = vfma(vbcast(p + u), vloadn(v, nd), acc);
  }
  return acc;
}

// Stores the lanes of a score vector for keys u.. that query t may see (u <= t); returns the new maximum.
static inline float store_scores(float* row, int u, int t, V sc, float mx) {
  const int left = t + 1 - u;
  if (left <= 0) return mx;
  vstoren(row + u, sc, left);
  return fmax_(mx, vhmax(vkeepn(sc, left, -__builtin_inff())));
}

// Scores, softmax and output of one block of four queries t..t+3 (rows of the task's probability block
// A, len floats apart), from transposed keys K and values at v0 (rows ld3 apart).
static void attn_fwd_block(const float* q0, size_t ld3, const float* K, float* row, int len, int t, int D, float scale,
                           const float* v0, float* y0, size_t ldc) {
  const V sv = vset(scale);
  float m0 = -__builtin_inff(), m1 = m0, m2 = m0, m3 = m0;
  const size_t lr = len;
  for (int u = 0; u <= t + 3; u += W) {
    const int nk = len - u < W ? len - u : W;
    V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
    const float* kp = K + u;
    const float* qd = q0;
    for (int d = 0; d < D; d++, kp += len, qd++) {
      const V kv = nk == W ? vload(kp) : vloadn(kp, nk);
      a0 = vfma(vbcast(qd), kv, a0);
      a1 = vfma(vbcast(qd + ld3), kv, a1);
      a2 = vfma(vbcast(qd + 2 * ld3), kv, a2);
      a3 = vfma(vbcast(qd + 3 * ld3), kv, a3);
    }
    m0 = store_scores(row, u, t, vmul(a0, sv), m0);
    m1 = store_scores(row + lr, u, t + 1, vmul(a1, sv), m1);
    m2 = store_scores(row + 2 * lr, u, t + 2, vmul(a2, sv), m2);
    m3 = store_scores(row + 3 * lr, u, t + 3, vmul(a3, sv), m3);
  }
  softmax_row(row, t + 1, m0);
  softmax_row(row + lr, t + 2, m1);
  softmax_row(row + 2 * lr, t + 3, m2);
  softmax_row(row + 3 * lr, t + 4, m3);
  for (int q = 0; q < 4; q++) {
    for (int u = t + 1 + q; u < len; u++) row[q * lr + u] = 0;
  }
  for (int d = 0; d < D; d += W) {
    const int nd = D - d < W ? D - d : W;
    // keys 0..t are common to the four queries; each query then adds its own last keys, in order
    V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
    const float* v = v0 + d;
    for (int u = 0; u <= t; u++, v += ld3) {
      const V vv = vloadn(v, nd);
      a0 = vfma(vbcast(row + u), vv, a0);
      a1 = vfma(vbcast(row + lr + u), vv, a1);
      a2 = vfma(vbcast(row + 2 * lr + u), vv, a2);
      a3 = vfma(vbcast(row + 3 * lr + u), vv, a3);
    }
    a1 = weighted(row + lr + t + 1, v, ld3, 1, a1, nd);
    a2 = weighted(row + 2 * lr + t + 1, v, ld3, 2, a2, nd);
    a3 = weighted(row + 3 * lr + t + 1, v, ld3, 3, a3, nd);
    vstoren(y0 + d, a0, nd);
    vstoren(y0 + ldc + d, a1, nd);
    vstoren(y0 + 2 * ldc + d, a2, nd);
    vstoren(y0 + 3 * ldc + d, a3, nd);
  }
}

// Training forward over tasks [t0, t1), task = sequence * H + head; seqs holds (row offset, length,
// probability offset) per sequence; kt is scratch for the transposed keys (N x C floats).
static void attn_fwd(const float* qkv, float* y, float* att, const int32_t* seqs, float* kt, int C, int H, int t0,
                     int t1) {
  const int D = C / H;
  const size_t ld3 = 3 * (size_t)C, ldc = C;
  const float scale = 1.0f / __builtin_sqrtf((float)D);
  for (int task = t0; task < t1; task++) {
    const int s = task / H, h = task % H;
    const int off = seqs[3 * s], len = seqs[3 * s + 1], aoff = seqs[3 * s + 2];
    float* A = att + aoff + (size_t)h * len * len;
    const float* base = qkv + (size_t)off * ld3 + h * D;
    float* K = kt + (size_t)off * C + (size_t)h * D * len;
    transpose_head(base + C, ld3, K, len, D);
    int t = 0;
    for (; t + 4 <= len; t += 4) {
      attn_fwd_block(base + t * ld3, ld3, K, A + (size_t)t * len, len, t, D, scale, base + 2 * C,
                     y + (size_t)(off + t) * ldc + h * D, ldc);
    }
    for (; t < len; t++) {
      float* row = A + (size_t)t * len;
      const float mx = score_row(base + t * ld3, K, len, t + 1, D, scale, row, -__builtin_inff());
      softmax_row(row, t + 1, mx);
      for (int u = t + 1; u < len; u++) row[u] = 0;
      float* yr = y + (size_t)(off + t) * ldc + h * D;
      for (int d = 0; d < D; d += W) {
        const int nd = D - d < W ? D - d : W;
        vstoren(yr + d, weighted(row, base + 2 * C + d, ld3, t + 1, vzero(), nd), nd);
      }
    }
  }
}
