// Attention backward (the native form of attn_bwd in src/engine/kernels/attention.ts): writes the q, k, v
// gradient columns of each (sequence, head) task, overwriting the task's probabilities with score
// gradients as it goes, and uses sum_u p_u dp_u = dy . y (the row's own output) instead of a second pass.
// Queries go four at a time so every key, value and gradient row loaded serves four of them.

// dy . y for one query and head, splatted.
static inline V centre_of(const float* dyr, const float* yr, int D) {
  V c = vzero();
  for (int d = 0; d < D; d += W) c = vfma(vloadn(dyr + d, D - d), vloadn(yr + d, D - d), c);
  return vset(vhsum(c));
}

// For queries t..t+3 with weights w (rows ldr apart) and vectors x_q (ldx apart): out_u += sum_q w_qu x_q
// over keys u <= t + q. Used for dv (x = dy) and dk (x = q).
static void scatter4(const float* w, size_t ldr, const float* x, size_t ldx, float* out, size_t ldo, int t, int D) {
  for (int u = 0; u <= t + 3; u++) {
    const V w0 = vbcast(w + u);
    const V w1 = u <= t + 1 ? vbcast(w + ldr + u) : vzero();
    const V w2 = u <= t + 2 ? vbcast(w + 2 * ldr + u) : vzero();
    const V w3 = vbcast(w + 3 * ldr + u);
    float* dst = out + (size_t)u * ldo;
    const int first = u <= t ? 0 : u - t;  // queries before this one cannot see key u
    for (int d = 0; d < D; d += W) {
      const int nd = D - d;
      V acc = vloadn(dst + d, nd);
      if (first == 0) acc = vfma(w0, vloadn(x + d, nd), acc);
      if (first <= 1) acc = vfma(w1, vloadn(x + ldx + d, nd), acc);
      if (first <= 2) acc = vfma(w2, vloadn(x + 2 * ldx + d, nd), acc);
      acc = vfma(w3, vloadn(x + 3 * ldx + d, nd), acc);
      vstoren(dst + d, acc, nd);
    }
  }
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
    for (int t = 0; t < len; t++) {
      float* dr = dbase + t * ld3;
      for (int d = 0; d < D; d += W) {
        vstoren(dr + C + d, vzero(), D - d);
        vstoren(dr + 2 * C + d, vzero(), D - d);
      }
    }
    const float* dyb = dy + (size_t)off * ldc + h * D;
    const float* yb = y + (size_t)off * ldc + h * D;
    const size_t lr = len;
    int t = 0;
    for (; t + 4 <= len; t += 4) {
      float* row = A + (size_t)t * len;
      const float* dy0 = dyb + t * ldc;
      const V c0 = centre_of(dy0, yb + t * ldc, D), c1 = centre_of(dy0 + ldc, yb + (t + 1) * ldc, D);
      const V c2 = centre_of(dy0 + 2 * ldc, yb + (t + 2) * ldc, D), c3 = centre_of(dy0 + 3 * ldc, yb + (t + 3) * ldc, D);
      // dv_u += sum_q p_qu dy_q  (key u <= t + q)
      scatter4(row, lr, dy0, ldc, dbase + 2 * C, ld3, t, D);
      // ds_qu = p_qu (dy_q . v_u - dy_q . y_q) * scale, written over p
      for (int u = 0; u <= t + 3; u += W) {
        const int nk = len - u < W ? len - u : W;
        V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
        const float* vp = VT + u;
        const float* g = dy0;
        for (int d = 0; d < D; d++, vp += len, g++) {
          const V vv = nk == W ? vload(vp) : vloadn(vp, nk);
          a0 = vfma(vbcast(g), vv, a0);
          a1 = vfma(vbcast(g + ldc), vv, a1);
          a2 = vfma(vbcast(g + 2 * ldc), vv, a2);
          a3 = vfma(vbcast(g + 3 * ldc), vv, a3);
        }
        float* r0 = row + u;
        vstoren(r0, vmul(vmul(vloadn(r0, nk), vsub(a0, c0)), sv), t + 1 - u);
        vstoren(r0 + lr, vmul(vmul(vloadn(r0 + lr, nk), vsub(a1, c1)), sv), t + 2 - u);
        vstoren(r0 + 2 * lr, vmul(vmul(vloadn(r0 + 2 * lr, nk), vsub(a2, c2)), sv), t + 3 - u);
        vstoren(r0 + 3 * lr, vmul(vmul(vloadn(r0 + 3 * lr, nk), vsub(a3, c3)), sv), t + 4 - u);
      }
      // dq_q = sum_u ds_qu k_u
      float* dq0 = dbase + t * ld3;
      for (int d = 0; d < D; d += W) {
        const int nd = D - d < W ? D - d : W;
        V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
        const float* k = base + C + d;
        for (int u = 0; u <= t; u++, k += ld3) {
          const V kv = vloadn(k, nd);
          a0 = vfma(vbcast(row + u), kv, a0);
          a1 = vfma(vbcast(row + lr + u), kv, a1);
          a2 = vfma(vbcast(row + 2 * lr + u), kv, a2);
          a3 = vfma(vbcast(row + 3 * lr + u), kv, a3);
        }
        a1 = weighted(row + lr + t + 1, k, ld3, 1, a1, nd);
        a2 = weighted(row + 2 * lr + t + 1, k, ld3, 2, a2, nd);
        a3 = weighted(row + 3 * lr + t + 1, k, ld3, 3, a3, nd);
        vstoren(dq0 + d, a0, nd);
        vstoren(dq0 + ld3 + d, a1, nd);
        vstoren(dq0 + 2 * ld3 + d, a2, nd);
        vstoren(dq0 + 3 * ld3 + d, a3, nd);
      }
      // dk_u += sum_q ds_qu q_q
      scatter4(row, lr, base + t * ld3, ld3, dbase + C, ld3, t, D);
    }
    for (; t < len; t++) {
      const float* q = base + t * ld3;
      float* dq = dbase + t * ld3;
      float* row = A + (size_t)t * len;
      const float* dyr = dyb + t * ldc;
      const V centre = centre_of(dyr, yb + t * ldc, D);
      for (int u = 0; u <= t; u++) {
        const V pv = vbcast(row + u);
        float* dv = dbase + u * ld3 + 2 * C;
        for (int d = 0; d < D; d += W) vstoren(dv + d, vfma(pv, vloadn(dyr + d, D - d), vloadn(dv + d, D - d)), D - d);
      }
      for (int u = 0; u <= t; u += W) {
        const int nk = len - u < W ? len - u : W;
        V acc = vzero();
        const float* vp = VT + u;
        for (int d = 0; d < D; d++, vp += len) acc = vfma(vbcast(dyr + d), vloadn(vp, nk), acc);
        vstoren(row + u, vmul(vmul(vloadn(row + u, nk), vsub(acc, centre)), sv), t + 1 - u);
      }
      for (int d = 0; d < D; d += W) {
        const int nd = D - d < W ? D - d : W;
        vstoren(dq + d, weighted(row, base + C + d, ld3, t + 1, vzero(), nd), nd);
      }
      for (int u = 0; u <= t; u++) {
        const V dsv = vbcast(row + u);
        float* dk = dbase + u * ld3 + C;
        for (int d = 0; d < D; d += W) vstoren(dk + d, vfma(dsv, vloadn(q + d, D - d), vloadn(dk + d, D - d)), D - d);
      }
    }
  }
}
