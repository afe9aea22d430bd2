// Finite-difference checks of every backward kernel (layernorm, GELU, attention, cross-entropy) and of
// the whole model, plus the GEMM against a float64 reference. Central differences in fp32 with inputs of
// order 1 and steps of 1e-2: the tolerance (1e-4 absolute + 1e-2 relative) is what fp32 rounding of the
// loss allows (smaller steps drown in it). Every check runs on each kernel path (native and WebAssembly),
// over one shared heap.
import assert from 'node:assert/strict';
import { Heap } from '../../src/engine/memory.js';
import type { KernelPath } from '../../src/engine/native.js';
import { ThreadPool } from '../../src/engine/threads.js';
import type { Kernels } from '../../src/engine/wasm.js';
import { Rng } from '../../src/engine/rng.js';
import { KERNEL_PATHS, amplify, close, eachPath, randn, randomBatch, tinyModel } from './helpers.js';

const heap = new Heap();
const pools = new Map(KERNEL_PATHS.map((p) => [p, new ThreadPool(heap, 2, { kernels: p })] as const));
// the pool and kernels of the path under test (tests run one at a time)
let pool: ThreadPool;
let k: Kernels;
const rng = new Rng(42);

function test(name: string, fn: (kernels: KernelPath) => void): void {
  eachPath(name, (kernels) => {
    pool = pools.get(kernels)!;
    k = pool.k;
    fn(kernels);
  });
}

function put(a: ArrayLike<number>): number {
  const p = heap.allocF32(a.length);
  heap.writeF32(p, a);
  return p;
}

/** Checks analytic gradient `an` of loss(x) against central differences on every coordinate. */
function fdCheck(name: string, x: number, n: number, loss: () => number, an: Float32Array, eps = 1e-2): void {
  let bad = '';
  for (let i = 0; i < n; i++) {
    const f = heap.f32();
    const old = f[(x >> 2) + i]!;
    f[(x >> 2) + i] = old + eps;
    const lp = loss();
    heap.f32()[(x >> 2) + i] = old - eps;
    const lm = loss();
    heap.f32()[(x >> 2) + i] = old;
    const fd = (lp - lm) / (2 * eps);
    if (!close(fd, an[i]!, 1e-4, 1e-2) && !bad) bad = `${name}[${i}]: finite difference ${fd}, analytic ${an[i]}`;
  }
  assert.equal(bad, '', bad);
}

function dot(p: number, r: Float32Array): number {
  const f = heap.f32();
  let s = 0;
  for (let i = 0; i < r.length; i++) s += f[(p >> 2) + i]! * r[i]!;
  return s;
}

test('layernorm backward matches finite differences', () => {
  const R = 4,
    C = 12;
  const x = put(randn(rng, R * C)),
    w = put(randn(rng, C)),
    b = put(randn(rng, C));
  const out = heap.allocF32(R * C),
    mean = heap.allocF32(R),
    rstd = heap.allocF32(R);
  const r = randn(rng, R * C);
  const loss = () => {
    k.layernorm_fwd(x, w, b, out, mean, rstd, C, 1e-5, 0, R);
    return dot(out, r);
  };
  loss();
  const dout = put(r),
    dx = put(new Float32Array(R * C)),
    dw = put(new Float32Array(C)),
    db = put(new Float32Array(C));
  k.layernorm_bwd_dx(dout, x, w, mean, rstd, dx, C, 0, R);
  k.layernorm_bwd_dw(dout, x, mean, rstd, dw, db, R, C, 0, C);
  fdCheck('dx', x, R * C, loss, heap.readF32(dx, R * C));
  fdCheck('dw', w, C, loss, heap.readF32(dw, C));
  fdCheck('db', b, C, loss, heap.readF32(db, C));
});

test('GELU backward matches finite differences (vector body and scalar tail)', () => {
  const n = 37;
  const x = put(randn(rng, n, 2)),
    out = heap.allocF32(n),
    r = randn(rng, n);
  const loss = () => {
    k.gelu_fwd(x, out, 0, n);
    return dot(out, r);
  };
  const dout = put(r),
    dx = heap.allocF32(n);
  k.gelu_bwd(x, dout, dx, 0, n);
  fdCheck('dx', x, n, loss, heap.readF32(dx, n));
  // and the forward against the tanh formula in float64
  loss();
  const xs = heap.readF32(x, n),
    ys = heap.readF32(out, n);
  xs.forEach((v, i) => {
    const ref = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    assert.ok(Math.abs(ys[i]! - ref) < 1e-6 * (1 + Math.abs(ref)), `gelu(${v}) = ${ys[i]}, expected ${ref}`);
  });
});

test('attention backward matches finite differences over packed sequences', () => {
  const C = 8,
    H = 2,
    lens = [5, 3];
  const N = 8;
  const qkv = put(randn(rng, N * 3 * C)),
    y = heap.allocF32(N * C);
  const table = [0, 5, 0, 5, 3, H * 25];
  const seqs = heap.alloc(table.length * 4);
  heap.writeI32(seqs, table);
  const att = heap.allocF32(H * (25 + 9));
  const scratch = heap.allocF32(N * C);
  const r = randn(rng, N * C);
  const loss = () => {
    k.attn_fwd(qkv, y, att, seqs, scratch, C, H, 0, lens.length * H);
    return dot(y, r);
  };
  loss();
  const dy = put(r),
    dqkv = heap.allocF32(N * 3 * C);
  k.attn_bwd(qkv, y, att, dy, dqkv, seqs, scratch, C, H, 0, lens.length * H);
  fdCheck('dqkv', qkv, N * 3 * C, loss, heap.readF32(dqkv, N * 3 * C));
});

test('cross-entropy gradient matches finite differences; ignored rows give zero', () => {
  const R = 3,
    V = 13;
  const logits = put(randn(rng, R * V, 2));
  const tg = heap.alloc(R * 4);
  heap.writeI32(tg, [4, -1, 12]);
  const gw = [0.7, 0.3, -1.1];
  const g = put(gw),
    logp = heap.allocF32(R),
    work = heap.allocF32(R * V);
  const loss = () => {
    heap.f32().copyWithin(work >> 2, logits >> 2, (logits >> 2) + R * V);
    k.xent(work, tg, g, logp, V, 0, 0, R);
    const lp = heap.readF32(logp, R);
    return lp.reduce((a, v, i) => a + v * gw[i]!, 0);
  };
  loss();
  heap.f32().copyWithin(work >> 2, logits >> 2, (logits >> 2) + R * V);
  k.xent(work, tg, g, logp, V, 1, 0, R);
  const an = heap.readF32(work, R * V);
  fdCheck('dlogits', logits, R * V, loss, an);
  assert.ok(an.slice(V, 2 * V).every((v) => v === 0));
});

test('GEMM matches float64 products: bias, accumulate, tails, row and column splits', () => {
  for (const [M, K, N] of [
    [1, 3, 5],
    [7, 9, 13],
    [33, 17, 40],
    [6, 64, 8],
  ] as const) {
    const A = randn(rng, M * K),
      B = randn(rng, K * N),
      bias = randn(rng, N),
      C0 = randn(rng, M * N);
    const a = put(A),
      b = put(B),
      bi = put(bias);
    const ref = new Float64Array(M * N);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = bias[j]!;
        for (let q = 0; q < K; q++) s += A[i * K + q]! * B[q * N + j]!;
        ref[i * N + j] = s;
      }
    const c1 = heap.allocF32(M * N),
      c2 = heap.allocF32(M * N),
      c3 = put(C0);
    pool.run('matmul_rows', [a, b, c1, bi, M, K, N, 0], M, 4, 1);
    pool.run('matmul_cols', [a, b, c2, bi, M, K, N, 0], N, 8, 1);
    pool.run('matmul_rows', [a, b, c3, 0, M, K, N, 1], M, 4, 1);
    const r1 = heap.readF32(c1, M * N),
      r2 = heap.readF32(c2, M * N),
      r3 = heap.readF32(c3, M * N);
    for (let i = 0; i < M * N; i++) {
      assert.ok(
        Math.abs(r1[i]! - ref[i]!) < 1e-4 * (1 + Math.abs(ref[i]!)),
        `[${M},${K},${N}] element ${i}: ${r1[i]} vs ${ref[i]}`,
      );
      const acc = C0[i]! + (ref[i]! - bias[i % N]!);
      assert.ok(Math.abs(r3[i]! - acc) < 1e-4 * (1 + Math.abs(acc)), `accumulate element ${i}`);
    }
    assert.deepEqual(r1, r2, 'row split and column split must give the same bits');
  }
});

test('whole-model gradient matches finite differences on every parameter tensor', (kernels) => {
  const { model, heap: h, pool: p } = tinyModel({}, 2, 1, kernels);
  try {
    amplify(model, 10);
    const r = new Rng(5);
    const batch = randomBatch(r, [7, 5, 9], model.cfg.vocab_size);
    const N = batch.tokens.length;
    const g = new Float32Array(N);
    for (let i = 0; i < N; i++) g[i] = batch.targets[i]! < 0 ? 0 : r.next() - 0.5;
    const loss = () => model.forward(batch).reduce((a, v, i) => a + v * g[i]!, 0);
    loss();
    model.zeroGrad();
    model.backward(g);
    const grads = h.readF32(model.grads, model.layout.total);
    for (const prm of model.layout.params) {
      for (let q = 0; q < 3; q++) {
        const i = r.int(prm.size);
        const idx = (model.params >> 2) + prm.offset + i;
        const old = h.f32()[idx]!;
        h.f32()[idx] = old + 1e-2;
        const lp = loss();
        h.f32()[idx] = old - 1e-2;
        const lm = loss();
        h.f32()[idx] = old;
        const fd = (lp - lm) / 2e-2,
          an = grads[prm.offset + i]!;
        assert.ok(close(fd, an, 1e-4, 2e-2), `${prm.name}[${i}]: finite difference ${fd}, analytic ${an}`);
      }
    }
  } finally {
    p.close();
  }
});

test('A^T @ B GEMM: cache-chunked reduction equals the single pass bit for bit and float64 to 1e-4', (kernels) => {
  const { model, heap: h, pool: p } = tinyModel({}, 2, 1, kernels);
  try {
    const M = 40,
      K = 3000,
      N = 24;
    const r = new Rng(8);
    const A = randn(r, K * M),
      B = randn(r, K * N);
    const a = h.allocF32(K * M),
      b = h.allocF32(K * N),
      c1 = h.calloc(M * N * 4),
      c2 = h.calloc(M * N * 4);
    h.writeF32(a, A);
    h.writeF32(b, B);
    model.mmTN(a, b, c1, M, K, N, 0);
    p.k.matmul_tn_rows(a, b, c2, M, K, N, 0, 0, M);
    const x = h.readF32(c1, M * N),
      y = h.readF32(c2, M * N);
    assert.deepEqual(x, y);
    for (let i = 0; i < M; i += 7)
      for (let j = 0; j < N; j += 5) {
        let s = 0;
        for (let q = 0; q < K; q++) s += A[q * M + i]! * B[q * N + j]!;
        assert.ok(
          Math.abs(x[i * N + j]! - s) < 1e-4 * (1 + Math.abs(s)) * Math.sqrt(K),
          `[${i},${j}] ${x[i * N + j]} vs ${s}`,
        );
      }
  } finally {
    p.close();
  }
});
