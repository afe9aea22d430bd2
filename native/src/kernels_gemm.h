// The GEMM, C[i, j] = init + sum_k A(i, k) B[k, j] with an epilogue: init is 0, bias[j] or C itself;
// then, once the reduction is done, + resid[i, j] (a residual connection), or times gelu'(pre[i, j]) (the
// MLP activation's backward), and/or act = gelu(C) (the MLP's activation). A(i, k) lies at
// a[i*sai + k*sak], so A @ B (sai = K, sak = 1) and A^T @ B for a stored [K, M] operand (sai = 1, sak = M:
// weight gradients) are one code path.
//
// Register tile: MR rows x 2 vectors of columns held in accumulators while k runs; each step loads two B
// vectors and broadcasts MR values of A. Tall calls pack B in KC x 2W panels (contiguous, so one TLB
// entry and no stride per step); short calls (decoding a few rows) read B in place, since packing would
// cost as much as the product. Every C element is one FMA chain over k in order from its init (partial
// sums between KC blocks go through C exactly, as floats), in every tile shape and path: the result is
// independent of the row count, of where a call is cut between threads, and of packing.

struct Gemm {
  const float* a;
  size_t sai, sak;
  const float* b;
  size_t ldb;
  float* c;
  size_t ldc;
  const float* bias;
  const float* resid;  // same layout as C, never C itself
  float* act;          // same layout as C; act == c stores only the activation
  const float* dgelu;  // same layout as C: the pre-activation whose gelu' scales C
  int K;
  bool acc;
};

// Where one tile's outputs go: its top-left corner in C (and in resid, act), its valid columns, and how
// to start and finish it.
struct TileIO {
  float* c;
  const float* resid;
  float* act;
  const float* dgelu;
  const float* bias;
  size_t ldc;
  int ncol;
  int mode;   // 0: start from zero, 1: from the bias, 2: from C
  bool last;  // the reduction ends in this pass: apply the epilogue
  float scale = 1.0f;  // the epilogue first multiplies by it (attention scores)
};

template <int R, int NV, bool PB, bool FULL>
static void gemm_tile(int K, const float* a, size_t sai, size_t sak, const float* b, size_t ldb, const TileIO& io) {
  V acc[R][NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; v++) {
    const int n = FULL ? W : io.ncol - v * W;
    const V init = io.mode == 1 ? (FULL ? vload(io.bias + v * W) : vloadn(io.bias + v * W, n)) : vzero();
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
      const float* cp = io.c + r * io.ldc + v * W;
      acc[r][v] = io.mode == 2 ? (FULL ? vload(cp) : vloadn(cp, n)) : init;
    }
  }
  const float* ap[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; r++) ap[r] = a + r * sai;
  size_t ko = 0;
  for (int k = 0; k < K; k++) {
    const V b0 = (PB || FULL) ? vload(b) : vloadn(b, io.ncol);
    const V b1 = NV > 1 ? ((PB || FULL) ? vload(b + W) : vloadn(b + W, io.ncol - W)) : b0;
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
      const V x = vbcast(ap[r] + ko);
      acc[r][0] = vfma(x, b0, acc[r][0]);
      if (NV > 1) acc[r][NV - 1] = vfma(x, b1, acc[r][NV - 1]);
    }
    ko += sak;
    b += ldb;
  }
  // the outputs' pointers in locals: stores through them could alias io as far as the compiler knows
  float* const c = io.c;
  float* const act = io.last ? io.act : nullptr;
  const float* const resid = io.last ? io.resid : nullptr;
  const float* const dgelu = io.last ? io.dgelu : nullptr;
  const bool keep = act != c;
  const size_t ldc = io.ldc;
  const int ncol = io.ncol;
  const bool scaled = io.last && io.scale != 1.0f;
  const V sv = vset(io.scale);
#pragma GCC unroll 16
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) {
      const int n = FULL ? W : ncol - v * W;
      const size_t o = r * ldc + v * W;
      V x = acc[r][v];
      if (scaled) x = vmul(x, sv);
      if (resid) x = vadd(x, FULL ? vload(resid + o) : vloadn(resid + o, n));
      if (dgelu) x = gelu_grad(FULL ? vload(dgelu + o) : vloadn(dgelu + o, n), x);
      if (keep) {
        if (FULL) vstore(c + o, x); else vstoren(c + o, x, n);
      }
      if (act) {
        if (FULL) vstore(act + o, gelu(x)); else vstoren(act + o, gelu(x), n);
      }
    }
  }
}

// One row of C over NVW vectors of columns (the last one partial unless FULL): a single decoding row
// reads each row of B as one contiguous run and keeps NVW independent FMA chains in flight, where the
// MR-row tile would have two. Same per-element arithmetic as gemm_tile.
template <int NVW, bool FULL>
static void gemm_row_wide(int K, const float* a, size_t sak, const float* b, size_t ldb, const TileIO& io) {
  const int last_n = FULL ? W : io.ncol - (NVW - 1) * W;
  V acc[NVW];
#pragma GCC unroll 32
  for (int v = 0; v < NVW; v++) {
    const int n = v == NVW - 1 ? last_n : W;
    acc[v] = io.mode == 2 ? vloadn(io.c + v * W, n) : io.mode == 1 ? vloadn(io.bias + v * W, n) : vzero();
  }
  for (int k = 0; k < K; k++, a += sak, b += ldb) {
    const V x = vbcast(a);
#pragma GCC unroll 32
    for (int v = 0; v < NVW; v++) {
      const V bv = (FULL || v < NVW - 1) ? vload(b + v * W) : vloadn(b + v * W, last_n);
      acc[v] = vfma(x, bv, acc[v]);
    }
  }
  float* const c = io.c;
  float* const act = io.last ? io.act : nullptr;
  const float* const resid = io.last ? io.resid : nullptr;
  const float* const dgelu = io.last ? io.dgelu : nullptr;
  const bool scaled = io.last && io.scale != 1.0f;
#pragma GCC unroll 32
  for (int v = 0; v < NVW; v++) {
    const int n = v == NVW - 1 ? last_n : W;
    V x = acc[v];
    if (scaled) x = vmul(x, vset(io.scale));
    if (resid) x = vadd(x, vloadn(resid + v * W, n));
    if (dgelu) x = gelu_grad(vloadn(dgelu + v * W, n), x);
    if (act != c) vstoren(c + v * W, x, n);
    if (act) vstoren(act + v * W, gelu(x), n);
  }
}

typedef void (*RowFn)(int, const float*, size_t, const float*, size_t, const TileIO&);
static constexpr int WIDE = 2 * MR;  // vectors per wide row: the tile's accumulator count

template <bool FULL, int... Vs>
static const RowFn* rows_of(std::integer_sequence<int, Vs...>) {
  static const RowFn fns[] = {&gemm_row_wide<Vs + 1, FULL>...};
  return fns;
}

// A single row of C over columns [c0, c1), WIDE vectors at a time.
static void gemm_single_row(const float* a, size_t sak, const float* b, size_t ldb, int K, const TileIO& proto, int c0,
                            int c1) {
  const auto seq = std::make_integer_sequence<int, WIDE>{};
  for (int j = c0; j < c1; j += WIDE * W) {
    const int ncol = c1 - j < WIDE * W ? c1 - j : WIDE * W;
    const int nv = (ncol + W - 1) / W;
    TileIO io = proto;
    io.c += j;
    if (io.resid) io.resid += j;
    if (io.act) io.act += j;
    if (io.dgelu) io.dgelu += j;
    if (io.bias) io.bias += j;
    io.ncol = ncol;
    const RowFn f = (ncol == nv * W ? rows_of<true>(seq) : rows_of<false>(seq))[nv - 1];
    f(K, a, sak, b + j, ldb, io);
  }
}

typedef void (*TileFn)(int, const float*, size_t, size_t, const float*, size_t, const TileIO&);

// Tile functions for every row count 1..MR, indexed [rows - 1].
template <int NV, bool PB, bool FULL, int... Rs>
static const TileFn* tiles_of(std::integer_sequence<int, Rs...>) {
  static const TileFn fns[] = {&gemm_tile<Rs + 1, NV, PB, FULL>...};
  return fns;
}

static TileFn pick_tile(int rows, int ncol, bool packed) {
  const bool two = ncol > W, full = ncol == (two ? 2 * W : W);
  const auto seq = std::make_integer_sequence<int, MR>{};
  const TileFn* set;
  if (packed) {
    set = two ? (full ? tiles_of<2, true, true>(seq) : tiles_of<2, true, false>(seq))
              : (full ? tiles_of<1, true, true>(seq) : tiles_of<1, true, false>(seq));
  } else {
    set = two ? (full ? tiles_of<2, false, true>(seq) : tiles_of<2, false, false>(seq))
              : (full ? tiles_of<1, false, true>(seq) : tiles_of<1, false, false>(seq));
  }
  return set[rows - 1];
}

static constexpr int NR = 2 * W;
// Columns per packed block: KC x NC floats of packed B (512 KiB) stay in L2/L3 while all rows pass.
static constexpr int NC = 512;
// Rows per block of A: MC x KC floats (~128 KiB) stay in L2 while every packed panel of B passes them.
static constexpr int MC = (128 / MR) * MR;
// Calls with fewer rows than this read B in place.
static constexpr int PACK_MIN_ROWS = 128;

static thread_local float* tl_pack = nullptr;

static float* pack_buffer() {
  if (!tl_pack) tl_pack = static_cast<float*>(aligned_alloc(64, sizeof(float) * KC * NC));
  return tl_pack;
}

// B[0 .. kc, 0 .. nc) (rows ldb apart) into panels of NR columns, zero-padded; panel p at bp + p*kc*NR.
static void pack_b(const float* b, size_t ldb, int kc, int nc, float* bp) {
  for (int p = 0; p * NR < nc; p++) {
    const int ncol = nc - p * NR < NR ? nc - p * NR : NR;
    const float* src = b + p * NR;
    float* dst = bp + (size_t)p * kc * NR;
    if (ncol == NR) {
      for (int k = 0; k < kc; k++, src += ldb, dst += NR) {
        vstore(dst, vload(src));
        vstore(dst + W, vload(src + W));
      }
    } else {
      for (int k = 0; k < kc; k++, src += ldb, dst += NR) {
        vstore(dst, vloadn(src, ncol));
        vstore(dst + W, vloadn(src + W, ncol - W));
      }
    }
  }
}

// Rows [r0, r1) x columns [c0, c1) of C.
static void gemm_range(const Gemm& g, int r0, int r1, int c0, int c1) {
  if (r0 >= r1 || c0 >= c1) return;
  const int start = g.acc ? 2 : g.bias ? 1 : 0;
  if (r1 - r0 == 1) {
    const size_t o = (size_t)r0 * g.ldc;
    const TileIO io = {g.c + o, g.resid ? g.resid + o : nullptr, g.act ? g.act + o : nullptr,
                       g.dgelu ? g.dgelu + o : nullptr, g.bias, g.ldc, 0, start, true};
    gemm_single_row(g.a + (size_t)r0 * g.sai, g.sak, g.b, g.ldb, g.K, io, c0, c1);
    return;
  }
  if (r1 - r0 < PACK_MIN_ROWS || g.K == 0) {
    for (int j = c0; j < c1; j += NR) {
      const int ncol = c1 - j < NR ? c1 - j : NR;
      for (int i = r0; i < r1; i += MR) {
        const int rows = r1 - i < MR ? r1 - i : MR;
        const size_t o = (size_t)i * g.ldc + j;
        const TileIO io = {g.c + o, g.resid ? g.resid + o : nullptr, g.act ? g.act + o : nullptr,
                           g.dgelu ? g.dgelu + o : nullptr, g.bias ? g.bias + j : nullptr, g.ldc, ncol, start, true};
        pick_tile(rows, ncol, false)(g.K, g.a + (size_t)i * g.sai, g.sai, g.sak, g.b + j, g.ldb, io);
      }
    }
    return;
  }
  float* bp = pack_buffer();
  for (int jc = c0; jc < c1; jc += NC) {
    const int nc = c1 - jc < NC ? c1 - jc : NC;
    for (int pc = 0; pc < g.K; pc += KC) {
      const int kc = g.K - pc < KC ? g.K - pc : KC;
      const bool last = pc + kc == g.K;
      const int mode = pc == 0 ? start : 2;
      pack_b(g.b + (size_t)pc * g.ldb + jc, g.ldb, kc, nc, bp);
      const float* ak = g.a + (size_t)pc * g.sak;
      for (int ic = r0; ic < r1; ic += MC) {
        const int ie = r1 - ic < MC ? r1 : ic + MC;
        for (int jr = 0; jr < nc; jr += NR) {
          const int ncol = nc - jr < NR ? nc - jr : NR;
          const float* panel = bp + (size_t)(jr / NR) * kc * NR;
          const int j = jc + jr;
          for (int i = ic; i < ie; i += MR) {
            const int rows = ie - i < MR ? ie - i : MR;
            const size_t o = (size_t)i * g.ldc + j;
            const TileIO io = {g.c + o, g.resid ? g.resid + o : nullptr, g.act ? g.act + o : nullptr,
                               g.dgelu ? g.dgelu + o : nullptr, g.bias ? g.bias + j : nullptr, g.ldc, ncol, mode, last};
            pick_tile(rows, ncol, true)(kc, ak + (size_t)i * g.sai, g.sai, g.sak, panel, NR, io);
          }
        }
      }
    }
  }
}
