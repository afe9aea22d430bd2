// Attention backward (the native form of attn_bwd in src/engine/kernels/attention.ts): writes the q, k, v
// gradient columns of each (sequence, head) task, overwriting the task's probabilities with score
// gradients, and uses sum_u p_u dp_u = dy . y (the row's own output) instead of a second pass. Each of
// the four products runs through the GEMM's register tiles over the causal triangle (kernels_gemm.h);
// the probabilities past a query's own keys are zeros, so the tiles may run over them.

static thread_local float* tl_dp = nullptr;
static thread_local size_t tl_dp_floats = 0;

// Scratch for MR rows of score gradients.
static float* dp_buffer(size_t floats) {
  if (floats > tl_dp_floats) {
    free(tl_dp);
    tl_dp = static_cast<float*>(aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64));
    tl_dp_floats = floats;
  }
  return tl_dp;
}

static void attn_bwd(const float* qkv, const float* y, float* att, const float* dy, float* dqkv, const int32_t* seqs,
                     float* vt, int C, int H, int t0, int t1) {
  const int D = C / H;
  const size_t ld3 = 3 * (size_t)C, ldc = C;
  const float scale = 1.0f / __builtin_sqrtf((float)D);
  const V sv = vset(scale);
  for (int task = t0; task < t1; task++) {
    const int s = task / H, h = task % H;
    const int off = seqs[3 * s], len = seqs[3 * s + 1], aoff = seqs[3 * s + 2];
    float* A = att + aoff + (size_t)h * len * len;
    const float* base = qkv + (size_t)off * ld3 + h * D;
    float* dbase = dqkv + (size_t)off * ld3 + h * D;
    float* VT = vt + (size_t)off * C + (size_t)h * D * len;
    transpose_head(base + 2 * C, ld3, VT, len, D);
    const float* dyb = dy + (size_t)off * ldc + h * D;
    const float* yb = y + (size_t)off * ldc + h * D;
    // dv_u = sum_{t >= u} p_tu dy_t: A^T rows from the diagonal down
    for (int u0 = 0; u0 < len; u0 += MR) {
      const int rows = len - u0 < MR ? len - u0 : MR;
      tile_rows(rows, len - u0, A + (size_t)u0 * len + u0, 1, len, dyb + u0 * ldc, ldc, dbase + u0 * ld3 + 2 * C,
                ld3, D, 1.0f);
    }
    // ds_tu = p_tu (dy_t . v_u - dy_t . y_t) * scale for u <= t, over p
    float* dp = dp_buffer((size_t)MR * len);
    for (int q0 = 0; q0 < len; q0 += MR) {
      const int rows = len - q0 < MR ? len - q0 : MR;
      tile_rows(rows, D, dyb + q0 * ldc, ldc, 1, VT, len, dp, len, q0 + rows, 1.0f);
      for (int r = 0; r < rows; r++) {
        const int t = q0 + r;
        V cv = vzero();
        for (int d = 0; d < D; d += W) cv = vfma(vloadn(dyb + t * ldc + d, D - d), vloadn(yb + t * ldc + d, D - d), cv);
        const V centre = vset(vhsum(cv));
        float* row = A + (size_t)t * len;
        const float* dpr = dp + (size_t)r * len;
        for (int u = 0; u <= t; u += W) {
          const int n = t + 1 - u;
          vstoren(row + u, vmul(vmul(vloadn(row + u, n), vsub(vloadn(dpr + u, n), centre)), sv), n);
        }
      }
    }
    // dq_t = sum_{u <= t} ds_tu k_u
    for (int q0 = 0; q0 < len; q0 += MR) {
      const int rows = len - q0 < MR ? len - q0 : MR;
      tile_rows(rows, q0 + rows, A + (size_t)q0 * len, len, 1, base + C, ld3, dbase + q0 * ld3, ld3, D, 1.0f);
    }
    // dk_u = sum_{t >= u} ds_tu q_t
    for (int u0 = 0; u0 < len; u0 += MR) {
      const int rows = len - u0 < MR ? len - u0 : MR;
      tile_rows(rows, len - u0, A + (size_t)u0 * len + u0, 1, len, base + u0 * ld3, ld3, dbase + u0 * ld3 + C,
                ld3, D, 1.0f);
    }
  }
}
