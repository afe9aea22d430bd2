// Loads the kernel module (dist/src/engine/kernels.wasm, built from src/engine/kernels/) over one shared
// linear memory. Node 20 ships relaxed SIMD behind a flag, so it is switched on here, before the first
// compile; V8 flags are process-wide, so worker threads inherit it. Liftoff (the baseline compiler) is
// turned off so kernels run optimised from the first call: the module is small and compiles in
// milliseconds, and benchmarks must not measure a warm-up tier.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

let flagsSet = false;
export function setWasmFlags(): void {
  if (flagsSet) return;
  flagsSet = true;
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  v8.setFlagsFromString('--no-liftoff');
}

/** The kernel exports, typed. Pointers are byte offsets into the shared memory. */
export interface Kernels {
  matmul(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    K: number,
    N: number,
    acc: number,
    r0: number,
    r1: number,
    c0: number,
    c1: number,
  ): void;
  matmul_rows(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    K: number,
    N: number,
    acc: number,
    r0: number,
    r1: number,
  ): void;
  matmul_cols(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    K: number,
    N: number,
    acc: number,
    c0: number,
    c1: number,
  ): void;
  matmul_tn_rows(
    a: number,
    b: number,
    c: number,
    M: number,
    K: number,
    N: number,
    acc: number,
    r0: number,
    r1: number,
  ): void;
  matmul_tn_cols(
    a: number,
    b: number,
    c: number,
    M: number,
    K: number,
    N: number,
    acc: number,
    c0: number,
    c1: number,
  ): void;
  transpose(src: number, dst: number, R: number, C: number, r0: number, r1: number): void;
  colsum(x: number, out: number, M: number, N: number, acc: number, c0: number, c1: number): void;
  layernorm_fwd(
    x: number,
    w: number,
    b: number,
    out: number,
    mean: number,
    rstd: number,
    C: number,
    eps: number,
    r0: number,
    r1: number,
  ): void;
  layernorm_bwd_dx(
    dout: number,
    x: number,
    w: number,
    mean: number,
    rstd: number,
    dx: number,
    C: number,
    r0: number,
    r1: number,
  ): void;
  layernorm_bwd_dw(
    dout: number,
    x: number,
    mean: number,
    rstd: number,
    dw: number,
    db: number,
    M: number,
    C: number,
    c0: number,
    c1: number,
  ): void;
  attn_fwd(
    qkv: number,
    y: number,
    att: number,
    seqs: number,
    kt: number,
    C: number,
    H: number,
    t0: number,
    t1: number,
  ): void;
  attn_bwd(
    qkv: number,
    y: number,
    att: number,
    dy: number,
    dqkv: number,
    seqs: number,
    vt: number,
    C: number,
    H: number,
    t0: number,
    t1: number,
  ): void;
  kv_append(qkv: number, tab: number, layer: number, C: number, r0: number, r1: number): void;
  attn_infer(
    q: number,
    qld: number,
    y: number,
    qtab: number,
    layer: number,
    C: number,
    H: number,
    scratch: number,
    sstride: number,
    t0: number,
    t1: number,
  ): void;
  xent(
    logits: number,
    targets: number,
    g: number,
    logp: number,
    V: number,
    withGrad: number,
    r0: number,
    r1: number,
  ): void;
  log_softmax(logits: number, V: number, r0: number, r1: number): void;
  gelu_fwd(x: number, out: number, n0: number, n1: number): void;
  gelu_bwd(x: number, dout: number, dx: number, n0: number, n1: number): void;
  add_inplace(a: number, b: number, n0: number, n1: number): void;
  embed_fwd(tok: number, pos: number, wte: number, wpe: number, h: number, C: number, r0: number, r1: number): void;
  embed_bwd(tok: number, pos: number, dh: number, dwte: number, dwpe: number, C: number, r0: number, r1: number): void;
  adamw(
    p: number,
    g: number,
    m: number,
    v: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    bc1: number,
    bc2: number,
    gscale: number,
    n0: number,
    n1: number,
  ): void;
  sumsq(x: number, n: number): number;
  zero(x: number, n0: number, n1: number): void;
  peak_fma(n: number, p: number): number;
  heap_base(): number;
  peak_fma_par(n: number, p: number, r0: number, r1: number): void;
}

export type KernelName = keyof Kernels;

export const WASM_PAGE = 65536;
export const MAX_PAGES = 65536; // 4 GiB: the wasm32 address space

let cachedModule: WebAssembly.Module | undefined;
export function kernelModule(): WebAssembly.Module {
  setWasmFlags();
  if (!cachedModule) {
    const url = new URL('./kernels.wasm', import.meta.url);
    let bytes: Buffer;
    try {
      bytes = readFileSync(url);
    } catch {
      throw new Error(
        `kernel module not found at ${url.pathname}: run 'npm run build' (it compiles src/engine/kernels).`,
      );
    }
    cachedModule = new WebAssembly.Module(new Uint8Array(bytes));
  }
  return cachedModule;
}

export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`kernel abort at ${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as Kernels;
}
