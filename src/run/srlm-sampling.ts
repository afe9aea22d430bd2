// The SRLM baseline's sampling, self-scoring and pairs (outcome-based self-rewarding, Yuan et al. 2024;
// paper §4.1 "Baseline"), from M_t (initialised with solution-scoring EFT data, src/data/score.ts):
//   sample  N whole solutions per question (T, top_p as the search), each scored 0–5 by M_t itself with
//           the additive scoring template, K times (sampled; the mean is its reward: Yuan et al. average
//           3 scorings)
//   pairs   the best and the worst solution of a question by mean score; equal means give no pair (ties
//           dropped); DPO pairs on WHOLE solutions (EOS on both sides: both end the answer)
// The stages that run these in a run, and the method around them, are in src/run/srlm.ts. Seeds derive
// from (seed, iteration, question, solution, scoring), so a killed run resumes to the same artifacts. The
// world's verifier only measures (stored under `measure`), never enters the loop.
import { deriveSeed } from '../engine/rng.js';
import type { Engine } from '../engine/types.js';
import { parseScore, renderScorePrompt } from '../data/score.js';
import { renderStepPrompt, type PromptTemplate } from '../data/templates.js';
import type { PairRecord } from '../search/pairs.js';
import { checkAnswer, SOLUTION_TOKENS, type Problem } from '../world/index.js';

export interface SrlmOptions {
  /** Whole solutions per question (Yuan et al.: 4). */
  samples: number;
  /** Scorings per solution, averaged (Yuan et al.: 3). */
  score_samples: number;
  temperature: number;
  top_p: number;
  score_temperature: number;
  max_tokens: number;
  score_max_tokens: number;
}

export const DEFAULT_SRLM: SrlmOptions = {
  samples: 4,
  score_samples: 3,
  temperature: 0.5,
  top_p: 0.95,
  score_temperature: 0.5,
  max_tokens: SOLUTION_TOKENS,
  score_max_tokens: SOLUTION_TOKENS,
};

export interface SrlmRecord {
  index: number;
  problem: string;
  solutions: Array<{
    text: string;
    finish_reason: string;
    scores: Array<number | null>;
    mean: number | null;
    measure: { answer_ok: boolean };
  }>;
}

/** Measurement only: whether each of a question's solutions has the right answer (never read by the loop). */
export type AnswerCheck<P> = (problem: P, solutions: readonly string[]) => boolean[] | Promise<boolean[]>;

/** The world's answer check (its verifier). */
export const worldAnswers: AnswerCheck<Problem> = (p, solutions) => solutions.map((s) => checkAnswer(p, s).ok);

/** Samples and self-scores the solutions of a batch of questions; one record per question, in order. */
export async function srlmSample<P extends { text: string }>(
  engine: Engine,
  t: PromptTemplate,
  items: ReadonlyArray<{ index: number; problem: P }>,
  o: SrlmOptions,
  coords: { seed: number; iteration: number },
  contextTokens: number,
  check: AnswerCheck<P>,
): Promise<SrlmRecord[]> {
  if (items.length === 0) return [];
  const sols = await engine.generate(
    items.map((it) => renderStepPrompt(t, it.problem.text)),
    {
      n: o.samples,
      temperature: o.temperature,
      top_p: o.top_p,
      max_tokens: o.max_tokens,
      seeds: items.map((it) => deriveSeed(coords.seed, 'srlm-sample', coords.iteration, it.index)),
    },
  );
  // every (question, solution) scored K times: one prompt per solution, n = K, seeded by its coordinates
  // A scoring prompt that leaves under 16 tokens of the context is not asked (its scores are unparsable:
  // null), as a too-long judge prompt in the search is not.
  const prompts: string[] = [],
    seeds: number[] = [],
    fits: boolean[] = [];
  items.forEach((it, i) =>
    sols[i]!.forEach((s, j) => {
      const p = renderScorePrompt(t, it.problem.text, s.text);
      const fit = engine.tokenize(p).length + 16 <= contextTokens;
      fits.push(fit);
      if (!fit) return;
      prompts.push(p);
      seeds.push(deriveSeed(coords.seed, 'srlm-score', coords.iteration, it.index, j));
    }),
  );
  const asked = prompts.length
    ? await engine.generate(prompts, {
        n: o.score_samples,
        temperature: o.score_temperature,
        top_p: o.top_p,
        max_tokens: o.score_max_tokens,
        seeds,
      })
    : [];
  let q = 0;
  const scored = fits.map((f) => (f ? asked[q++]! : Array.from({ length: o.score_samples }, () => ({ text: '' }))));
  const right = await Promise.all(
    items.map((it, i) =>
      check(
        it.problem,
        sols[i]!.map((s) => s.text),
      ),
    ),
  );
  let k = 0;
  return items.map((it, i) => ({
    index: it.index,
    problem: it.problem.text,
    solutions: sols[i]!.map((s, j) => {
      const scores = scored[k++]!.map((c) => parseScore(c.text));
      const ok = scores.filter((x): x is number => x !== null);
      return {
        text: s.text,
        finish_reason: s.finish_reason,
        scores,
        mean: ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null,
        measure: { answer_ok: right[i]![j]! },
      };
    }),
  }));
}

export interface SrlmPairStats {
  questions: number;
  found: number;
  kept: number;
  ties: number;
  unscored: number;
  same_sides: number;
}

/** Best vs worst solution per question by mean self-score; ties and unscorable questions give no pair. */
export function srlmPairs(
  t: PromptTemplate,
  records: readonly SrlmRecord[],
): { pairs: PairRecord[]; stats: SrlmPairStats } {
  const stats: SrlmPairStats = { questions: records.length, found: 0, kept: 0, ties: 0, unscored: 0, same_sides: 0 };
  const pairs: PairRecord[] = [];
  for (const r of records) {
    const sc = r.solutions.filter((s) => s.mean !== null);
    if (sc.length < 2) {
      stats.unscored++;
      continue;
    }
    // first best and first worst in sample order: a deterministic tie-break among equal means
    let best = sc[0]!,
      worst = sc[0]!;
    for (const s of sc) {
      if (s.mean! > best.mean!) best = s;
      if (s.mean! < worst.mean!) worst = s;
    }
    stats.found++;
    if (best.mean === worst.mean) {
      stats.ties++;
      continue;
    }
    if (best.text === worst.text) {
      stats.same_sides++;
      continue;
    }
    pairs.push({
      id: `${r.index}:solution`,
      problem_index: r.index,
      outcome: 'final',
      prompt: renderStepPrompt(t, r.problem),
      chosen: best.text,
      rejected: worst.text,
      // whole solutions: both sides end the answer, so both get EOS
      chosen_final: true,
      rejected_final: true,
      prefix: [],
      step: 0,
      chosen_wins: best.mean!,
      rejected_wins: worst.mean!,
    });
  }
  stats.kept = pairs.length;
  return { pairs, stats };
}

export interface SrlmSummary {
  questions: number;
  solutions: number;
  parse_failure_rate: number;
  mean_score: number;
  measure: {
    /** Share of sampled solutions with the right answer (the policy's own accuracy at T). */
    solution_ok: number;
    /** Questions with both right and wrong solutions: only there can the scorer matter. */
    mixed_questions: number;
    /** On mixed questions: the top-scored solution is right, vs a random solution, vs a majority vote. */
    best_ok: number;
    random_ok: number;
    majority_ok: number;
  };
}

/** Figures of one iteration's sampling (sample.json); `measure` is read by nobody in the loop. */
export function summarizeSrlm(records: readonly SrlmRecord[]): SrlmSummary {
  let sols = 0,
    fails = 0,
    scores = 0,
    scoreSum = 0,
    ok = 0,
    mixed = 0,
    best = 0,
    rand = 0,
    maj = 0;
  for (const r of records) {
    for (const s of r.solutions) {
      sols++;
      if (s.measure.answer_ok) ok++;
      for (const x of s.scores) {
        scores++;
        if (x === null) fails++;
        else scoreSum += x;
      }
    }
    const right = r.solutions.filter((s) => s.measure.answer_ok).length;
    if (right === 0 || right === r.solutions.length) continue;
    mixed++;
    const sc = r.solutions.filter((s) => s.mean !== null);
    if (sc.length) {
      let b = sc[0]!;
      for (const s of sc) if (s.mean! > b.mean!) b = s;
      if (b.measure.answer_ok) best++;
    }
    rand += right / r.solutions.length;
    // majority vote over final answers (first most frequent in sample order)
    const counts = new Map<string, { n: number; ok: boolean }>();
    for (const s of r.solutions) {
      const a = /\\boxed\{([^}]*)\}/.exec(s.text)?.[1] ?? '';
      const e = counts.get(a) ?? { n: 0, ok: s.measure.answer_ok };
      e.n++;
      counts.set(a, e);
    }
    let top: { n: number; ok: boolean } | null = null;
    for (const e of counts.values()) if (!top || e.n > top.n) top = e;
    if (top?.ok) maj++;
  }
  const div = (a: number, b: number) => (b ? a / b : 0);
  return {
    questions: records.length,
    solutions: sols,
    parse_failure_rate: div(fails, scores),
    mean_score: div(scoreSum, scores - fails),
    measure: {
      solution_ok: div(ok, sols),
      mixed_questions: mixed,
      best_ok: div(best, mixed),
      random_ok: div(rand, mixed),
      majority_ok: div(maj, mixed),
    },
  };
}
