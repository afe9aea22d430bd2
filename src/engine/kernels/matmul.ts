// Dense matrix product C[M,N] (=|+=) A[M,K] @ B[K,N] (+ bias[N]), row-major, the engine's one GEMM.
// Every linear layer, its input gradient (with a transposed weight) and its weight gradient (with a
// transposed activation) go through it, so there is one kernel to make fast.
//
// Register blocking: 4 rows x 8 columns of C live in 8 v128 accumulators while k runs; each step loads two
// vectors of a B row and broadcasts four A scalars (V8 gives wasm 16 xmm registers: 8 + 2 + 1 fit with
// room). Each C element is reduced in k order starting from the bias (or C itself when accumulating), in
// every code path (4-row, 1-row, 8-, 4-, 1-column), so results are independent of M and of the split.
import { fma } from './simd';

// C[i, j] (=|+=) bias[j] + sum_k A(i, k) * B[k, j], where A(i, k) lies at a + i*sai + k*sak bytes: with
// sai = 4K, sak = 4 this is A @ B; with sai = 4, sak = 4M it is A^T @ B for a stored [K, M] A, which is how
// weight gradients (x^T @ dy) are formed without transposing the activations first.
export function gemm(
  a: usize, sai: usize, sak: usize, b: usize, c: usize, bias: usize, M: i32, K: i32, N: i32, accumulate: i32,
  r0: i32, r1: i32, c0: i32, c1: i32,
): void {
  const ldb = <usize>N << 2;
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const a0 = a + <usize>i * sai, a1 = a0 + sai, a2 = a1 + sai, a3 = a2 + sai;
    const p0 = c + <usize>i * ldb, p1 = p0 + ldb, p2 = p1 + ldb, p3 = p2 + ldb;
    let j = c0;
    for (; j + 8 <= c1; j += 8) {
      const jo = <usize>j << 2;
      let s00: v128, s01: v128, s10: v128, s11: v128, s20: v128, s21: v128, s30: v128, s31: v128;
      if (accumulate) {
        s00 = v128.load(p0 + jo); s01 = v128.load(p0 + jo, 16);
        s10 = v128.load(p1 + jo); s11 = v128.load(p1 + jo, 16);
        s20 = v128.load(p2 + jo); s21 = v128.load(p2 + jo, 16);
        s30 = v128.load(p3 + jo); s31 = v128.load(p3 + jo, 16);
      } else if (bias) {
        s00 = v128.load(bias + jo); s01 = v128.load(bias + jo, 16);
        s10 = s00; s11 = s01; s20 = s00; s21 = s01; s30 = s00; s31 = s01;
      } else {
        s00 = f32x4.splat(0); s01 = s00; s10 = s00; s11 = s00; s20 = s00; s21 = s00; s30 = s00; s31 = s00;
      }
      let bp = b + jo;
      let ko: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp), b1 = v128.load(bp, 16);
        let x = v128.load32_splat(a0 + ko); s00 = fma(x, b0, s00); s01 = fma(x, b1, s01);
        x = v128.load32_splat(a1 + ko); s10 = fma(x, b0, s10); s11 = fma(x, b1, s11);
        x = v128.load32_splat(a2 + ko); s20 = fma(x, b0, s20); s21 = fma(x, b1, s21);
        x = v128.load32_splat(a3 + ko); s30 = fma(x, b0, s30); s31 = fma(x, b1, s31);
        bp += ldb;
        ko += sak;
      }
      v128.store(p0 + jo, s00); v128.store(p0 + jo, s01, 16);
      v128.store(p1 + jo, s10); v128.store(p1 + jo, s11, 16);
      v128.store(p2 + jo, s20); v128.store(p2 + jo, s21, 16);
      v128.store(p3 + jo, s30); v128.store(p3 + jo, s31, 16);
    }
    if (j < c1) {
      gemmRow(a0, sak, b, p0, bias, K, N, accumulate, j, c1);
      gemmRow(a1, sak, b, p1, bias, K, N, accumulate, j, c1);
      gemmRow(a2, sak, b, p2, bias, K, N, accumulate, j, c1);
      gemmRow(a3, sak, b, p3, bias, K, N, accumulate, j, c1);
    }
  }
  for (; i < r1; i++) {
    gemmRow(a + <usize>i * sai, sak, b, c + <usize>i * ldb, bias, K, N, accumulate, c0, c1);
  }
}

// One row of C over columns [j0, j1): the same per-element k order as the 4-row block.
function gemmRow(ar: usize, sak: usize, b: usize, cr: usize, bias: usize, K: i32, N: i32, accumulate: i32, j0: i32, j1: i32): void {
  const ldb = <usize>N << 2;
  let j = j0;
  for (; j + 8 <= j1; j += 8) {
    const jo = <usize>j << 2;
    let s0: v128, s1: v128;
    if (accumulate) { s0 = v128.load(cr + jo); s1 = v128.load(cr + jo, 16); }
    else if (bias) { s0 = v128.load(bias + jo); s1 = v128.load(bias + jo, 16); }
    else { s0 = f32x4.splat(0); s1 = s0; }
    let bp = b + jo;
    let ko: usize = 0;
    for (let k = 0; k < K; k++) {
      const x = v128.load32_splat(ar + ko);
      s0 = fma(x, v128.load(bp), s0); s1 = fma(x, v128.load(bp, 16), s1);
      bp += ldb;
      ko += sak;
    }
    v128.store(cr + jo, s0); v128.store(cr + jo, s1, 16);
  }
  for (; j + 4 <= j1; j += 4) {
    const jo = <usize>j << 2;
    let s0: v128;
    if (accumulate) s0 = v128.load(cr + jo);
    else if (bias) s0 = v128.load(bias + jo);
    else s0 = f32x4.splat(0);
    let bp = b + jo;
    let ko: usize = 0;
    for (let k = 0; k < K; k++) {
      s0 = fma(v128.load32_splat(ar + ko), v128.load(bp), s0);
      bp += ldb;
      ko += sak;
    }
    v128.store(cr + jo, s0);
  }
  for (; j < j1; j++) {
    const jo = <usize>j << 2;
    // scalar tail through a one-lane vector FMA, so it rounds like the vector paths
    let s = f32x4.splat(accumulate ? load<f32>(cr + jo) : bias ? load<f32>(bias + jo) : 0);
    let bp = b + jo;
    let ko: usize = 0;
    for (let k = 0; k < K; k++) {
      s = fma(v128.load32_splat(ar + ko), f32x4.splat(load<f32>(bp)), s);
      bp += ldb;
      ko += sak;
    }
    store<f32>(cr + jo, f32x4.extract_lane(s, 0));
  }
}

export function matmul(
  a: usize, b: usize, c: usize, bias: usize, M: i32, K: i32, N: i32, accumulate: i32,
  r0: i32, r1: i32, c0: i32, c1: i32,
): void {
  gemm(a, <usize>K << 2, 4, b, c, bias, M, K, N, accumulate, r0, r1, c0, c1);
}

// dst[C, R] = src[R, C]^T over source rows [r0, r1). Used to feed the GEMM transposed operands: the copy
// costs R*C, against M*K*N for the product it serves.
export function transpose(src: usize, dst: usize, R: i32, C: i32, r0: i32, r1: i32): void {
  const ldr = <usize>R << 2;
  // 4x4 blocks through registers where possible
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const s0 = src + (<usize>i * <usize>C << 2), s1 = s0 + (<usize>C << 2), s2 = s1 + (<usize>C << 2), s3 = s2 + (<usize>C << 2);
    let j = 0;
    for (; j + 4 <= C; j += 4) {
      const jo = <usize>j << 2;
      const x0 = v128.load(s0 + jo), x1 = v128.load(s1 + jo), x2 = v128.load(s2 + jo), x3 = v128.load(s3 + jo);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const d = dst + (<usize>j * <usize>R << 2) + (<usize>i << 2);
      v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(d + ldr, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(d + 2 * ldr, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(d + 3 * ldr, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (; j < C; j++) {
      for (let q = 0; q < 4; q++) {
        store<f32>(dst + (<usize>j * <usize>R << 2) + (<usize>(i + q) << 2), load<f32>(src + ((<usize>(i + q) * <usize>C + <usize>j) << 2)));
      }
    }
  }
  for (; i < r1; i++) {
    for (let j = 0; j < C; j++) {
      store<f32>(dst + ((<usize>j * <usize>R + <usize>i) << 2), load<f32>(src + ((<usize>i * <usize>C + <usize>j) << 2)));
    }
  }
}

// Column sums: out[j] (+)= sum_i X[i, j] over rows — the bias gradient. Parallel over columns [c0, c1);
// rows are streamed in order with 32 columns held in registers, so memory is read sequentially.
export function colsum(x: usize, out: usize, M: i32, N: i32, accumulate: i32, c0: i32, c1: i32): void {
  const ld = <usize>N << 2;
  let j = c0;
  for (; j + 32 <= c1; j += 32) {
    const jo = <usize>j << 2;
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    let p = x + jo;
    for (let i = 0; i < M; i++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      s4 = f32x4.add(s4, v128.load(p, 64)); s5 = f32x4.add(s5, v128.load(p, 80));
      s6 = f32x4.add(s6, v128.load(p, 96)); s7 = f32x4.add(s7, v128.load(p, 112));
      p += ld;
    }
    const o = out + jo;
    if (accumulate) {
      s0 = f32x4.add(s0, v128.load(o)); s1 = f32x4.add(s1, v128.load(o, 16));
      s2 = f32x4.add(s2, v128.load(o, 32)); s3 = f32x4.add(s3, v128.load(o, 48));
      s4 = f32x4.add(s4, v128.load(o, 64)); s5 = f32x4.add(s5, v128.load(o, 80));
      s6 = f32x4.add(s6, v128.load(o, 96)); s7 = f32x4.add(s7, v128.load(o, 112));
    }
    v128.store(o, s0); v128.store(o, s1, 16); v128.store(o, s2, 32); v128.store(o, s3, 48);
    v128.store(o, s4, 64); v128.store(o, s5, 80); v128.store(o, s6, 96); v128.store(o, s7, 112);
  }
  for (; j + 4 <= c1; j += 4) {
    const jo = <usize>j << 2;
    let s = f32x4.splat(0);
    let p = x + jo;
    for (let i = 0; i < M; i++) { s = f32x4.add(s, v128.load(p)); p += ld; }
    if (accumulate) s = f32x4.add(s, v128.load(out + jo));
    v128.store(out + jo, s);
  }
  for (; j < c1; j++) {
    const jo = <usize>j << 2;
    let s: f32 = 0;
    for (let i = 0; i < M; i++) s += load<f32>(x + <usize>i * ld + jo);
    store<f32>(out + jo, accumulate ? s + load<f32>(out + jo) : s);
  }
}

// Entry points for the thread pool, which splits one range: by rows when there are many (training,
// prefill), by columns when there are few (decoding a handful of sequences).
export function matmul_rows(a: usize, b: usize, c: usize, bias: usize, M: i32, K: i32, N: i32, accumulate: i32, r0: i32, r1: i32): void {
  matmul(a, b, c, bias, M, K, N, accumulate, r0, r1, 0, N);
}

export function matmul_cols(a: usize, b: usize, c: usize, bias: usize, M: i32, K: i32, N: i32, accumulate: i32, c0: i32, c1: i32): void {
  matmul(a, b, c, bias, M, K, N, accumulate, 0, M, c0, c1);
}

// C[M, N] (+)= A^T @ B with A stored [K, M] and B [K, N] (K = the reduction, e.g. tokens).
export function matmul_tn_rows(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, accumulate: i32, r0: i32, r1: i32): void {
  gemm(a, 4, <usize>M << 2, b, c, 0, M, K, N, accumulate, r0, r1, 0, N);
}

export function matmul_tn_cols(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, accumulate: i32, c0: i32, c1: i32): void {
  gemm(a, 4, <usize>M << 2, b, c, 0, M, K, N, accumulate, 0, M, c0, c1);
}
