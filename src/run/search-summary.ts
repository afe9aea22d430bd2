// Figures of one iteration's search (search.json): how the search went (outcomes, rounds, rollbacks,
// judge prompts and the prompts saved by merging identical candidates, pairs found, steps per solution),
// and, kept apart under `measure`, what the world's verifier says about the steps the judge chose. The
// measure is for reading only; nothing in the loop reads it back (paper: no ground truth in the loop).
import type { SearchRecord } from '../search/search.js';

export interface SearchSummary {
  questions: number;
  outcomes: Record<string, number>;
  rounds: number;
  rollbacks: number;
  judge_prompts: number;
  judge_prompts_saved: number;
  /** Verdicts that named the first-shown step, and verdicts that could not be parsed (no win for either). */
  first_position_rate: number;
  parse_failure_rate: number;
  pairs_found: number;
  /** Accepted steps per question, and per question that reached an answer. */
  mean_steps: number;
  mean_steps_finished: number;
  measure: {
    /** Share of accepted steps (judged or identical) that the verifier calls right. */
    chosen_ok: number;
    /** Share of all sampled candidates that are right (the policy's own step accuracy at the search T). */
    candidate_ok: number;
    /** Rounds whose candidates were mixed (some right, some wrong): only there can a judge matter. */
    mixed_rounds: number;
    /** On mixed rounds that accepted a step: the judge's pick is right, vs the share of right candidates. */
    mixed_chosen_ok: number;
    mixed_random_ok: number;
  };
}

export function summarizeSearch(records: readonly SearchRecord[]): SearchSummary {
  const outcomes: Record<string, number> = {};
  let rounds = 0,
    rollbacks = 0,
    jp = 0,
    saved = 0,
    pairs = 0,
    steps = 0,
    fin = 0,
    finSteps = 0;
  let verdicts = 0,
    firstPos = 0,
    fails = 0;
  let chosen = 0,
    chosenOk = 0,
    cand = 0,
    candOk = 0,
    mixed = 0,
    mixedAcc = 0,
    mixedOk = 0,
    mixedRand = 0;
  for (const r of records) {
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    rounds += r.rounds.length;
    rollbacks += r.rollbacks;
    jp += r.judge_prompts;
    saved += r.judge_prompts_saved;
    pairs += r.pairs.length;
    steps += r.steps.length;
    if (r.outcome === 'final' || r.outcome === 'eos') {
      fin++;
      finSteps += r.steps.length;
    }
    for (const x of r.rounds) {
      for (const [, , v] of x.judgments) {
        verdicts++;
        if (v === 'A') firstPos++;
        if (v === null) fails++;
      }
      const m = x.measure;
      if (!m) continue;
      const right = m.candidates_ok.filter(Boolean).length;
      cand += m.candidates_ok.length;
      candOk += right;
      if (m.chosen_ok !== null) {
        chosen++;
        if (m.chosen_ok) chosenOk++;
      }
      if (right > 0 && right < m.candidates_ok.length) {
        mixed++;
        if (m.chosen_ok !== null) {
          mixedAcc++;
          if (m.chosen_ok) mixedOk++;
          mixedRand += right / m.candidates_ok.length;
        }
      }
    }
  }
  const div = (a: number, b: number) => (b ? a / b : 0);
  return {
    questions: records.length,
    outcomes: Object.fromEntries(Object.entries(outcomes).sort()),
    rounds,
    rollbacks,
    judge_prompts: jp,
    judge_prompts_saved: saved,
    first_position_rate: div(firstPos, verdicts),
    parse_failure_rate: div(fails, verdicts),
    pairs_found: pairs,
    mean_steps: div(steps, records.length),
    mean_steps_finished: div(finSteps, fin),
    measure: {
      chosen_ok: div(chosenOk, chosen),
      candidate_ok: div(candOk, cand),
      mixed_rounds: mixed,
      mixed_chosen_ok: div(mixedOk, mixedAcc),
      mixed_random_ok: div(mixedRand, mixedAcc),
    },
  };
}
