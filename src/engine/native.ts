// The native kernels (native/: C++ with AVX-512 or AVX2, a Node-API addon built by `npm install`; see
// docs/engine.md, "Native kernels"): loading the addon, choosing between it and the WebAssembly kernels,
// and a `Kernels` object over it, so the engine calls either path the same way. The native kernels work
// on the same shared heap as the WebAssembly ones (its bytes never move), take the same arguments (byte
// offsets into it), and run on two threads of their own inside the addon.
//
// Choice: an explicit `kernels` option, else PSRLM_KERNELS=native|wasm, else native where the addon is
// built and the CPU has AVX2 + FMA. Asking for native where it is unavailable is an error that says why;
// falling back on its own says so once per process, in one line on stderr. PSRLM_NATIVE_ISA=avx512|avx2|
// avx2x2 forces an instruction set (avx2x2: AVX-512's sixteen-lane code run on AVX2, for tests).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Heap } from './memory.js';
import type { KernelName, Kernels } from './wasm.js';

export type KernelPath = 'native' | 'wasm';

/** Kernels only the native path has: the GEMM with a fused epilogue (residual add, GELU). */
export type NativeOnlyKernel = 'gemm_rows' | 'gemm_cols';

export interface NativeInfo {
  /** The instruction set of the kernels in use: avx512, avx2 or avx2x2. */
  isa: string;
  /** Floats per vector. */
  lanes: number;
  /** Rows of the GEMM's register tile. */
  mr: number;
  /** Vector FMAs per trip of peak_fma. */
  peakFmas: number;
  names: string[];
  pre: number[];
  cpu: string;
}

interface Addon {
  info(isa?: string): NativeInfo;
  open(heap: Uint8Array, args: Float64Array, threads: number, isa?: string): object;
  call(pool: object, kernel: number, nargs: number): number;
  run(pool: object, kernel: number, total: number, align: number, minSplit: number): void;
  close(pool: object): void;
  threadCpuNs(): number;
}

const ADDON = new URL('../../../native/build/Release/psrlm_native.node', import.meta.url);
const REASON = new URL('../../../native/build/unavailable.txt', import.meta.url);

let loaded: { addon: Addon; info: NativeInfo } | { reason: string } | undefined;
let warned = false;

function isaOverride(): string | undefined {
  return process.env.PSRLM_NATIVE_ISA || undefined;
}

function load(): { addon: Addon; info: NativeInfo } | { reason: string } {
  if (loaded) return loaded;
  const file = fileURLToPath(ADDON);
  if (!existsSync(file)) {
    const why = existsSync(REASON)
      ? readFileSync(REASON, 'utf8').trim()
      : "the addon is not built (run 'npm run build:native')";
    return (loaded = { reason: why });
  }
  try {
    const addon = createRequire(import.meta.url)(file) as Addon;
    return (loaded = { addon, info: addon.info(isaOverride()) });
  } catch (e) {
    return (loaded = { reason: e instanceof Error ? e.message : String(e) });
  }
}

/** Whether the native kernels can run here, and their instruction set or why not. */
export function nativeStatus(): { available: true; info: NativeInfo } | { available: false; reason: string } {
  const l = load();
  return 'reason' in l ? { available: false, reason: l.reason } : { available: true, info: l.info };
}

/** CPU time of the calling thread in milliseconds (benchmarks on a shared machine); needs the addon. */
export function threadCpuMs(): number {
  const l = load();
  if ('reason' in l) throw new Error(`the thread CPU clock needs the native addon, which is unavailable: ${l.reason}`);
  return l.addon.threadCpuNs() / 1e6;
}

/** The kernel path to use for `requested` (undefined: PSRLM_KERNELS, else the best available). */
export function resolveKernelPath(requested?: KernelPath): KernelPath {
  const env = process.env.PSRLM_KERNELS;
  if (requested === undefined && env !== undefined && env !== '' && env !== 'native' && env !== 'wasm') {
    throw new Error(`PSRLM_KERNELS must be 'native' or 'wasm', not '${env}'`);
  }
  const want = requested ?? ((env || undefined) as KernelPath | undefined);
  if (want === 'wasm') return 'wasm';
  const st = nativeStatus();
  if (want === 'native') {
    if (!st.available) {
      const source = requested ? "the engine's kernels option" : 'PSRLM_KERNELS';
      throw new Error(
        `${source} asks for the native kernels, but they are unavailable: ${st.reason}. ` +
          "Build them with 'npm run build:native', or ask for 'wasm'.",
      );
    }
    return 'native';
  }
  if (st.available) return 'native';
  if (!warned) {
    warned = true;
    process.stderr.write(`psrlm: native kernels unavailable (${st.reason}); using the WebAssembly kernels\n`);
  }
  return 'wasm';
}

/** The native kernels over one heap, with their own two-thread pool. */
export class NativeKernels {
  readonly k: Kernels & Record<NativeOnlyKernel, (...args: number[]) => void>;
  readonly info: NativeInfo;
  private readonly addon: Addon;
  private readonly args = new Float64Array(32);
  private readonly ids = new Map<string, number>();
  private handle: object;

  constructor(heap: Heap, threads: number) {
    const l = load();
    if ('reason' in l) throw new Error(`native kernels unavailable: ${l.reason}`);
    this.addon = l.addon;
    // the instruction set is read per pool, so a test can run several in one process
    this.info = this.addon.info(isaOverride());
    this.handle = this.addon.open(new Uint8Array(heap.memory.buffer), this.args, threads, isaOverride());
    const k: Record<string, (...xs: number[]) => number> = {};
    const { addon, args } = this;
    this.info.names.forEach((name, id) => {
      this.ids.set(name, id);
      k[name] = (...xs: number[]) => {
        for (let i = 0; i < xs.length; i++) args[i] = xs[i]!;
        return addon.call(this.handle, id, xs.length);
      };
    });
    this.k = k as unknown as NativeKernels['k'];
  }

  /** Kernel `name` over [0, total) of its parallel dimension, split between the threads as the pool does. */
  run(name: KernelName | NativeOnlyKernel, args: number[], total: number, align: number, minSplit: number): void {
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`native kernels: no kernel named ${name}`);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]!;
    this.addon.run(this.handle, id, total, align, minSplit);
  }

  close(): void {
    this.addon.close(this.handle);
  }
}
