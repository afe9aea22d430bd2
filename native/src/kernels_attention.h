// Causal multi-head attention, the native forms of src/engine/kernels/attention.ts (see there for the
// layouts: packed "varlen" sequences for training, chained KV-cache segments with transposed keys for
// inference). Training runs the score and output products through the GEMM's register tiles; inference
// (one query per task) computes W scores per vector from the transposed keys. Either way a score is one
// FMA chain over d, then the scale; the softmax is softmax_row; an output is one FMA chain over positions
// in order: the same operations in training and in cached inference, so decoding reproduces a full
// recompute bit for bit on this path too. Loads that could run past a block's end are masked.

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

// Maximum of row[0, n), n >= 1.
static inline float row_max(const float* row, int n) {
  V m = vset(-__builtin_inff());
  int u = 0;
  for (; u + W <= n; u += W) m = vmax(m, vload(row + u));
  if (u < n) m = vmax(m, vkeepn(vloadn(row + u, n - u), n - u, -__builtin_inff()));
  return vhmax(m);
}

// C[rows, 0 .. ncols) = scale * A(rows, 0 .. K) @ B (+ C itself with `carry`), through the GEMM's register
// tiles (B read in place): one tile of rows <= MR, every column panel.
static inline void tile_rows(int rows, int K, const float* a, size_t sai, size_t sak, const float* b, size_t ldb,
                             float* c, size_t ldc, int ncols, float scale, bool carry = false) {
  for (int j = 0; j < ncols; j += NR) {
    const int ncol = ncols - j < NR ? ncols - j : NR;
    TileIO io{c + j, nullptr, nullptr, nullptr, nullptr, ldc, ncol, carry ? 2 : 0, true, scale};
    pick_tile(rows, ncol, false)(K, a, sai, sak, b + j, ldb, io);
  }
}

// Training forward over tasks [t0, t1), task = sequence * H + head; seqs holds (row offset, length,
// probability offset) per sequence; kt is scratch for the transposed keys (N x C floats). Per tile of MR
// queries: their scores against keys 0 .. last query as one register-tiled product (each score the FMA
// chain over d, then the scale: score_row's arithmetic), the softmax of each row over its own keys
// (softmax_row, as in inference), zeros past them, then the outputs as the product of those rows with the
// values (each output the FMA chain over keys in order; the zeros past a row's own keys add nothing, so it
// equals the inference kernel's sum exactly).
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
    for (int q0 = 0; q0 < len; q0 += MR) {
      const int rows = len - q0 < MR ? len - q0 : MR;
      float* rp = A + (size_t)q0 * len;
      tile_rows(rows, D, base + q0 * ld3, ld3, 1, K, len, rp, len, q0 + rows, scale);
      for (int r = 0; r < rows; r++) {
        float* row = rp + (size_t)r * len;
        const int n = q0 + r + 1;
        softmax_row(row, n, row_max(row, n));
        zero(row, n, len);
      }
      tile_rows(rows, q0 + rows, rp, len, 1, base + 2 * C, ld3, y + (size_t)(off + q0) * ldc + h * D, ldc, D, 1.0f);
    }
  }
}
