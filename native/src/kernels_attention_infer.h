// Cached inference attention and the KV-cache append (the native forms of attn_infer and kv_append in
// src/engine/kernels/attention.ts; the segment tables are described there and in src/engine/infer.ts).
// Table entries are byte offsets into the heap, like every pointer the kernels receive.

// Copies the keys (transposed) and values of rows [r0, r1) of qkv into their KV-cache slots. tab holds four
// i32 per row: [segment base (layer 0 K^T), layer stride in bytes, capacity, slot].
static void kv_append(uint8_t* base, const float* qkv, const int32_t* tab, int layer, int C, int r0, int r1) {
  const size_t ld3 = 3 * (size_t)C;
  for (int i = r0; i < r1; i++) {
    const int32_t* e = tab + 4 * i;
    const size_t cap = (uint32_t)e[2], slot = (uint32_t)e[3];
    float* kt = reinterpret_cast<float*>(base + (uint32_t)e[0] + (size_t)layer * (uint32_t)e[1]);
    float* v = kt + C * cap + slot * C;
    const float* src = qkv + i * ld3;
    for (int d = 0; d < C; d++) kt[d * cap + slot] = src[C + d];
    for (int d = 0; d < C; d += W) vstoren(v + d, vloadn(src + 2 * C + d, C - d), C - d);
  }
}

// Rows i .. i+k-1 of one chain at consecutive positions, head h, as register-tiled products (the training
// forward's scheme): the scores against each segment's keys, each row's softmax over its own positions,
// zeros past them, then the outputs segment by segment, each continuing the previous one's sums from the
// stored floats. Every value is the one-row path's, bit for bit.
static void attn_infer_block(uint8_t* base, const float* qr, int qld, float* yr, const int32_t* tab, int last_len,
                             int k, int layer, int C, int h, int D, float scale, float* rows, int sstride) {
  const int nseg = tab[0];
  int n = 0;
  for (int sg = 0; sg < nseg; sg++) {
    const int32_t* e = tab + 1 + 5 * sg;
    const size_t cap = (uint32_t)e[4];
    const int len = sg == nseg - 1 ? last_len + k - 1 : e[2];
    const float* K = reinterpret_cast<const float*>(base + (uint32_t)e[0] + (size_t)layer * (uint32_t)e[3]) +
                     (size_t)h * D * cap;
    tile_rows(k, D, qr, qld, 1, K, cap, rows + n, sstride, len, scale);
    n += len;
  }
  for (int r = 0; r < k; r++) {
    float* row = rows + (size_t)r * sstride;
    const int nr = n - (k - 1 - r);
    softmax_row(row, nr, row_max(row, nr));
    zero(row, nr, n);
  }
  int pos = 0;
  for (int sg = 0; sg < nseg; sg++) {
    const int32_t* e = tab + 1 + 5 * sg;
    const int len = sg == nseg - 1 ? last_len + k - 1 : e[2];
    const float* v =
        reinterpret_cast<const float*>(base + (uint32_t)e[1] + (size_t)layer * (uint32_t)e[3]) + h * D;
    tile_rows(k, len, rows + pos, sstride, 1, v, C, yr, C, D, 1.0f, sg > 0);
    pos += len;
  }
}

// One query row and head, task = i * H + h (see attn_infer).
static void attn_infer_row(uint8_t* base, const float* q, int qld, float* y, const int32_t* qtab, int layer, int C,
                           int H, float* scratch, int sstride, int task) {
  const int D = C / H;
  const float scale = 1.0f / __builtin_sqrtf((float)D);
  const int i = task / H, h = task % H;
  const float* qr = q + (size_t)i * qld + h * D;
  float* yr = y + (size_t)i * C + h * D;
  const int32_t* tab = reinterpret_cast<const int32_t*>(base + (uint32_t)qtab[2 * i]);
  const int last_len = qtab[2 * i + 1];
  const int nseg = tab[0];
  float* row = scratch + (size_t)task * sstride;
  float mx = -__builtin_inff();
  int n = 0;
  for (int sg = 0; sg < nseg; sg++) {
    const int32_t* e = tab + 1 + 5 * sg;
    const size_t cap = (uint32_t)e[4];
    const int len = sg == nseg - 1 ? last_len : e[2];
    const float* K = reinterpret_cast<const float*>(base + (uint32_t)e[0] + (size_t)layer * (uint32_t)e[3]) +
                     (size_t)h * D * cap;
    mx = score_row(qr, K, cap, len, D, scale, row + n, mx);
    n += len;
  }
  softmax_row(row, n, mx);
  // two or four output vectors per pass over the positions: one probability broadcast feeds them all
  int d = 0;
  while (d + 2 * W <= D) {
    const int nv = d + 4 * W <= D ? 4 : 2;
    V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
    int pos = 0;
    for (int sg = 0; sg < nseg; sg++) {
      const int32_t* e = tab + 1 + 5 * sg;
      const float* v =
          reinterpret_cast<const float*>(base + (uint32_t)e[1] + (size_t)layer * (uint32_t)e[3]) + h * D + d;
      const int len = sg == nseg - 1 ? last_len : e[2];
      for (int u = 0; u < len; u++, v += C) {
        const V p = vbcast(row + pos + u);
        a0 = vfma(p, vload(v), a0);
        a1 = vfma(p, vload(v + W), a1);
        if (nv == 4) {
          a2 = vfma(p, vload(v + 2 * W), a2);
          a3 = vfma(p, vload(v + 3 * W), a3);
        }
      }
      pos += len;
    }
    vstore(yr + d, a0);
    vstore(yr + d + W, a1);
    if (nv == 4) {
      vstore(yr + d + 2 * W, a2);
      vstore(yr + d + 3 * W, a3);
    }
    d += nv * W;
  }
  for (; d < D; d += W) {
    const int nd = D - d < W ? D - d : W;
    V acc = vzero();
    int pos = 0;
    for (int sg = 0; sg < nseg; sg++) {
      const int32_t* e = tab + 1 + 5 * sg;
      const float* v =
          reinterpret_cast<const float*>(base + (uint32_t)e[1] + (size_t)layer * (uint32_t)e[3]) + h * D + d;
      const int len = sg == nseg - 1 ? last_len : e[2];
      acc = weighted(row + pos, v, C, len, acc, nd);
      pos += len;
    }
    vstoren(yr + d, acc, nd);
  }
}

// Query row i (qld floats apart in q): qtab holds [segment table, visible length of its last segment]; a
// segment table is [nseg, (ktptr, vptr, len, layerStride, cap) * nseg] for layer 0. Task = i * H + h, with
// sstride floats of scratch for its scores. Runs of whole rows in the range that continue one chain at
// consecutive positions (a prompt being prefilled) go through attn_infer_block; the rest one at a time.
static void attn_infer(uint8_t* base, const float* q, int qld, float* y, const int32_t* qtab, int layer, int C, int H,
                       float* scratch, int sstride, int t0, int t1) {
  const int D = C / H;
  const float scale = 1.0f / __builtin_sqrtf((float)D);
  for (int task = t0; task < t1;) {
    const int i = task / H;
    if (task % H == 0) {
      int k = 1;
      while (k < MR && task + (k + 1) * H <= t1 && qtab[2 * (i + k)] == qtab[2 * i] &&
             qtab[2 * (i + k) + 1] == qtab[2 * i + 1] + k) {
        k++;
      }
      if (k > 1) {
        const int32_t* tab = reinterpret_cast<const int32_t*>(base + (uint32_t)qtab[2 * i]);
        for (int h = 0; h < H; h++) {
          attn_infer_block(base, q + (size_t)i * qld + h * D, qld, y + (size_t)i * C + h * D, tab, qtab[2 * i + 1], k,
                           layer, C, h, D, scale, scratch + (size_t)(i * H + h) * sstride, H * sstride);
        }
        task += k * H;
        continue;
      }
    }
    attn_infer_row(base, q, qld, y, qtab, layer, C, H, scratch, sstride, task);
    task++;
  }
}
