// Token log-probabilities and their gradient, fused: one pass over a logits row gives log p(target) and,
// when asked, overwrites the row with dL/dlogits = g * (onehot(target) - softmax), where g = dL/dlogp is
// the caller's per-token weight. SFT passes g = -1/N on completion tokens; DPO passes the pair's sigmoid
// coefficient (docs/engine.md, "Losses"). Rows with a negative target are ignored (logp 0, gradient 0).
import { hmax, hsum, exp4, exp1 } from './simd';

export function xent(
  logits: usize, targets: usize, g: usize, logp: usize, V: i32, withGrad: i32, r0: i32, r1: i32,
): void {
  const ld = <usize>V << 2;
  for (let i = r0; i < r1; i++) {
    const row = logits + <usize>i * ld;
    const tgt = load<i32>(targets + (<usize>i << 2));
    if (tgt < 0) {
      store<f32>(logp + (<usize>i << 2), 0);
      if (withGrad) for (let j = 0; j < V; j++) store<f32>(row + (<usize>j << 2), 0);
      continue;
    }
    const lse = logSumExp(row, V);
    store<f32>(logp + (<usize>i << 2), load<f32>(row + (<usize>tgt << 2)) - lse);
    if (withGrad) {
      const gi = load<f32>(g + (<usize>i << 2));
      const lv = f32x4.splat(lse), ng = f32x4.splat(-gi);
      let j = 0;
      for (; j + 4 <= V; j += 4) {
        const o = <usize>j << 2;
        v128.store(row + o, f32x4.mul(ng, exp4(f32x4.sub(v128.load(row + o), lv))));
      }
      for (; j < V; j++) {
        const o = <usize>j << 2;
        store<f32>(row + o, -gi * exp1(load<f32>(row + o) - lse));
      }
      const to = <usize>tgt << 2;
      store<f32>(row + to, load<f32>(row + to) + gi);
    }
  }
}

// log(sum_j exp(row[j])), stably. Shared by xent and log_softmax so that the inference path's
// log-probabilities are the training forward's bits.
function logSumExp(row: usize, V: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= V; j += 4) mv = f32x4.max(mv, v128.load(row + (<usize>j << 2)));
  let mx = hmax(mv);
  for (; j < V; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)));
  const mxv = f32x4.splat(mx);
  let sv = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= V; j += 4) sv = f32x4.add(sv, exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), mxv)));
  let s = hsum(sv);
  for (; j < V; j++) s += exp1(load<f32>(row + (<usize>j << 2)) - mx);
  return mx + Mathf.log(s);
}

// Log-softmax of whole rows in place (inference: the sampler reads log-probabilities). Rows [r0, r1).
export function log_softmax(logits: usize, V: i32, r0: i32, r1: i32): void {
  const ld = <usize>V << 2;
  for (let i = r0; i < r1; i++) {
    const row = logits + <usize>i * ld;
    const lse = logSumExp(row, V);
    for (let j = 0; j < V; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) - lse);
  }
}
