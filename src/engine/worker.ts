// The second core's loop (see threads.ts): wait for a call, run the kernel on its range, signal done.
// It says RUNNING in the control block once its kernels are instantiated (threads.ts's start-up check).
import { workerData } from 'node:worker_threads';
import { instantiate } from './wasm.js';

const { module, memory, sab, names } = workerData as {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  sab: SharedArrayBuffer;
  names: string[];
};
const SEQ = 0,
  DONE = 1,
  KERNEL = 2,
  NARGS = 3,
  STOP = 4,
  ERROR = 5,
  STATE = 6,
  RUNNING = 1;
const ctl = new Int32Array(sab, 0, 16);
const args = new Float64Array(sab, 64, 24);
const k = instantiate(module, memory) as unknown as Record<string, (...a: number[]) => unknown>;
const fns = names.map((n) => k[n]!);
Atomics.store(ctl, STATE, RUNNING);

let last = 0;
for (;;) {
  let spins = 0;
  let seq = Atomics.load(ctl, SEQ);
  while (seq === last) {
    if (++spins > 50000) Atomics.wait(ctl, SEQ, last, 50);
    seq = Atomics.load(ctl, SEQ);
  }
  last = seq;
  if (Atomics.load(ctl, STOP)) break;
  const n = ctl[NARGS]!;
  const a: number[] = new Array(n);
  for (let i = 0; i < n; i++) a[i] = args[i]!;
  try {
    fns[ctl[KERNEL]!]!(...a);
  } catch {
    ctl[ERROR] = 1;
  }
  Atomics.store(ctl, DONE, seq);
  Atomics.notify(ctl, DONE);
}
