// AdamW with global-norm gradient clipping and a linear-warmup + cosine schedule (docs/engine.md,
// "Optimiser"), over the model's flat parameter buffer. The layout puts every decayed matrix first, so
// an update is two kernel calls. Adam's moments live in the wasm heap beside the weights; they and the
// step count go into training snapshots (src/engine/snapshot.ts) so an interrupted run resumes exactly.
import type { GPT } from './model.js';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  grad_clip: number;
}

export const DEFAULT_ADAMW: Omit<AdamWConfig, 'lr'> = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weight_decay: 0.1,
  grad_clip: 1.0,
};

/** Learning rate at optimizer step s (1-based) of S, with W warmup steps. */
export function scheduleLR(s: number, S: number, W: number, lr: number, minLrFrac: number): number {
  if (W > 0 && s <= W) return (lr * s) / W;
  if (S <= W) return lr;
  const p = Math.min(1, (s - W) / (S - W));
  const floor = minLrFrac * lr;
  return floor + ((lr - floor) * (1 + Math.cos(Math.PI * p))) / 2;
}

export class AdamW {
  readonly m: number;
  readonly v: number;
  t = 0;

  constructor(readonly model: GPT) {
    const n = model.layout.total * 4;
    this.m = model.heap.calloc(n);
    this.v = model.heap.calloc(n);
  }

  /** Global L2 norm of the gradient buffer. */
  gradNorm(): number {
    const { model } = this;
    return Math.sqrt(model.pool.k.sumsq(model.grads, model.layout.total));
  }

  /** One update with learning rate `lr`; returns the gradient norm before clipping. */
  step(lr: number, cfg: Omit<AdamWConfig, 'lr'>): number {
    const { model } = this;
    const norm = this.gradNorm();
    if (!Number.isFinite(norm))
      throw new Error(`AdamW: gradient norm is ${norm}; lower the learning rate or check the data`);
    const scale = cfg.grad_clip > 0 && norm > cfg.grad_clip ? cfg.grad_clip / norm : 1;
    this.t++;
    const bc1 = 1 - Math.pow(cfg.beta1, this.t);
    const bc2 = 1 - Math.pow(cfg.beta2, this.t);
    const { decayEnd, total } = model.layout;
    const P = model.params,
      G = model.grads;
    const hyper = [lr, cfg.beta1, cfg.beta2, cfg.eps];
    const tail = [bc1, bc2, scale];
    // decayed block [0, decayEnd), then the rest: each a separate range so the split stays simple
    model.pool.run('adamw', [P, G, this.m, this.v, ...hyper, cfg.weight_decay, ...tail], decayEnd, 16, 8192);
    const off = decayEnd * 4;
    model.pool.run(
      'adamw',
      [P + off, G + off, this.m + off, this.v + off, ...hyper, 0, ...tail],
      total - decayEnd,
      16,
      8192,
    );
    return norm;
  }

  release(): void {
    this.model.heap.release(this.m);
    this.model.heap.release(this.v);
  }
}
