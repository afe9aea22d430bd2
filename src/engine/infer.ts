// Inference forward over KV-cache segments: the rows of one call may come from many sequences at
// different positions (batched decoding), from the prompt of one sequence (prefill), or from many
// prompts' suffixes after a shared prefix. Each row names the segment and slot its key/value go to and
// the segment table (the chain of segments) its query attends over, so prefix sharing is just several
// chains starting with the same segments.
//
// Per row the arithmetic is the training forward's, operation for operation (same GEMM, layernorm, GELU
// and attention arithmetic, each row reduced independently of the others), so a row's result does not
// depend on what else is in the batch or where segments are cut, and equals a full recompute.
import type { GPT } from './model.js';

/** Keys (transposed, [C, cap]) and values ([cap, C]) of `cap` consecutive positions, per layer. */
export class Segment {
  readonly base: number;
  readonly layerStride: number;
  /** Capacity rounded up to whole SIMD vectors (the score kernel reads keys four at a time). */
  readonly cap: number;
  len = 0;

  constructor(
    readonly model: GPT,
    capacity: number,
  ) {
    const { n_layer: L, n_embd: C } = model.cfg;
    this.cap = Math.ceil(capacity / 4) * 4;
    this.layerStride = 2 * this.cap * C * 4;
    this.base = model.heap.allocF32(L * 2 * this.cap * C);
  }

  release(): void {
    this.model.heap.release(this.base);
  }
}

/** A chain of segments (ancestors complete, the last one being filled) as the kernel's table. */
export class Chain {
  readonly table: number;

  constructor(
    readonly model: GPT,
    readonly segments: Segment[],
  ) {
    const C = model.cfg.n_embd;
    const t = new Int32Array(1 + 5 * segments.length);
    t[0] = segments.length;
    segments.forEach((s, i) => {
      t.set([s.base, s.base + C * s.cap * 4, s.len, s.layerStride, s.cap], 1 + 5 * i);
    });
    this.table = model.heap.alloc(t.length * 4);
    model.heap.writeI32(this.table, t);
  }

  get last(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  release(): void {
    this.model.heap.release(this.table);
  }
}

export interface InferRow {
  token: number;
  pos: number;
  chain: Chain;
  /** Slot in chain.last that this row's key/value fill (and the query sees slots 0..slot). */
  slot: number;
}

export class InferRunner {
  private wteT = 0;

  constructor(readonly model: GPT) {}

  /** Call after the weights change (and before the first run). */
  refreshWeights(): void {
    const { vocab_size: V, n_embd: C } = this.model.cfg;
    if (!this.wteT) this.wteT = this.model.heap.allocF32(V * C);
    this.model.transpose(this.model.p('wte'), this.wteT, V, C);
  }

  release(): void {
    if (this.wteT) this.model.heap.release(this.wteT);
    this.wteT = 0;
  }

  /**
   * Runs the rows through the model, writing their keys/values into their segments. Returns the
   * log-softmax of the logits of rows `want` (indices into rows), [want.length, V].
   */
  run(rows: InferRow[], want: number[]): Float32Array {
    if (!this.wteT) this.refreshWeights();
    const m = this.model;
    const { n_embd: C, n_head: H, n_inner: F, vocab_size: V, n_layer: L, ln_eps } = m.cfg;
    const heap = m.heap,
      pool = m.pool;
    const R = rows.length;
    const blocks: number[] = [];
    const al = (n: number) => {
      const p = heap.allocF32(n);
      blocks.push(p);
      return p;
    };
    const tok = al(R),
      pos = al(R),
      qtab = al(2 * R),
      kvtab = al(4 * R);
    const a = al(R * C),
      mean = al(R),
      rstd = al(R),
      qkv = al(R * 3 * C),
      y = al(R * C);
    const fc = al(R * F),
      scores = al(R * H * m.cfg.n_ctx);
    // the residual stream: each residual GEMM writes the other buffer, then the two swap
    let x = al(R * C),
      tmp = al(R * C);
    const swap = () => {
      const t = x;
      x = tmp;
      tmp = t;
    };
    try {
      const i32 = heap.i32();
      for (let i = 0; i < R; i++) {
        const r = rows[i]!;
        if (r.pos >= m.cfg.n_ctx) throw new Error(`position ${r.pos} is beyond the model context (${m.cfg.n_ctx})`);
        i32[(tok >>> 2) + i] = r.token;
        i32[(pos >>> 2) + i] = r.pos;
        i32[(qtab >>> 2) + 2 * i] = r.chain.table;
        i32[(qtab >>> 2) + 2 * i + 1] = r.slot + 1;
        const seg = r.chain.last;
        if (r.slot >= seg.cap) throw new Error(`KV slot ${r.slot} is beyond its segment's capacity ${seg.cap}`);
        i32.set([seg.base, seg.layerStride, seg.cap, r.slot], (kvtab >>> 2) + 4 * i);
      }
      pool.run('embed_fwd', [tok, pos, m.p('wte'), m.p('wpe'), x, C], R, 1, 256);
      for (let l = 0; l < L; l++) {
        const pre = `h.${l}.`;
        pool.run(
          'layernorm_fwd',
          [x, m.p(pre + 'ln1.weight'), m.p(pre + 'ln1.bias'), a, mean, rstd, C, ln_eps],
          R,
          1,
          256,
        );
        m.mm(a, m.p(pre + 'attn.qkv.weight'), qkv, m.p(pre + 'attn.qkv.bias'), R, C, 3 * C);
        pool.run('kv_append', [qkv, kvtab, l, C], R, 1, 256);
        pool.run('attn_infer', [qkv, 3 * C, y, qtab, l, C, H, scores, m.cfg.n_ctx], R * H, 1, 32);
        m.mm(y, m.p(pre + 'attn.proj.weight'), tmp, m.p(pre + 'attn.proj.bias'), R, C, C, 0, x);
        swap();
        pool.run(
          'layernorm_fwd',
          [x, m.p(pre + 'ln2.weight'), m.p(pre + 'ln2.bias'), a, mean, rstd, C, ln_eps],
          R,
          1,
          256,
        );
        m.mm(a, m.p(pre + 'mlp.fc.weight'), fc, m.p(pre + 'mlp.fc.bias'), R, C, F, 0, 0, fc);
        m.mm(fc, m.p(pre + 'mlp.proj.weight'), tmp, m.p(pre + 'mlp.proj.bias'), R, F, C, 0, x);
        swap();
      }
      for (const r of rows) r.chain.last.len = Math.max(r.chain.last.len, r.slot + 1);
      const W = want.length;
      if (W === 0) return new Float32Array(0);
      // gather the rows whose logits are wanted, then final layernorm and the tied head
      const g = al(W * C),
        logits = al(W * V);
      const f = heap.f32();
      want.forEach((ri, j) => f.copyWithin((g >>> 2) + j * C, (x >>> 2) + ri * C, (x >>> 2) + (ri + 1) * C));
      pool.run('layernorm_fwd', [g, m.p('ln_f.weight'), m.p('ln_f.bias'), a, mean, rstd, C, ln_eps], W, 1, 256);
      m.mm(a, this.wteT, logits, 0, W, C, V);
      pool.run('log_softmax', [logits, V], W, 1, 256);
      return heap.readF32(logits, W * V);
    } finally {
      for (const p of blocks) heap.release(p);
    }
  }
}
