// Runs kernels on both cores: the calling thread and one worker share the wasm memory; a call is split
// into two ranges of the kernel's parallel dimension, the worker takes the upper one. Hand-off is a
// pair of counters in a SharedArrayBuffer. Kernel calls are microseconds apart during decoding, so both
// sides spin briefly before falling back to Atomics.wait (a futex sleep costs tens of microseconds to
// wake, longer than many of the calls). Small calls run inline: splitting them costs more than it saves.
//
// The calling thread blocks in `wait` while the worker runs, so it never sees the worker's `error` or
// `exit` events: a worker that fails to load (dist/ rebuilt or removed under a running process) or dies
// mid-call would leave it waiting forever. A watchdog thread therefore owns the kernel worker: its event
// loop is free, so it hears those events, writes FAILED into the shared control block, posts the reason
// on a message port and wakes the waiter, which reads the reason synchronously (receiveMessageOnPort).
// The watchdog is inline code, so nothing on disk can stop it from loading. The hand-off's fast path is
// unchanged: the state is only read once the caller has spun and fallen back to sleeping.
//
// With the native kernels (src/engine/native.ts) the addon splits calls between threads of its own, and
// no worker is started here.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { instantiate, kernelModule, type KernelName, type Kernels } from './wasm.js';
import { RESERVED, type Heap } from './memory.js';
import { NativeKernels, resolveKernelPath, type KernelPath, type NativeOnlyKernel } from './native.js';

const SEQ = 0,
  DONE = 1,
  KERNEL = 2,
  NARGS = 3,
  STOP = 4,
  ERROR = 5,
  STATE = 6;
/** Values of ctl[STATE]: the worker writes RUNNING once its kernels are instantiated; the watchdog FAILED. */
const STARTING = 0,
  RUNNING = 1,
  FAILED = 2;
const MAX_ARGS = 24;
/** A worker not running after this long is reported as not started (start-up takes milliseconds). */
const START_TIMEOUT_MS = 60_000;

// Runs as its own thread (eval'd CommonJS): starts the kernel worker and reports its load error or exit.
// An exit after close() set STOP is the normal end and is not reported.
const WATCHDOG = `
const { Worker, workerData } = require('node:worker_threads');
const { url, port, ...data } = workerData;
const ctl = new Int32Array(data.sab, 0, 16);
let reported = false;
function fail(what) {
  if (reported || Atomics.load(ctl, ${STOP}) !== 0) return;
  reported = true;
  port.postMessage(what);
  Atomics.store(ctl, ${STATE}, ${FAILED});
  Atomics.notify(ctl, ${DONE});
}
try {
  const w = new Worker(new URL(url), { workerData: data });
  w.on('error', (e) => fail((Atomics.load(ctl, ${STATE}) === ${RUNNING} ? 'failed: ' : 'failed to load: ') +
    (e && e.message ? e.message : String(e))));
  w.on('exit', (code) => fail((Atomics.load(ctl, ${STATE}) === ${RUNNING} ? 'stopped' : 'stopped before it started') +
    ' (exit code ' + code + ')'));
} catch (e) {
  fail('could not be created: ' + (e && e.message ? e.message : String(e)));
}
`;

export interface ThreadPoolOptions {
  /** The kernel worker's module (default: worker.js beside this file); tests point it at broken ones. */
  workerUrl?: URL;
  /** Which kernels run (default: PSRLM_KERNELS, else native where the addon loads, else WebAssembly). */
  kernels?: KernelPath;
}

export const KERNEL_NAMES: KernelName[] = [
  'matmul',
  'matmul_rows',
  'matmul_cols',
  'matmul_tn_rows',
  'matmul_tn_cols',
  'transpose',
  'colsum',
  'layernorm_fwd',
  'layernorm_bwd_dx',
  'layernorm_bwd_dw',
  'attn_fwd',
  'attn_bwd',
  'kv_append',
  'attn_infer',
  'xent',
  'log_softmax',
  'gelu_fwd',
  'gelu_bwd',
  'add_inplace',
  'embed_fwd',
  'embed_bwd',
  'adamw',
  'sumsq',
  'zero',
  'peak_fma',
  'peak_fma_par',
];

export class ThreadPool {
  readonly k: Kernels;
  readonly threads: number;
  /** Which kernels run: the native addon's or the WebAssembly module's. */
  readonly path: KernelPath;
  /** The native kernels, when they are the ones running. */
  readonly native: NativeKernels | undefined;
  private ctl: Int32Array;
  private args: Float64Array;
  private worker: Worker | undefined;
  private seq = 0;
  /** Calls handed to the worker, and calls run inline (for the benchmark's breakdown). */
  splitCalls = 0;
  inlineCalls = 0;
  /** When set, wall time per kernel name accumulates here (benchmarks' breakdown). */
  profile: Map<string, { ms: number; calls: number }> | undefined;

  private readonly workerUrl: URL;
  /** Where the watchdog posts why the worker failed; read synchronously by the waiting thread. */
  private failures: MessagePort | undefined;
  private startDeadline = 0;
  /** Set once the worker is known to have failed: every later split call throws it. */
  private failure: Error | undefined;

  constructor(
    readonly heap: Heap,
    threads = 2,
    opts: ThreadPoolOptions = {},
  ) {
    this.workerUrl = opts.workerUrl ?? new URL('./worker.js', import.meta.url);
    this.path = resolveKernelPath(opts.kernels);
    if (this.path === 'native') {
      this.threads = Math.max(1, Math.min(2, threads));
      this.native = new NativeKernels(heap, this.threads);
      this.k = this.native.k;
      this.ctl = new Int32Array(16);
      this.args = new Float64Array(MAX_ARGS);
      return;
    }
    this.native = undefined;
    const module = kernelModule();
    this.k = instantiate(module, heap.memory);
    if (this.k.heap_base() > RESERVED) {
      throw new Error(
        `kernel module's static data ends at ${this.k.heap_base()}, above the heap's reserved ${RESERVED} bytes`,
      );
    }
    this.threads = Math.max(1, Math.min(2, threads));
    const sab = new SharedArrayBuffer(64 + MAX_ARGS * 8);
    this.ctl = new Int32Array(sab, 0, 16);
    this.args = new Float64Array(sab, 64, MAX_ARGS);
    if (this.threads > 1) {
      const { port1, port2 } = new MessageChannel();
      port1.unref();
      this.failures = port1;
      this.startDeadline = performance.now() + START_TIMEOUT_MS;
      this.worker = new Worker(WATCHDOG, {
        eval: true,
        workerData: { url: this.workerUrl.href, port: port2, module, memory: heap.memory, sab, names: KERNEL_NAMES },
        transferList: [port2],
      });
      this.worker.unref();
      this.worker.on('error', (e) => {
        console.error(`engine watchdog thread failed: ${e.message}`);
      });
    }
  }

  /**
   * Runs kernel `name` over [0, total) of its parallel dimension with `args` before the range. `align`
   * keeps the split point a multiple of it (e.g. 8 columns for the GEMM); `minSplit` is the smallest
   * total worth handing to a second thread.
   */
  run(name: KernelName | NativeOnlyKernel, args: number[], total: number, align = 1, minSplit = 2): void {
    if (this.profile) {
      const t = performance.now();
      this.dispatch(name, args, total, align, minSplit);
      const e = this.profile.get(name) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t;
      e.calls++;
      this.profile.set(name, e);
      return;
    }
    this.dispatch(name, args, total, align, minSplit);
  }

  private dispatch(
    name: KernelName | NativeOnlyKernel,
    args: number[],
    total: number,
    align: number,
    minSplit: number,
  ): void {
    if (this.native) {
      this.native.run(name, args, total, align, minSplit);
      return;
    }
    if (name === 'gemm_rows' || name === 'gemm_cols') throw new Error(`${name} is a native kernel only`);
    const fn = this.k[name] as unknown as (...a: number[]) => void;
    if (!this.worker || total < minSplit || total < 2 * align) {
      this.inlineCalls++;
      fn(...args, 0, total);
      return;
    }
    let mid = Math.round(total / 2 / align) * align;
    if (mid <= 0 || mid >= total) {
      this.inlineCalls++;
      fn(...args, 0, total);
      return;
    }
    this.splitCalls++;
    const n = args.length;
    for (let i = 0; i < n; i++) this.args[i] = args[i]!;
    this.args[n] = mid;
    this.args[n + 1] = total;
    this.ctl[KERNEL] = KERNEL_NAMES.indexOf(name);
    this.ctl[NARGS] = n + 2;
    const seq = ++this.seq;
    Atomics.store(this.ctl, SEQ, seq);
    Atomics.notify(this.ctl, SEQ);
    fn(...args, 0, mid);
    this.wait(seq);
  }

  private wait(seq: number): void {
    let spins = 0;
    while (Atomics.load(this.ctl, DONE) !== seq) {
      if (++spins > 20000) {
        Atomics.wait(this.ctl, DONE, Atomics.load(this.ctl, DONE), 1);
        const state = Atomics.load(this.ctl, STATE);
        if (state === FAILED || (state === STARTING && performance.now() > this.startDeadline)) throw this.failed();
      }
    }
    if (this.ctl[ERROR] !== 0) {
      this.ctl[ERROR] = 0;
      throw new Error('engine worker thread: a kernel failed (out-of-bounds access?)');
    }
  }

  /** The worker's failure as an error that says what happened, to which file, and what to do. */
  private failed(): Error {
    if (!this.failure) {
      let what: string | undefined;
      // The watchdog posts the reason before it sets FAILED; allow the message a moment to land.
      const until = performance.now() + 1000;
      while (what === undefined && Atomics.load(this.ctl, STATE) === FAILED && performance.now() < until) {
        what = receiveMessageOnPort(this.failures!)?.message as string | undefined;
        if (what === undefined) Atomics.wait(this.ctl, STATE, FAILED, 5);
      }
      if (Atomics.load(this.ctl, STATE) === STARTING) what = `did not start within ${START_TIMEOUT_MS / 1000} s`;
      this.failure = new Error(
        `engine worker thread (${fileURLToPath(this.workerUrl)}) ${what ?? 'failed'}. ` +
          'The engine cannot go on without it. If dist/ was rebuilt or removed while this process ran, or the ' +
          "build is incomplete, run 'npm run build' and start again.",
      );
    }
    return this.failure;
  }

  close(): void {
    this.native?.close();
    if (!this.worker) return;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    void this.worker.terminate();
    this.worker = undefined;
  }
}

export const CTL = { SEQ, DONE, KERNEL, NARGS, STOP, ERROR, STATE };
