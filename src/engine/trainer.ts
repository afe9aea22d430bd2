// SFT and DPO loops of the embedded engine (the `Trainer` interface, src/engine/types.ts).
//
// SFT: loss = -(sum of log p over completion tokens) / (completion tokens in the optimizer step), so
// gradient accumulation over micro-batches gives exactly the full-batch gradient.
// DPO (paper §3.4, sigmoid loss): loss = -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r))) averaged
// over the pairs of a step. The reference is the model as it was when trainDPO was called (the current
// iterate): its log-probs are computed once up front with the same forward, which is a frozen copy
// without holding a second model. A completion gets an end-of-sequence token only when it is final (per
// side: in a step-wise search the chosen step may end the solution while the rejected one does not).
// With nll_alpha > 0 the step's loss adds alpha * (chosen-token NLL summed over the step's pairs) / (chosen
// tokens in the step): the NLL term of iterative RPO (Pang et al. 2024), normalized per token as TRL's
// loss_type ["sigmoid", "sft"] does, so that both trainers optimize the same objective. It is meant to keep
// DPO from lowering the chosen side's likelihood along with the rejected side's when the two differ in a
// token or two (on the synthetic world it made no measurable difference: docs/loop.md, "Demo results").
// With opts.replay (IFT replay, not the paper's method) every step also takes the SFT loss of a few records
// drawn from an IFT pool: weight * (their completion-token NLL summed) / (their completion tokens), so that
// DPO on the model's own steps does not wear away the solving skill SFT gave it. The draw of step s comes
// from (seed, 'replay', s) alone (replayDraw), so a resumed call draws what an uninterrupted one would.
//
// Examples are shuffled per epoch from (seed, epoch); micro-batches are cut by a token budget and keep a
// pair's two sequences together.
//
// With opts.snapshot, the loop writes a snapshot every few steps and after the last, and a call that finds
// a snapshot of the same job restores it and runs only the remaining steps of the same plan (src/engine/
// snapshot.ts says why that is exact).
import type { GPT, PackedBatch } from './model.js';
import { AdamW, DEFAULT_ADAMW, scheduleLR } from './optimizer.js';
import { deriveSeed, Rng } from './rng.js';
import { jobKey, restoreSnapshot, validateSnapshotOptions, writeSnapshot } from './snapshot.js';
import type { Tokenizer } from './tokenizer.js';
import type {
  DPOOptions,
  PreferencePair,
  ReplayOptions,
  SFTExample,
  StepInfo,
  TrainOptions,
  TrainResult,
} from './types.js';

/** A sequence to score: ids, and the index where the completion starts. */
export interface ScoredSeq {
  ids: number[];
  start: number;
}

export function encodePair(
  tok: Tokenizer,
  prompt: string,
  completion: string,
  eos: boolean,
  nCtx: number,
  what: string,
): ScoredSeq {
  const p = tok.encode(prompt);
  const c = tok.encode(completion);
  if (eos) c.push(tok.eos);
  if (p.length === 0) throw new Error(`${what}: empty prompt (the model needs at least one prompt token)`);
  if (c.length === 0) throw new Error(`${what}: empty completion`);
  const ids = p.concat(c);
  // inputs are ids[0..n-1): n - 1 positions must fit the context
  if (ids.length - 1 > nCtx) {
    throw new Error(
      `${what}: ${ids.length} tokens (prompt ${p.length} + completion ${c.length}) exceed the model ` +
        `context ${nCtx}; shorten it or use a model with a larger n_ctx`,
    );
  }
  return { ids, start: p.length };
}

/** Packs sequences for the training forward; targets are -1 outside completions. */
export function pack(seqs: ScoredSeq[]): PackedBatch {
  const N = seqs.reduce((a, s) => a + s.ids.length - 1, 0);
  const tokens = new Int32Array(N),
    targets = new Int32Array(N).fill(-1);
  const spans: Array<[number, number]> = [];
  let off = 0;
  for (const s of seqs) {
    const n = s.ids.length - 1;
    for (let t = 0; t < n; t++) {
      tokens[off + t] = s.ids[t]!;
      if (t + 1 >= s.start) targets[off + t] = s.ids[t + 1]!;
    }
    spans.push([off, n]);
    off += n;
  }
  return { tokens, targets, seqs: spans };
}

/** Sum of log p over each sequence's completion tokens, given per-row logp of a packed batch. */
export function sumBySeq(logp: Float32Array, batch: PackedBatch): number[] {
  return batch.seqs.map(([off, len]) => {
    let s = 0;
    for (let t = 0; t < len; t++) if (batch.targets[off + t]! >= 0) s += logp[off + t]!;
    return s;
  });
}

/** Groups item indices into micro-batches of at most `budget` tokens (at least one item each). */
export function microBatches(items: number[], cost: (i: number) => number, budget: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [],
    used = 0;
  for (const i of items) {
    const c = cost(i);
    if (cur.length && used + c > budget) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(i);
    used += c;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Scores sequences with the current weights (no gradient), in token-bounded chunks. */
export function scoreSeqs(model: GPT, seqs: ScoredSeq[], budget: number): number[] {
  const out = new Array<number>(seqs.length);
  const idx = seqs.map((_, i) => i);
  for (const mb of microBatches(idx, (i) => seqs[i]!.ids.length, budget)) {
    const batch = pack(mb.map((i) => seqs[i]!));
    const sums = sumBySeq(model.forward(batch), batch);
    mb.forEach((i, j) => {
      out[i] = sums[j]!;
    });
  }
  model.releaseActivations();
  return out;
}

/**
 * SFT on one micro-batch: accumulates into the gradient buffer the gradient of
 * -(sum of completion log-probs) / `denominator` and returns that sum's negation (the loss numerator).
 */
export function sftMicroBatch(model: GPT, seqs: ScoredSeq[], denominator: number): { nll: number; tokens: number } {
  const batch = pack(seqs);
  const logp = model.forward(batch);
  const g = new Float32Array(logp.length);
  let nll = 0;
  for (let k = 0; k < g.length; k++) {
    if (batch.targets[k]! >= 0) {
      g[k] = -1 / denominator;
      nll -= logp[k]!;
    }
  }
  model.backward(g);
  return { nll, tokens: batch.tokens.length };
}

export interface DPOMicroStats {
  /** Sum over the micro-batch's pairs of -log sigmoid(z). */
  lossSum: number;
  /** Sum over the micro-batch's chosen completions of their token NLL (-log p). */
  nllSum: number;
  correct: number;
  marginSum: number;
  tokens: number;
  /** Policy log-probs of each pair's chosen and rejected completions. */
  policy: Array<[number, number]>;
}

/**
 * DPO on one micro-batch of pairs: accumulates the gradient of (1/B) sum -log sigmoid(beta((pc - rc) -
 * (pr - rr))) over these pairs (B = pairs in the whole optimizer step), plus, with alpha > 0, the gradient
 * of alpha * (sum of -pc over these pairs) / chosenTokens (chosenTokens = chosen-completion tokens in the
 * whole optimizer step).
 */
export function dpoMicroBatch(
  model: GPT,
  chosen: ScoredSeq[],
  rejected: ScoredSeq[],
  refC: number[],
  refR: number[],
  beta: number,
  B: number,
  alpha = 0,
  chosenTokens = 1,
): DPOMicroStats {
  const batch = pack(chosen.flatMap((c, i) => [c, rejected[i]!]));
  const logp = model.forward(batch);
  const sums = sumBySeq(logp, batch);
  const coef: number[] = [];
  const st: DPOMicroStats = {
    lossSum: 0,
    nllSum: 0,
    correct: 0,
    marginSum: 0,
    tokens: batch.tokens.length,
    policy: [],
  };
  chosen.forEach((_, j) => {
    const pc = sums[2 * j]!,
      pr = sums[2 * j + 1]!;
    st.policy.push([pc, pr]);
    const z = beta * (pc - refC[j]! - (pr - refR[j]!));
    // -log sigmoid(z), stably
    st.lossSum += z >= 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
    if (z > 0) st.correct++;
    st.marginSum += z / beta;
    const sig = 1 / (1 + Math.exp(z)); // sigmoid(-z) = -d(-log sigmoid z)/dz
    st.nllSum -= pc;
    coef.push((-beta * sig) / B - alpha / chosenTokens, (beta * sig) / B);
  });
  const g = new Float32Array(logp.length);
  batch.seqs.forEach(([off, len], s) => {
    for (let t = 0; t < len; t++) if (batch.targets[off + t]! >= 0) g[off + t] = coef[s]!;
  });
  model.backward(g);
  return st;
}

function resolve(opts: TrainOptions) {
  return {
    ...DEFAULT_ADAMW,
    weight_decay: opts.weight_decay ?? DEFAULT_ADAMW.weight_decay,
    grad_clip: opts.grad_clip ?? DEFAULT_ADAMW.grad_clip,
    warmup_frac: opts.warmup_frac ?? 0.05,
    min_lr_frac: opts.min_lr_frac ?? 0.1,
    budget: opts.micro_batch_tokens ?? 8192,
  };
}

function checkOpts(opts: TrainOptions, n: number, what: string): void {
  if (n === 0) throw new Error(`${what}: no training examples`);
  if (opts.snapshot) validateSnapshotOptions(opts.snapshot, what);
  if (!(opts.epochs > 0)) throw new Error(`${what}: epochs must be positive, got ${opts.epochs}`);
  if (!(opts.lr > 0)) throw new Error(`${what}: lr must be positive, got ${opts.lr}`);
  if (!Number.isInteger(opts.batch_size) || opts.batch_size < 1)
    throw new Error(`${what}: batch_size must be a positive integer, got ${opts.batch_size}`);
}

/** Epoch-shuffled optimizer steps: each a list of item indices. Fractional epochs take a prefix. */
function stepPlan(n: number, opts: TrainOptions, salt: string): number[][] {
  const steps: number[][] = [];
  const whole = Math.ceil(opts.epochs);
  for (let e = 0; e < whole; e++) {
    const order = new Rng(deriveSeed(opts.seed, salt, e)).shuffle(Array.from({ length: n }, (_, i) => i));
    const take = e < whole - 1 || Number.isInteger(opts.epochs) ? n : Math.max(1, Math.round((opts.epochs - e) * n));
    for (let s = 0; s < take; s += opts.batch_size) steps.push(order.slice(s, Math.min(take, s + opts.batch_size)));
  }
  return steps;
}

/**
 * The replay records of optimizer step `step` (1-based) of a DPO call: max(1, round(perPair * pairs)) indices
 * into a pool of `pool` records (at most all of them), distinct, from a stream derived from (seed, 'replay',
 * step) only, by a partial Fisher-Yates shuffle.
 */
export function replayDraw(seed: number, step: number, pairs: number, pool: number, perPair: number): number[] {
  const k = Math.min(pool, Math.max(1, Math.round(perPair * pairs)));
  const rng = new Rng(deriveSeed(seed, 'replay', step));
  const idx = Array.from({ length: pool }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k);
}

function checkReplay(rp: ReplayOptions): void {
  if (rp.examples.length === 0) throw new Error('trainDPO: replay has no examples');
  if (!(rp.weight > 0)) throw new Error(`trainDPO: replay.weight must be positive, got ${rp.weight}`);
  if (!(rp.per_pair > 0)) throw new Error(`trainDPO: replay.per_pair must be positive, got ${rp.per_pair}`);
}

/**
 * The optimizer loop shared by SFT and DPO: for each planned step, zero the gradient, let `accumulate`
 * run the step's micro-batches (it returns the step's loss, tokens and extra figures), then one AdamW
 * update at the scheduled learning rate. With snapshots, `key` names the job (jobKey): a snapshot of it
 * is restored first and its steps are skipped; one is written every `every` steps and after the last
 * (so a caller killed while evaluating or saving the result does not train again).
 */
function runSteps(
  model: GPT,
  opt: AdamW,
  plan: number[][],
  opts: TrainOptions,
  r: ReturnType<typeof resolve>,
  key: () => string,
  accumulate: (items: number[], step: number) => { loss: number; tokens: number; extra?: Partial<StepInfo> },
): TrainResult {
  const t0 = performance.now();
  let history: StepInfo[] = [];
  let tokens = 0,
    first = 0,
    before = 0;
  const snap = opts.snapshot;
  const jk = snap ? key() : '';
  if (snap) {
    const st = restoreSnapshot(
      snap.dir,
      jk,
      plan.length,
      model,
      opt,
      snap.log ?? ((l) => process.stderr.write(l + '\n')),
    );
    if (st) {
      ({ history, tokens, step: first, wall_s: before } = st);
      snap.onResume?.(first, plan.length);
    }
  }
  const wall = () => before + (performance.now() - t0) / 1000;
  const W = Math.round(r.warmup_frac * plan.length);
  for (let si = first; si < plan.length; si++) {
    model.zeroGrad();
    const m = accumulate(plan[si]!, si + 1);
    const lr = scheduleLR(si + 1, plan.length, W, opts.lr, r.min_lr_frac);
    const norm = opt.step(lr, r);
    tokens += m.tokens;
    const info: StepInfo = { step: si + 1, steps: plan.length, loss: m.loss, lr, tokens, grad_norm: norm, ...m.extra };
    history.push(info);
    // before onStep: a caller that sees step k (and stops there) finds its snapshot already on disk
    if (snap && ((si + 1) % snap.every === 0 || si + 1 === plan.length)) {
      writeSnapshot(snap.dir, model, opt, {
        key: jk,
        step: si + 1,
        steps: plan.length,
        t: opt.t,
        tokens,
        wall_s: wall(),
        history,
      });
    }
    opts.onStep?.(info);
  }
  model.releaseActivations();
  return { steps: plan.length, tokens, final_loss: history[history.length - 1]!.loss, wall_s: wall(), history };
}

export function trainSFT(
  model: GPT,
  opt: AdamW,
  tok: Tokenizer,
  examples: SFTExample[],
  opts: TrainOptions,
): TrainResult {
  checkOpts(opts, examples.length, 'trainSFT');
  const r = resolve(opts);
  const seqs = examples.map((e, i) =>
    encodePair(tok, e.prompt, e.completion, e.eos ?? true, model.cfg.n_ctx, `SFT example ${i}`),
  );
  const key = () => jobKey('sft', model, opts, r, seqs);
  return runSteps(model, opt, stepPlan(seqs.length, opts, 'sft'), opts, r, key, (items) => {
    const completionTokens = items.reduce((a, i) => a + seqs[i]!.ids.length - seqs[i]!.start, 0);
    let nll = 0,
      tokens = 0;
    for (const mb of microBatches(items, (i) => seqs[i]!.ids.length, r.budget)) {
      const m = sftMicroBatch(
        model,
        mb.map((i) => seqs[i]!),
        completionTokens,
      );
      nll += m.nll;
      tokens += m.tokens;
    }
    return { loss: nll / completionTokens, tokens };
  });
}

export function trainDPO(
  model: GPT,
  opt: AdamW,
  tok: Tokenizer,
  pairs: PreferencePair[],
  opts: DPOOptions,
): TrainResult {
  checkOpts(opts, pairs.length, 'trainDPO');
  if (!(opts.beta > 0)) throw new Error(`trainDPO: beta must be positive, got ${opts.beta}`);
  const alpha = opts.nll_alpha ?? 0;
  if (!(alpha >= 0)) throw new Error(`trainDPO: nll_alpha must be 0 or more, got ${opts.nll_alpha}`);
  const r = resolve(opts);
  const nCtx = model.cfg.n_ctx;
  const chosen = pairs.map((p, i) =>
    encodePair(tok, p.prompt, p.chosen, p.chosen_final ?? p.final ?? false, nCtx, `DPO pair ${i} (chosen)`),
  );
  const rejected = pairs.map((p, i) =>
    encodePair(tok, p.prompt, p.rejected, p.rejected_final ?? p.final ?? false, nCtx, `DPO pair ${i} (rejected)`),
  );
  // reference log-probs: given, or from the weights as they are now (the frozen current iterate)
  const missing = pairs
    .map((p, i) => (p.ref_chosen === undefined || p.ref_rejected === undefined ? i : -1))
    .filter((i) => i >= 0);
  const refC = pairs.map((p) => p.ref_chosen ?? 0),
    refR = pairs.map((p) => p.ref_rejected ?? 0);
  if (missing.length) {
    const scored = scoreSeqs(
      model,
      missing.flatMap((i) => [chosen[i]!, rejected[i]!]),
      r.budget,
    );
    missing.forEach((i, j) => {
      refC[i] = scored[2 * j]!;
      refR[i] = scored[2 * j + 1]!;
    });
  }
  const plan = stepPlan(pairs.length, opts, 'dpo');
  // replay: every step's draw up front, and only the drawn records encoded (a pool may hold thousands)
  const rp = opts.replay;
  if (rp) checkReplay(rp);
  const draws = rp
    ? plan.map((items, si) => replayDraw(opts.seed, si + 1, items.length, rp.examples.length, rp.per_pair))
    : [];
  const replaySeqs = new Map<number, ScoredSeq>();
  for (const i of draws.flat()) {
    if (replaySeqs.has(i)) continue;
    const e = rp!.examples[i]!;
    replaySeqs.set(i, encodePair(tok, e.prompt, e.completion, e.eos ?? true, nCtx, `replay example ${i}`));
  }
  // the reference log-probs come from the starting weights, which the key also covers; they are in the
  // key themselves because given ones (pair.ref_*) need not come from those weights. With replay, the key
  // holds its settings and every step's drawn records in order (the pool itself matters only through them).
  const seqs = chosen.flatMap((c, i) => [c, rejected[i]!]);
  const key = () => {
    if (!rp) return jobKey('dpo', model, opts, r, seqs, [...refC, ...refR]);
    // the pool's records stand in the key through the drawn ones: JSON of thousands of records is not needed
    const keyed = { ...opts, replay: { weight: rp.weight, per_pair: rp.per_pair, pool: rp.examples.length } };
    const drawn = draws.flat().map((i) => replaySeqs.get(i)!);
    return jobKey('dpo', model, keyed, r, [...seqs, ...drawn], [...refC, ...refR, ...draws.map((d) => d.length)]);
  };
  return runSteps(model, opt, plan, opts, r, key, (items, step) => {
    const B = items.length;
    const chosenTokens = items.reduce((a, i) => a + chosen[i]!.ids.length - chosen[i]!.start, 0);
    let lossSum = 0,
      nllSum = 0,
      correct = 0,
      marginSum = 0,
      tokens = 0;
    for (const mb of microBatches(items, (i) => chosen[i]!.ids.length + rejected[i]!.ids.length, r.budget)) {
      const m = dpoMicroBatch(
        model,
        mb.map((i) => chosen[i]!),
        mb.map((i) => rejected[i]!),
        mb.map((i) => refC[i]!),
        mb.map((i) => refR[i]!),
        opts.beta,
        B,
        alpha,
        chosenTokens,
      );
      lossSum += m.lossSum;
      nllSum += m.nllSum;
      correct += m.correct;
      marginSum += m.marginSum;
      tokens += m.tokens;
    }
    const nll = nllSum / chosenTokens;
    let loss = lossSum / B + alpha * nll;
    const extra: Partial<StepInfo> = {
      accuracy: correct / B,
      margin: marginSum / B,
      ...(alpha > 0 ? { chosen_nll: nll } : {}),
    };
    if (rp) {
      // the SFT gradient of the drawn records, scaled: -weight / (replay tokens) per completion token
      const rs = draws[step - 1]!.map((i) => replaySeqs.get(i)!);
      const replayTokens = rs.reduce((a, q) => a + q.ids.length - q.start, 0);
      let rnll = 0;
      const idx = rs.map((_, j) => j);
      for (const mb of microBatches(idx, (j) => rs[j]!.ids.length, r.budget)) {
        const m = sftMicroBatch(
          model,
          mb.map((j) => rs[j]!),
          replayTokens / rp.weight,
        );
        rnll += m.nll;
        tokens += m.tokens;
      }
      extra.replay_nll = rnll / replayTokens;
      loss += rp.weight * extra.replay_nll;
    }
    return { loss, tokens, extra };
  });
}
