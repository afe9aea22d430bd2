// The transformer for training: forward and hand-written backward over a packed batch (docs/engine.md).
// Sequences are laid end to end in the row dimension with no padding, so every GEMM runs over exactly the
// real tokens and only attention needs to know where sequences start (the "varlen" layout). The
// backward is written out layer by layer (as llm.c does) rather than through a general autograd: the
// graph is fixed, and a tape would cost allocations and dispatch on every op.
//
// The per-token loss is given as weights g[i] = dL/dlogp[i] after the forward, which covers SFT
// (g = -1/N on completion tokens) and DPO (g = the pair's sigmoid coefficient) with one code path.
import type { Heap } from './memory.js';
import type { ThreadPool } from './threads.js';
import { paramLayout, type ModelConfig, type ParamLayout } from './config.js';
import { Rng } from './rng.js';

/** GEMMs smaller than this (multiply-adds) run on the calling thread alone. */
export const SPLIT_MACS = 1 << 20;
/** The same for the native kernels, whose hand-off to their second thread costs far less. */
export const NATIVE_SPLIT_MACS = 1 << 18;

export interface PackedBatch {
  /** Input ids, sequences back to back. */
  tokens: Int32Array;
  /** Target id per row (the next token), -1 where no loss is taken. */
  targets: Int32Array;
  /** [offset, length] of each sequence in the rows. */
  seqs: Array<[number, number]>;
}

interface LayerActs {
  ln1: number;
  ln1m: number;
  ln1r: number;
  qkv: number;
  att: number;
  y: number;
  hmid: number;
  ln2: number;
  ln2m: number;
  ln2r: number;
  fc: number;
  fca: number;
  hout: number;
}

interface Acts {
  N: number;
  S: number;
  tok: number;
  pos: number;
  tgt: number;
  g: number;
  logp: number;
  seqs: number;
  h0: number;
  layers: LayerActs[];
  lnf: number;
  lnfm: number;
  lnfr: number;
  logits: number;
  blocks: number[];
}

export class GPT {
  readonly layout: ParamLayout;
  /** Byte pointers to the flat parameter and gradient buffers. */
  readonly params: number;
  readonly grads: number;
  private acts: Acts | undefined;

  constructor(
    readonly cfg: ModelConfig,
    readonly heap: Heap,
    readonly pool: ThreadPool,
  ) {
    this.layout = paramLayout(cfg);
    this.params = heap.calloc(this.layout.total * 4);
    this.grads = heap.calloc(this.layout.total * 4);
  }

  /** Byte pointer of a named parameter (or of its gradient). */
  p(name: string, grad = false): number {
    const info = this.layout.byName.get(name);
    if (!info) throw new Error(`no parameter named ${name}`);
    return (grad ? this.grads : this.params) + info.offset * 4;
  }

  init(seed: number): void {
    const rng = new Rng(seed);
    const f = this.heap.f32();
    const resid = 0.02 / Math.sqrt(2 * this.cfg.n_layer);
    for (const p of this.layout.params) {
      const base = (this.params >>> 2) + p.offset;
      for (let i = 0; i < p.size; i++) {
        f[base + i] =
          p.init === 'ones' ? 1 : p.init === 'zeros' ? 0 : rng.normal() * (p.init === 'normal' ? 0.02 : resid);
      }
    }
  }

  zeroGrad(): void {
    this.pool.run('zero', [this.grads], this.layout.total, 16, 4096);
  }

  // ---- helpers: GEMM split by rows when tall, by columns when short ----
  /**
   * c[M,N] (=|+=) a[M,K] @ b[K,N] (+ bias), then c += resid (a residual connection), and act = gelu(c)
   * (act may be c itself), or c *= gelu'(dgelu) (the activation's backward). The native kernels do
   * these in the GEMM's epilogue; the WebAssembly path runs the separate kernels after it, with the
   * same arithmetic.
   */
  mm(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    K: number,
    N: number,
    acc = 0,
    resid = 0,
    act = 0,
    dgelu = 0,
  ): void {
    if (this.pool.native) {
      this.nativeGemm(a, K, 1, b, c, bias, M, K, N, acc, resid, act, dgelu);
      return;
    }
    // below ~1M multiply-adds (tens of microseconds) a hand-off to the second core costs more than it saves
    if (M * K * N < SPLIT_MACS) this.pool.k.matmul(a, b, c, bias, M, K, N, acc, 0, M, 0, N);
    else if (M >= 32) this.pool.run('matmul_rows', [a, b, c, bias, M, K, N, acc], M, 4, 8);
    else this.pool.run('matmul_cols', [a, b, c, bias, M, K, N, acc], N, 8, 64);
    if (resid) this.pool.run('add_inplace', [c, resid], M * N, 16, 65536);
    if (dgelu) this.pool.run('gelu_bwd', [dgelu, c, c], M * N, 16, 32768);
    if (act) this.pool.run('gelu_fwd', [c, act], M * N, 16, 32768);
  }

  /**
   * The native GEMM, A(i, k) at a + 4 (i sai + k sak). Tall products split by rows; short ones, and
   * long reductions (weight gradients, where each thread would otherwise pack all of B), by columns.
   */
  private nativeGemm(
    a: number,
    sai: number,
    sak: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    K: number,
    N: number,
    acc: number,
    resid: number,
    act: number,
    dgelu: number,
  ): void {
    const { mr, lanes } = this.pool.native!.info;
    const args = [a, sai, sak, b, c, bias, resid, act, M, K, N, acc, dgelu];
    if (M * K * N < NATIVE_SPLIT_MACS) this.pool.native!.k.gemm_rows(...args, 0, M);
    else if (M >= 16 * mr && K <= 4 * N) this.pool.run('gemm_rows', args, M, mr, 2 * mr);
    else if (N >= 4 * lanes) this.pool.run('gemm_cols', args, N, 2 * lanes, 4 * lanes);
    else this.pool.run('gemm_rows', args, M, mr, 2 * mr);
  }

  /**
   * c[M,N] (+)= a^T @ b for a stored [K,M], b [K,N]. The reduction (K = tokens, thousands) is cut into
   * chunks whose slices of a and b fit in L2 together; each chunk continues the previous one's sums in
   * the same order, so the result is the unchunked one bit for bit.
   */
  mmTN(a: number, b: number, c: number, M: number, K: number, N: number, acc = 1): void {
    if (this.pool.native) {
      // the native GEMM blocks the reduction itself, in the same order
      this.nativeGemm(a, 1, M, b, c, 0, M, K, N, acc, 0, 0, 0);
      return;
    }
    const chunk = Math.max(64, Math.floor((96 * 1024) / (M + N) / 4) * 4);
    for (let k0 = 0; k0 < K; k0 += chunk) {
      const kc = Math.min(chunk, K - k0);
      const args = [a + k0 * M * 4, b + k0 * N * 4, c, M, kc, N, k0 > 0 ? 1 : acc];
      if (M * kc * N < SPLIT_MACS)
        this.pool.k.matmul_tn_rows(a + k0 * M * 4, b + k0 * N * 4, c, M, kc, N, k0 > 0 ? 1 : acc, 0, M);
      else if (M >= 32) this.pool.run('matmul_tn_rows', args, M, 4, 8);
      else this.pool.run('matmul_tn_cols', args, N, 8, 64);
    }
  }

  /** dst[C,R] = src[R,C]^T */
  transpose(src: number, dst: number, R: number, C: number): void {
    this.pool.run('transpose', [src, dst, R, C], R, 4, 256);
  }

  private alloc(acts: Acts, floats: number): number {
    const p = this.heap.allocF32(floats);
    acts.blocks.push(p);
    return p;
  }

  releaseActivations(): void {
    if (!this.acts) return;
    for (const p of this.acts.blocks) this.heap.release(p);
    this.acts = undefined;
  }

  /**
   * Forward over a packed batch; keeps what the backward needs. Returns log p(target) per row (0 where
   * the target is -1).
   */
  forward(batch: PackedBatch): Float32Array {
    this.releaseActivations();
    const { n_embd: C, n_head: H, n_inner: F, vocab_size: V, n_layer: L, ln_eps } = this.cfg;
    const N = batch.tokens.length;
    let attFloats = 0;
    const seqTable: number[] = [];
    for (const [off, len] of batch.seqs) {
      if (len > this.cfg.n_ctx)
        throw new Error(`sequence of ${len} tokens exceeds the model context (${this.cfg.n_ctx})`);
      seqTable.push(off, len, attFloats);
      attFloats += H * len * len;
    }
    const acts = { N, S: batch.seqs.length, blocks: [] } as unknown as Acts;
    acts.tok = this.alloc(acts, N);
    acts.pos = this.alloc(acts, N);
    acts.tgt = this.alloc(acts, N);
    acts.g = this.alloc(acts, N);
    acts.logp = this.alloc(acts, N);
    acts.seqs = this.alloc(acts, seqTable.length);
    const pos = new Int32Array(N);
    for (const [off, len] of batch.seqs) for (let t = 0; t < len; t++) pos[off + t] = t;
    this.heap.writeI32(acts.tok, batch.tokens);
    this.heap.writeI32(acts.pos, pos);
    this.heap.writeI32(acts.tgt, batch.targets);
    this.heap.writeI32(acts.seqs, seqTable);
    acts.h0 = this.alloc(acts, N * C);
    acts.layers = [];
    const S = acts.S;
    const pool = this.pool;
    pool.run('embed_fwd', [acts.tok, acts.pos, this.p('wte'), this.p('wpe'), acts.h0, C], N, 1, 256);
    let h = acts.h0;
    const kt = this.alloc(acts, N * C); // per-head transposed keys, attention scratch
    for (let l = 0; l < L; l++) {
      const a: LayerActs = {
        ln1: this.alloc(acts, N * C),
        ln1m: this.alloc(acts, N),
        ln1r: this.alloc(acts, N),
        qkv: this.alloc(acts, N * 3 * C),
        att: this.alloc(acts, attFloats),
        y: this.alloc(acts, N * C),
        hmid: this.alloc(acts, N * C),
        ln2: this.alloc(acts, N * C),
        ln2m: this.alloc(acts, N),
        ln2r: this.alloc(acts, N),
        fc: this.alloc(acts, N * F),
        fca: this.alloc(acts, N * F),
        hout: this.alloc(acts, N * C),
      };
      const pre = `h.${l}.`;
      pool.run(
        'layernorm_fwd',
        [h, this.p(pre + 'ln1.weight'), this.p(pre + 'ln1.bias'), a.ln1, a.ln1m, a.ln1r, C, ln_eps],
        N,
        1,
        256,
      );
      this.mm(a.ln1, this.p(pre + 'attn.qkv.weight'), a.qkv, this.p(pre + 'attn.qkv.bias'), N, C, 3 * C);
      pool.run('attn_fwd', [a.qkv, a.y, a.att, acts.seqs, kt, C, H], S * H, 1, 2);
      this.mm(a.y, this.p(pre + 'attn.proj.weight'), a.hmid, this.p(pre + 'attn.proj.bias'), N, C, C, 0, h);
      pool.run(
        'layernorm_fwd',
        [a.hmid, this.p(pre + 'ln2.weight'), this.p(pre + 'ln2.bias'), a.ln2, a.ln2m, a.ln2r, C, ln_eps],
        N,
        1,
        256,
      );
      this.mm(a.ln2, this.p(pre + 'mlp.fc.weight'), a.fc, this.p(pre + 'mlp.fc.bias'), N, C, F, 0, 0, a.fca);
      this.mm(a.fca, this.p(pre + 'mlp.proj.weight'), a.hout, this.p(pre + 'mlp.proj.bias'), N, F, C, 0, a.hmid);
      acts.layers.push(a);
      h = a.hout;
    }
    acts.lnf = this.alloc(acts, N * C);
    acts.lnfm = this.alloc(acts, N);
    acts.lnfr = this.alloc(acts, N);
    pool.run(
      'layernorm_fwd',
      [h, this.p('ln_f.weight'), this.p('ln_f.bias'), acts.lnf, acts.lnfm, acts.lnfr, C, ln_eps],
      N,
      1,
      256,
    );
    acts.logits = this.alloc(acts, N * V);
    const wteT = this.heap.allocF32(V * C);
    this.transpose(this.p('wte'), wteT, V, C);
    this.mm(acts.lnf, wteT, acts.logits, 0, N, C, V);
    this.heap.release(wteT);
    pool.run('xent', [acts.logits, acts.tgt, acts.g, acts.logp, V, 0], N, 1, 256);
    this.acts = acts;
    return this.heap.readF32(acts.logp, N);
  }

  /** Logits of the last forward, [N, V] (before the backward overwrites them). */
  logits(): Float32Array {
    if (!this.acts) throw new Error('logits(): no forward pass to read');
    return this.heap.readF32(this.acts.logits, this.acts.N * this.cfg.vocab_size);
  }

  /** Accumulates into the gradient buffer the gradient of L, given g[i] = dL/dlogp[i] per row. */
  backward(g: Float32Array): void {
    const acts = this.acts;
    if (!acts) throw new Error('backward(): call forward() first');
    const { n_embd: C, n_head: H, n_inner: F, vocab_size: V, n_layer: L } = this.cfg;
    const N = acts.N;
    if (g.length !== N) throw new Error(`backward(): ${g.length} weights for ${N} rows`);
    const pool = this.pool;
    const heap = this.heap;
    heap.writeF32(acts.g, g);
    pool.run('xent', [acts.logits, acts.tgt, acts.g, acts.logp, V, 1], N, 1, 256);
    const dlogits = acts.logits;
    // scratch for the whole backward
    const tW = heap.allocF32(Math.max(C * 3 * C, C * F, V * C)); // transposed weight
    const dh = heap.allocF32(N * C);
    const dx = heap.allocF32(N * Math.max(C, F));
    const dqkv = heap.allocF32(N * 3 * C);
    const vt = heap.allocF32(N * C);
    try {
      // logits = lnf @ wte^T:  dlnf = dlogits @ wte;  dwte += dlogits^T @ lnf
      this.mm(dlogits, this.p('wte'), dx, 0, N, V, C);
      this.mmTN(dlogits, acts.lnf, this.p('wte', true), V, N, C);
      pool.run('zero', [dh], N * C, 16, 65536);
      const hLast = L > 0 ? acts.layers[L - 1]!.hout : acts.h0;
      this.lnBackward(dx, hLast, 'ln_f', acts.lnfm, acts.lnfr, dh, N);
      for (let l = L - 1; l >= 0; l--) {
        const a = acts.layers[l]!;
        const pre = `h.${l}.`;
        const hin = l > 0 ? acts.layers[l - 1]!.hout : acts.h0;
        // MLP: hout = hmid + gelu(ln2 @ Wfc + bfc) @ Wp + bp
        this.linearBackward(dh, a.fca, pre + 'mlp.proj', N, F, C, dx, tW, a.fc);
        this.linearBackward(dx, a.ln2, pre + 'mlp.fc', N, C, F, dqkv, tW);
        this.lnBackward(dqkv, a.hmid, pre + 'ln2', a.ln2m, a.ln2r, dh, N);
        // attention: hmid = hin + attn(ln1) @ Wo + bo
        this.linearBackward(dh, a.y, pre + 'attn.proj', N, C, C, dx, tW);
        pool.run('attn_bwd', [a.qkv, a.y, a.att, dx, dqkv, acts.seqs, vt, C, H], acts.S * H, 1, 2);
        this.linearBackward(dqkv, a.ln1, pre + 'attn.qkv', N, C, 3 * C, dx, tW);
        this.lnBackward(dx, hin, pre + 'ln1', a.ln1m, a.ln1r, dh, N);
      }
      // a scatter-add into shared rows: one thread
      pool.k.embed_bwd(acts.tok, acts.pos, dh, this.p('wte', true), this.p('wpe', true), C, 0, N);
    } finally {
      for (const p of [tW, dh, dx, dqkv, vt]) heap.release(p);
    }
  }

  /**
   * y = x @ W + b backward: dx = dy @ W^T (written; times gelu'(dgelu) when x = gelu(dgelu)),
   * dW += x^T @ dy, db += colsum(dy).
   */
  private linearBackward(
    dy: number,
    x: number,
    name: string,
    N: number,
    K: number,
    M: number,
    dxOut: number,
    tW: number,
    dgelu = 0,
  ): void {
    const W = this.p(name + '.weight');
    this.transpose(W, tW, K, M);
    this.mm(dy, tW, dxOut, 0, N, M, K, 0, 0, 0, dgelu);
    this.mmTN(x, dy, this.p(name + '.weight', true), K, N, M);
    this.pool.run('colsum', [dy, this.p(name + '.bias', true), N, M, 1], M, 4, 64);
  }

  /** Layernorm backward: dxAcc += dLN/dx, and the weight/bias gradients. */
  private lnBackward(
    dout: number,
    x: number,
    name: string,
    mean: number,
    rstd: number,
    dxAcc: number,
    N: number,
  ): void {
    const C = this.cfg.n_embd;
    this.pool.run('layernorm_bwd_dx', [dout, x, this.p(name + '.weight'), mean, rstd, dxAcc, C], N, 1, 256);
    this.pool.run(
      'layernorm_bwd_dw',
      [dout, x, mean, rstd, this.p(name + '.weight', true), this.p(name + '.bias', true), N, C],
      C,
      4,
      64,
    );
  }
}
