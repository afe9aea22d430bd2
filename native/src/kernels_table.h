// Entry points: unpack each kernel's arguments (kernels.h, kernels_args.h) and call it. The argument lists
// are the WebAssembly kernels' (src/engine/wasm.ts), plus two native GEMM entries with the epilogue
// (gemm_rows, gemm_cols: a, sai, sak, b, c, bias, resid, act, M, K, N, acc, dgelu, then the range;
// kernels_gemm.h).

#define ENTRY(name) static double e_##name(const double* x, uint8_t* base, int lo, int hi)
#define UNUSED_RANGE (void)lo, (void)hi

static Gemm plain_gemm(const Args& A, size_t sai, size_t sak, const float* bias, int K, int N, int acc_arg) {
  return Gemm{A.f(0), sai, sak, A.f(1), (size_t)N, A.f(2), (size_t)N, bias, nullptr, nullptr, nullptr, K,
              A.n(acc_arg) != 0};
}

ENTRY(matmul) {
  UNUSED_RANGE;
  const Args A{x, base};
  const Gemm g = plain_gemm(A, (size_t)A.n(5), 1, A.f(3), A.n(5), A.n(6), 7);
  gemm_range(g, A.n(8), A.n(9), A.n(10), A.n(11));
  return 0;
}
ENTRY(matmul_rows) {
  const Args A{x, base};
  gemm_range(plain_gemm(A, (size_t)A.n(5), 1, A.f(3), A.n(5), A.n(6), 7), lo, hi, 0, A.n(6));
  return 0;
}
ENTRY(matmul_cols) {
  const Args A{x, base};
  gemm_range(plain_gemm(A, (size_t)A.n(5), 1, A.f(3), A.n(5), A.n(6), 7), 0, A.n(4), lo, hi);
  return 0;
}
// (a, b, c, M, K, N, acc): C[M, N] (+)= A^T @ B, A stored [K, M]
ENTRY(matmul_tn_rows) {
  const Args A{x, base};
  gemm_range(plain_gemm(A, 1, (size_t)A.n(3), nullptr, A.n(4), A.n(5), 6), lo, hi, 0, A.n(5));
  return 0;
}
ENTRY(matmul_tn_cols) {
  const Args A{x, base};
  gemm_range(plain_gemm(A, 1, (size_t)A.n(3), nullptr, A.n(4), A.n(5), 6), 0, A.n(3), lo, hi);
  return 0;
}
static Gemm epilogue_gemm(const Args& A) {
  const size_t N = (size_t)A.n(10);
  return Gemm{A.f(0), (size_t)A.a[1], (size_t)A.a[2], A.f(3), N, A.f(4), N, A.f(5), A.f(6), A.f(7), A.f(12), A.n(9),
              A.n(11) != 0};
}
ENTRY(gemm_rows) {
  const Args A{x, base};
  gemm_range(epilogue_gemm(A), lo, hi, 0, A.n(10));
  return 0;
}
ENTRY(gemm_cols) {
  const Args A{x, base};
  gemm_range(epilogue_gemm(A), 0, A.n(8), lo, hi);
  return 0;
}
ENTRY(transpose) {
  const Args A{x, base};
  transpose(A.f(0), A.f(1), A.n(2), A.n(3), lo, hi);
  return 0;
}
ENTRY(colsum) {
  const Args A{x, base};
  colsum(A.f(0), A.f(1), A.n(2), A.n(3), A.n(4), lo, hi);
  return 0;
}
ENTRY(layernorm_fwd) {
  const Args A{x, base};
  layernorm_fwd(A.f(0), A.f(1), A.f(2), A.f(3), A.f(4), A.f(5), A.n(6), A.x(7), lo, hi);
  return 0;
}
ENTRY(layernorm_bwd_dx) {
  const Args A{x, base};
  layernorm_bwd_dx(A.f(0), A.f(1), A.f(2), A.f(3), A.f(4), A.f(5), A.n(6), lo, hi);
  return 0;
}
ENTRY(layernorm_bwd_dw) {
  const Args A{x, base};
  layernorm_bwd_dw(A.f(0), A.f(1), A.f(2), A.f(3), A.f(4), A.f(5), A.n(6), A.n(7), lo, hi);
  return 0;
}
ENTRY(attn_fwd) {
  const Args A{x, base};
  attn_fwd(A.f(0), A.f(1), A.f(2), A.i32(3), A.f(4), A.n(5), A.n(6), lo, hi);
  return 0;
}
ENTRY(attn_bwd) {
  const Args A{x, base};
  attn_bwd(A.f(0), A.f(1), A.f(2), A.f(3), A.f(4), A.i32(5), A.f(6), A.n(7), A.n(8), lo, hi);
  return 0;
}
ENTRY(kv_append) {
  const Args A{x, base};
  kv_append(base, A.f(0), A.i32(1), A.n(2), A.n(3), lo, hi);
  return 0;
}
ENTRY(attn_infer) {
  const Args A{x, base};
  attn_infer(base, A.f(0), A.n(1), A.f(2), A.i32(3), A.n(4), A.n(5), A.n(6), A.f(7), A.n(8), lo, hi);
  return 0;
}
ENTRY(xent) {
  const Args A{x, base};
  xent(A.f(0), A.i32(1), A.f(2), A.f(3), A.n(4), A.n(5), lo, hi);
  return 0;
}
ENTRY(log_softmax) {
  const Args A{x, base};
  log_softmax(A.f(0), A.n(1), lo, hi);
  return 0;
}
ENTRY(gelu_fwd) {
  const Args A{x, base};
  gelu_fwd(A.f(0), A.f(1), lo, hi);
  return 0;
}
ENTRY(gelu_bwd) {
  const Args A{x, base};
  gelu_bwd(A.f(0), A.f(1), A.f(2), lo, hi);
  return 0;
}
ENTRY(add_inplace) {
  const Args A{x, base};
  add_inplace(A.f(0), A.f(1), lo, hi);
  return 0;
}
ENTRY(embed_fwd) {
  const Args A{x, base};
  embed_fwd(A.i32(0), A.i32(1), A.f(2), A.f(3), A.f(4), A.n(5), lo, hi);
  return 0;
}
ENTRY(embed_bwd) {
  const Args A{x, base};
  embed_bwd(A.i32(0), A.i32(1), A.f(2), A.f(3), A.f(4), A.n(5), lo, hi);
  return 0;
}
ENTRY(adamw) {
  const Args A{x, base};
  adamw(A.f(0), A.f(1), A.f(2), A.f(3), A.x(4), A.x(5), A.x(6), A.x(7), A.x(8), A.x(9), A.x(10), A.x(11), lo, hi);
  return 0;
}
ENTRY(sumsq) {
  UNUSED_RANGE;
  const Args A{x, base};
  return sumsq(A.f(0), A.n(1));
}
ENTRY(zero) {
  const Args A{x, base};
  zero(A.f(0), lo, hi);
  return 0;
}
ENTRY(peak_fma) {
  UNUSED_RANGE;
  const Args A{x, base};
  return peak_fma(A.n(0), A.f(1));
}
ENTRY(heap_base) {
  UNUSED_RANGE;
  (void)x, (void)base;
  return 0;
}
// peak_fma over a range so the pool can run it on every thread at once: each unit is n trips; the sum
// goes to p + 256 bytes + 4 * lo.
ENTRY(peak_fma_par) {
  const Args A{x, base};
  float s = 0;
  for (int r = lo; r < hi; r++) {
    int n = A.n(0);
    __asm__ volatile("" : "+r"(n));  // each unit is a separate run: no merging of identical calls
    s += peak_fma(n, A.f(1));
  }
  A.f(1)[64 + lo] = s;
  return 0;
}

#undef ENTRY
#undef UNUSED_RANGE

#define E(name, pre) {#name, &e_##name, pre}
static const psrlm::KernelEntry kEntries[] = {
    E(matmul, 12),     E(matmul_rows, 8),      E(matmul_cols, 8),      E(matmul_tn_rows, 7), E(matmul_tn_cols, 7),
    E(gemm_rows, 13),  E(gemm_cols, 13),       E(transpose, 4),        E(colsum, 5),         E(layernorm_fwd, 8),
    E(layernorm_bwd_dx, 7), E(layernorm_bwd_dw, 8), E(attn_fwd, 7),   E(attn_bwd, 9),       E(kv_append, 4),
    E(attn_infer, 9),  E(xent, 6),             E(log_softmax, 2),      E(gelu_fwd, 2),       E(gelu_bwd, 3),
    E(add_inplace, 2), E(embed_fwd, 6),        E(embed_bwd, 6),        E(adamw, 12),         E(sumsq, 2),
    E(zero, 1),        E(peak_fma, 2),         E(heap_base, 0),        E(peak_fma_par, 2),
};
#undef E
