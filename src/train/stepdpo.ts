// Step-wise DPO (paper §3.4, eqs. 6–8): M_{t+1} = DPO of M_t on PPD(M_t), with M_t itself as the frozen
// reference. Log-probabilities cover only the single next step (the problem and earlier steps are the
// prompt); EOS follows a side only when that step ends the solution (docs/method.md §5). The engine computes
// the reference log-probs up front from the weights as they are when training starts — the current iterate
// — so no second model is held.
//
// Defaults: β = 0.1 (the paper does not report β; 0.1 is the value of its direct predecessor SRLM, Yuan
// et al. 2024, which also uses the previous iterate as the reference; Step-DPO used 0.4–0.5), 1 epoch,
// batch 32 (paper §4.1). The paper's lr 5e-7 is for full-parameter 7B/72B models; a ~1M-parameter model
// trained from scratch needs a far larger step, so the lr default here is the embedded model's: 3e-5, the
// best of 1e-5 / 3e-5 / 1e-4 / 3e-4 on held-out next-step accuracy after one iteration (docs/log.md,
// 2026-12-06); 1e-4 already lowered it.
//
// IFT replay (`replay`, absent by default) is not the paper's method: an option that adds to every DPO step
// the SFT loss of a few IFT records drawn from a pool (the records the starting model was SFT-trained on, or
// a file), so that DPO on the model's own steps keeps the solving skill SFT gave it (ReplayOptions in
// src/engine/types.ts has the objective). Without it, the options and the report are what they were.
import type { DPOOptions, SFTExample, StepInfo, TrainResult, Trainer } from '../engine/types.js';
import { toPreference, type PairRecord } from '../search/pairs.js';

export interface StepDPOConfig {
  beta: number;
  lr: number;
  epochs: number;
  batch_size: number;
  warmup_frac: number;
  min_lr_frac: number;
  weight_decay: number;
  grad_clip: number;
  /** Weight of the chosen step's per-token NLL added to the DPO loss (iterative RPO, Pang et al. 2024);
   *  0 is the paper's plain step-DPO. */
  nll_alpha: number;
  /** IFT replay (absent: off). `file`, when given, is where the pool comes from (src/run/replay.ts). */
  replay?: ReplayConfig;
}

export interface ReplayConfig {
  /** Weight of the replay records' per-token NLL in each step's loss (> 0). */
  weight: number;
  /** Replay records drawn per preference pair of a step (> 0; at least one record a step). */
  per_pair: number;
  /** A JSONL of IFT records {prompt, completion, eos?} (resolved against the config file's folder). */
  file?: string;
}

/** The records replay draws from, and where they came from (for the report). */
export interface ReplayPool {
  records: SFTExample[];
  source: string;
}

export const DEFAULT_STEPDPO: StepDPOConfig = {
  beta: 0.1,
  lr: 3e-5,
  epochs: 1,
  batch_size: 32,
  warmup_frac: 0.1,
  min_lr_frac: 0.1,
  weight_decay: 0,
  grad_clip: 1,
  nll_alpha: 0,
};

export interface StepDPOReport {
  pairs: number;
  steps: number;
  tokens: number;
  final_loss: number;
  /** Mean over the last epoch's steps of the share of pairs whose chosen reward exceeds the rejected one. */
  final_accuracy: number | null;
  history: Array<Pick<StepInfo, 'step' | 'loss' | 'lr' | 'accuracy' | 'margin' | 'chosen_nll' | 'replay_nll'>>;
  /** With replay only: its settings and pool. */
  replay?: { weight: number; per_pair: number; pool: number; source: string };
}

/** Trains the trainer's current weights in place on the pairs; an empty pair set leaves them unchanged.
 *  Wall time is the caller's to measure, so that the report is byte-identical between runs. With
 *  `c.replay`, `replay` is the pool its steps draw from. */
export async function stepDPO(
  trainer: Trainer,
  pairs: readonly PairRecord[],
  c: StepDPOConfig,
  seed: number,
  onStep?: (s: StepInfo) => void,
  replay?: ReplayPool,
): Promise<StepDPOReport> {
  if (c.replay && !replay?.records.length)
    throw new Error('step-wise DPO: dpo.replay is set but no replay records were given');
  if (pairs.length === 0) return { pairs: 0, steps: 0, tokens: 0, final_loss: 0, final_accuracy: null, history: [] };
  const opts: DPOOptions = {
    beta: c.beta,
    lr: c.lr,
    epochs: c.epochs,
    batch_size: c.batch_size,
    warmup_frac: c.warmup_frac,
    min_lr_frac: c.min_lr_frac,
    weight_decay: c.weight_decay,
    grad_clip: c.grad_clip,
    seed,
    onStep,
    ...(c.nll_alpha > 0 ? { nll_alpha: c.nll_alpha } : {}),
    ...(c.replay
      ? { replay: { examples: replay!.records, weight: c.replay.weight, per_pair: c.replay.per_pair } }
      : {}),
  };
  const r: TrainResult = await trainer.trainDPO(pairs.map(toPreference), opts);
  const perEpoch = Math.max(1, Math.round(r.history.length / Math.max(1, Math.ceil(c.epochs))));
  const last = r.history
    .slice(-perEpoch)
    .map((h) => h.accuracy)
    .filter((a): a is number => a !== undefined);
  return {
    pairs: pairs.length,
    steps: r.steps,
    tokens: r.tokens,
    final_loss: r.final_loss,
    final_accuracy: last.length ? last.reduce((a, b) => a + b, 0) / last.length : null,
    history: r.history.map((h) => ({
      step: h.step,
      loss: h.loss,
      lr: h.lr,
      accuracy: h.accuracy,
      margin: h.margin,
      ...(h.chosen_nll !== undefined ? { chosen_nll: h.chosen_nll } : {}),
      ...(h.replay_nll !== undefined ? { replay_nll: h.replay_nll } : {}),
    })),
    ...(c.replay
      ? {
          replay: {
            weight: c.replay.weight,
            per_pair: c.replay.per_pair,
            pool: replay!.records.length,
            source: replay!.source,
          },
        }
      : {}),
  };
}
