// Preference pairs from the step-wise search (paper §3.3 → PPD(M_t), Fig. 1: {x, s_1..s_{l-1}, s_l^b, s_l^w})
// and their export formats.
//
// A pair's prompt is the step prompt plus the earlier steps, exactly the text the candidates continued;
// chosen/rejected are the single next step as sampled and cut by the template's step rule (`Step l: …\n`,
// one line or several: src/data/steps.ts). A side ends with an end-of-sequence token only when that step
// ends the solution (docs/method.md §5: no EOS after a non-final step), so each
// side carries its own flag (chosen_final / rejected_final).
//
// Kept: pairs whose two sides differ (by step body) and the first of exact duplicates (same prompt,
// chosen, rejected: two problems can reach the same prefix and sample the same steps). Pairs of searches
// that ended without an answer are kept by default (open choice 9, docs/method.md §3) and can be dropped.
//
// Exports:
//   - TRL's preference format: {prompt, chosen, rejected} (explicit prompt, plain text). Note that TRL's
//     DPOTrainer appends EOS to every completion of non-conversational data, which teaches a model to stop
//     after one step; the export is for inspection and for trainers that honour per-step EOS.
//   - the Step-DPO layout (Lai et al. 2024; docs/method.md §9): {prompt, initial_reason_steps, chosen,
//     rejected, full_chosen, full_rejected}. Our reading: `prompt` is the step prompt (instruction and
//     problem), `initial_reason_steps` the earlier steps ending with the next `Step l: ` label, chosen and
//     rejected the bodies after that label (with the newline), and full_* = initial_reason_steps + the side.
//     In Step-DPO full_* continue to the end of a solution; the search has no continuation after a rejected
//     step, so ours stop at the step. When a sampled step does not start with the expected label (the
//     model misnumbered it), the label stays in the step and initial_reason_steps ends after the earlier steps.
import { canonicalStep } from '../judge/tournament.js';
import { joinSteps, stepLabel } from '../data/steps.js';
import type { PreferencePair } from '../engine/types.js';
import type { Outcome, SearchPair, SearchRecord } from './search.js';

export interface PairRecord extends SearchPair {
  /** `${problem index}:${step}` — where the pair came from. */
  id: string;
  problem_index: number;
  outcome: Outcome;
}

export interface PairStats {
  found: number;
  kept: number;
  same_sides: number;
  duplicates: number;
  unfinished_dropped: number;
}

export interface PairOptions {
  /** Keep pairs of searches that hit the step limit, gave up or ran out of context (default true). */
  keep_unfinished: boolean;
}

/** Pairs of all records, in record order, filtered and de-duplicated. */
export function collectPairs(
  records: readonly SearchRecord[],
  o: PairOptions = { keep_unfinished: true },
): { pairs: PairRecord[]; stats: PairStats } {
  const stats: PairStats = { found: 0, kept: 0, same_sides: 0, duplicates: 0, unfinished_dropped: 0 };
  const seen = new Set<string>();
  const pairs: PairRecord[] = [];
  for (const r of records) {
    const finished = r.outcome === 'final' || r.outcome === 'eos';
    for (const p of r.pairs) {
      stats.found++;
      if (canonicalStep(p.chosen) === canonicalStep(p.rejected)) {
        stats.same_sides++;
        continue;
      }
      if (!finished && !o.keep_unfinished) {
        stats.unfinished_dropped++;
        continue;
      }
      const key = JSON.stringify([p.prompt, p.chosen, p.rejected]);
      if (seen.has(key)) {
        stats.duplicates++;
        continue;
      }
      seen.add(key);
      pairs.push({ id: `${r.index}:${p.step}`, problem_index: r.index, outcome: r.outcome, ...p });
    }
  }
  stats.kept = pairs.length;
  return { pairs, stats };
}

/** What the trainer takes (reference log-probs are left to the trainer: the current iterate). */
export function toPreference(p: SearchPair): PreferencePair {
  return {
    prompt: p.prompt,
    chosen: p.chosen,
    rejected: p.rejected,
    chosen_final: p.chosen_final,
    rejected_final: p.rejected_final,
  };
}

export function toTRL(p: SearchPair): { prompt: string; chosen: string; rejected: string } {
  return { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
}

export interface StepDPORecord {
  prompt: string;
  initial_reason_steps: string;
  chosen: string;
  rejected: string;
  full_chosen: string;
  full_rejected: string;
}

/** The Step-DPO layout; `stepPrompt` is the step prompt alone (the pair's prompt minus earlier steps). */
export function toStepDPO(p: SearchPair, stepPrompt: string): StepDPORecord {
  const earlier = joinSteps(p.prefix);
  if (p.prompt !== stepPrompt + earlier)
    throw new Error(`pair ${p.step}: prompt is not the step prompt followed by the earlier steps`);
  const label = stepLabel(p.step);
  const labelled = p.chosen.startsWith(label) && p.rejected.startsWith(label);
  const initial = earlier + (labelled ? label : '');
  const chosen = labelled ? p.chosen.slice(label.length) : p.chosen;
  const rejected = labelled ? p.rejected.slice(label.length) : p.rejected;
  return {
    prompt: stepPrompt,
    initial_reason_steps: initial,
    chosen,
    rejected,
    full_chosen: initial + chosen,
    full_rejected: initial + rejected,
  };
}
