// The native kernels (native/, src/engine/native.ts) against the WebAssembly kernels, which the rest of
// the engine's tests check against finite differences and PyTorch: on every instruction set this CPU can
// run (avx2; avx2x2, the AVX-512 code paths at sixteen lanes on AVX2 hardware; avx512 where the CPU has
// it), a forward and backward over packed sequences whose lengths, head sizes and vocabulary exercise
// every tile edge, mask and tail agree to float rounding, parameter by parameter; the fused GEMM epilogues
// equal the separate kernels; shapes big enough for the pool to split give the same bits on one thread
// and on two; the kernels see the heap after it grows. And the path selection: PSRLM_KERNELS and
// PSRLM_NATIVE_ISA are checked and explained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelConfig, type ModelConfig } from '../../src/engine/config.js';
import { Heap } from '../../src/engine/memory.js';
import { GPT } from '../../src/engine/model.js';
import { nativeStatus, resolveKernelPath, type KernelPath } from '../../src/engine/native.js';
import { Rng } from '../../src/engine/rng.js';
import { ThreadPool } from '../../src/engine/threads.js';
import { KERNEL_PATHS, amplify, randn, randomBatch } from './helpers.js';

/** Runs fn with the environment variables set (undefined: removed), then restores them. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v))
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
  };
  set(vars);
  try {
    return fn();
  } finally {
    set(saved);
  }
}

/** max |a - b| / max |b| */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

interface Run {
  logp: Float32Array;
  logits: Float32Array;
  grads: Float32Array;
  model: GPT;
}

/** One forward and backward of a fresh model (same seed, weights scaled up) on `kernels`. */
function forwardBackward(kernels: KernelPath, over: Partial<ModelConfig>, lens: number[], threads = 2): Run {
  const heap = new Heap();
  const pool = new ThreadPool(heap, threads, { kernels });
  try {
    const cfg = modelConfig({ vocab_size: 37, n_ctx: 96, n_layer: 2, n_embd: 32, n_head: 4, ...over });
    const model = new GPT(cfg, heap, pool);
    model.init(3);
    amplify(model, 5);
    const rng = new Rng(9);
    const batch = randomBatch(rng, lens, model.cfg.vocab_size);
    const g = new Float32Array(batch.tokens.length).map((_, i) => (batch.targets[i]! < 0 ? 0 : rng.next() - 0.5));
    model.zeroGrad();
    const logp = model.forward(batch);
    const logits = model.logits();
    model.backward(g);
    return { logp, logits, grads: heap.readF32(model.grads, model.layout.total), model };
  } finally {
    pool.close();
  }
}

const CASES: Array<[string, Partial<ModelConfig>, number[]]> = [
  ['head size 8', {}, [1, 3, 4, 5, 17, 33]],
  ['head size 12, odd width', { n_embd: 24, n_head: 2, vocab_size: 29 }, [2, 7, 40]],
  ['head size 48', { n_embd: 96, n_head: 2 }, [9, 30]],
  ['head size 32, splits between threads', { n_embd: 64, n_head: 2, vocab_size: 101 }, [96, 95, 64, 70]],
];

const native = nativeStatus();
const isas = native.available ? ['avx2', 'avx2x2', ...(native.info.cpu.includes('avx512f') ? ['avx512'] : [])] : [];

if (KERNEL_PATHS.includes('native')) {
  test('the native kernels are available on this x86-64 machine', () => {
    assert.ok(native.available, `native kernels unavailable: ${native.available ? '' : native.reason}`);
  });

  for (const isa of isas) {
    test(`native (${isa}) forward and backward equal the WebAssembly kernels' to float rounding`, () => {
      for (const [label, over, lens] of CASES) {
        const w = forwardBackward('wasm', over, lens);
        const n = withEnv({ PSRLM_NATIVE_ISA: isa }, () => forwardBackward('native', over, lens));
        assert.ok(relErr(n.logp, w.logp) < 1e-5, `${label}: log-probs differ by ${relErr(n.logp, w.logp)}`);
        assert.ok(relErr(n.logits, w.logits) < 1e-5, `${label}: logits differ by ${relErr(n.logits, w.logits)}`);
        for (const p of w.model.layout.params) {
          const span = (g: Float32Array) => g.subarray(p.offset, p.offset + p.size);
          const e = relErr(span(n.grads), span(w.grads));
          assert.ok(e < 1e-4, `${label}: gradient of ${p.name} differs by ${e} of its scale`);
        }
      }
    });

    test(`native (${isa}): one thread and two give the same bits where the pool splits every kernel`, () => {
      const [, over, lens] = CASES[CASES.length - 1]!;
      withEnv({ PSRLM_NATIVE_ISA: isa }, () => {
        const one = forwardBackward('native', over, lens, 1),
          two = forwardBackward('native', over, lens, 2);
        assert.deepEqual(two.logits, one.logits);
        assert.deepEqual(two.grads, one.grads);
      });
    });

    test(`native (${isa}) GEMM epilogues equal the separate kernels; A^T @ B equals the WebAssembly GEMM`, () => {
      const heap = new Heap();
      const w = new ThreadPool(heap, 2, { kernels: 'wasm' });
      const n = withEnv({ PSRLM_NATIVE_ISA: isa }, () => new ThreadPool(heap, 2, { kernels: 'native' }));
      try {
        const rng = new Rng(4);
        const put = (a: Float32Array) => {
          const p = heap.allocF32(a.length);
          heap.writeF32(p, a);
          return p;
        };
        for (const [M, K, N] of [
          [1, 5, 3],
          [13, 37, 41],
          [70, 300, 97],
          [50, 64, 33],
        ] as const) {
          const a = put(randn(rng, M * K)),
            b = put(randn(rng, K * N)),
            bias = put(randn(rng, N));
          const resid = put(randn(rng, M * N)),
            pre = put(randn(rng, M * N)),
            at = put(randn(rng, K * M));
          const out = () => heap.allocF32(M * N);
          // wasm: the GEMM, then the separate kernels
          const cw = out(),
            aw = out(),
            gw = out(),
            tw = out();
          w.k.matmul(a, b, cw, bias, M, K, N, 0, 0, M, 0, N);
          w.k.add_inplace(cw, resid, 0, M * N);
          w.k.gelu_fwd(cw, aw, 0, M * N);
          w.k.matmul(a, b, gw, 0, M, K, N, 0, 0, M, 0, N);
          w.k.gelu_bwd(pre, gw, gw, 0, M * N);
          w.k.matmul_tn_rows(at, b, tw, M, K, N, 0, 0, M);
          // native: one GEMM each, split by rows and by columns
          for (const name of ['gemm_rows', 'gemm_cols'] as const) {
            const cn = out(),
              an = out(),
              gn = out(),
              tn = out(),
              total = name === 'gemm_rows' ? M : N;
            n.run(name, [a, K, 1, b, cn, bias, resid, an, M, K, N, 0, 0], total, 1, 2);
            n.run(name, [a, K, 1, b, gn, 0, 0, 0, M, K, N, 0, pre], total, 1, 2);
            n.run(name, [at, 1, M, b, tn, 0, 0, 0, M, K, N, 0, 0], total, 1, 2);
            const tag = `${name} [${M}x${K}x${N}]`;
            assert.ok(relErr(heap.readF32(cn, M * N), heap.readF32(cw, M * N)) < 1e-6, `${tag}: bias + residual`);
            assert.ok(relErr(heap.readF32(an, M * N), heap.readF32(aw, M * N)) < 1e-6, `${tag}: GELU`);
            assert.ok(relErr(heap.readF32(gn, M * N), heap.readF32(gw, M * N)) < 1e-6, `${tag}: GELU backward`);
            assert.ok(relErr(heap.readF32(tn, M * N), heap.readF32(tw, M * N)) < 1e-6, `${tag}: A^T @ B`);
          }
        }
      } finally {
        w.close();
        n.close();
      }
    });
  }
}

if (KERNEL_PATHS.includes('native')) {
  test('native kernels see the heap after it grows (its bytes never move)', () => {
    const heap = new Heap(1 << 20);
    const pool = new ThreadPool(heap, 2, { kernels: 'native' });
    try {
      const n = 1 << 24; // 64 MiB each: far past the first megabyte
      const a = heap.allocF32(n),
        b = heap.allocF32(n);
      heap.f32().fill(1.5, a >> 2, (a >> 2) + n);
      heap.f32().fill(2.25, b >> 2, (b >> 2) + n);
      pool.run('add_inplace', [a, b], n, 16, 1024);
      const f = heap.f32();
      assert.equal(f[(a >> 2) + n - 1], 3.75);
      assert.equal(f[a >> 2], 3.75);
    } finally {
      pool.close();
    }
  });
}

test('PSRLM_KERNELS and PSRLM_NATIVE_ISA are checked, and asking for what cannot run says why', () => {
  assert.throws(
    () => withEnv({ PSRLM_KERNELS: 'gpu' }, () => resolveKernelPath()),
    /PSRLM_KERNELS must be 'native' or 'wasm', not 'gpu'/,
  );
  assert.equal(
    withEnv({ PSRLM_KERNELS: 'wasm' }, () => resolveKernelPath()),
    'wasm',
  );
  assert.equal(
    withEnv({ PSRLM_KERNELS: 'native' }, () => resolveKernelPath('wasm')),
    'wasm',
    'the option wins',
  );
  if (native.available) {
    assert.equal(
      withEnv({ PSRLM_KERNELS: undefined }, () => resolveKernelPath()),
      'native',
      'native where built',
    );
    assert.throws(
      () => withEnv({ PSRLM_NATIVE_ISA: 'sse2' }, () => new ThreadPool(new Heap(), 1, { kernels: 'native' })),
      /PSRLM_NATIVE_ISA must be avx512, avx2 or avx2x2, not 'sse2'/,
    );
    if (!native.info.cpu.includes('avx512f')) {
      assert.throws(
        () => withEnv({ PSRLM_NATIVE_ISA: 'avx512' }, () => new ThreadPool(new Heap(), 1, { kernels: 'native' })),
        /does not support AVX-512F/,
      );
    }
  } else {
    assert.throws(() => resolveKernelPath('native'), /asks for the native kernels, but they are unavailable: .+/);
  }
});
