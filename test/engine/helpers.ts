// Shared fixtures for the engine tests: the kernel paths to test, a tiny model on a fresh heap, and
// finite differences.
import { test } from 'node:test';
import { modelConfig, type ModelConfig } from '../../src/engine/config.js';
import { Heap } from '../../src/engine/memory.js';
import { GPT } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import type { KernelPath } from '../../src/engine/native.js';
import { ThreadPool } from '../../src/engine/threads.js';

/**
 * The kernel paths the engine's oracles run on: both the native kernels and the WebAssembly ones (they
 * may differ by float rounding only, and every oracle must hold on each), or the one PSRLM_KERNELS names.
 * The native kernels are built for x86-64 Linux; elsewhere only the WebAssembly path is tested. Where
 * they should run but do not, the native tests fail and say why.
 */
export const KERNEL_PATHS: KernelPath[] =
  process.env.PSRLM_KERNELS === 'native' || process.env.PSRLM_KERNELS === 'wasm'
    ? [process.env.PSRLM_KERNELS]
    : process.platform === 'linux' && process.arch === 'x64'
      ? ['native', 'wasm']
      : ['wasm'];

/** Registers test `name` once per kernel path, suffixed with the path. */
export function eachPath(name: string, fn: (kernels: KernelPath) => void | Promise<void>): void {
  for (const kernels of KERNEL_PATHS) test(`${name} [${kernels}]`, () => fn(kernels));
}

export function tinyModel(
  over: Partial<ModelConfig> = {},
  threads = 2,
  seed = 1,
  kernels?: KernelPath,
): { model: GPT; heap: Heap; pool: ThreadPool } {
  const heap = new Heap();
  const pool = new ThreadPool(heap, threads, { kernels });
  const cfg = modelConfig({ vocab_size: 13, n_ctx: 32, n_layer: 2, n_embd: 16, n_head: 2, ...over });
  const model = new GPT(cfg, heap, pool);
  model.init(seed);
  return { model, heap, pool };
}

/** Scales the random-initialised weights up so gradients are large against fp32 rounding. */
export function amplify(model: GPT, factor: number): void {
  const f = model.heap.f32();
  for (const p of model.layout.params) {
    if (!p.init.startsWith('normal')) continue;
    for (let i = 0; i < p.size; i++) f[(model.params >> 2) + p.offset + i]! *= factor;
  }
}

export function randomBatch(rng: Rng, lens: number[], V: number) {
  const N = lens.reduce((a, b) => a + b, 0);
  const tokens = new Int32Array(N),
    targets = new Int32Array(N);
  const seqs: Array<[number, number]> = [];
  let o = 0;
  for (const l of lens) {
    seqs.push([o, l]);
    for (let t = 0; t < l; t++) {
      tokens[o + t] = rng.int(V);
      targets[o + t] = t % 3 === 0 ? -1 : rng.int(V);
    }
    o += l;
  }
  return { tokens, targets, seqs };
}

/** |fd - an| <= atol + rtol * |an|, else a message. */
export function close(fd: number, an: number, atol: number, rtol: number): boolean {
  return Math.abs(fd - an) <= atol + rtol * Math.abs(an);
}

export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}
