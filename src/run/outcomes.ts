// Measures for questions from a file (config `questions`, src/data/questions.ts), where no step verifier
// exists: only the gold answer, read by the benchmark grader (src/eval/grade.ts: the answer extracted as
// the toolkit extracts it, compared by math_equal under its time limit). Like the world's verifier in a
// world run, these measure only: nothing in the loop reads them back (paper: no ground truth in the loop).
//   graded    the final answer of each iteration's searched (PSRLM) or sampled (SRLM) solutions
//   rollouts  judge health on real questions (config health.rollouts = N): N of the search's judged rounds,
//             drawn by the run seed; every candidate of a round is completed greedily by M_t and graded, so
//             a candidate is "right" when its completion reaches the gold answer. On rounds whose
//             candidates are mixed, the judge's pick is right vs the share of right candidates (a random
//             pick). A measure of where a step leads, not of the step itself
//   audit     the pairs by the outcome of completions: the share of pairs whose chosen side's completed
//             solution is right vs the rejected side's (PSRLM: the chosen side's completion is the
//             search's own solution, the rejected side's a rollout where one was made; SRLM: both sides
//             are whole solutions)
import type { Engine } from '../engine/types.js';
import { deriveSeed, Rng } from '../engine/rng.js';
import type { Question, QuestionFormat } from '../data/questions.js';
import { joinSteps, stepBody } from '../data/steps.js';
import type { PromptTemplate } from '../data/templates.js';
import { extractPrediction } from '../eval/extract.js';
import { GradePool } from '../eval/grade.js';
import type { PairRecord } from '../search/pairs.js';
import { searchPrompt, type RoundRecord, type SearchRecord } from '../search/search.js';

/** The answer extraction of the question file's kind: GSM8K's rule for GSM8K questions, MATH's otherwise. */
const dataNameOf = (format: QuestionFormat): string => (format === 'gsm8k' ? 'gsm8k' : 'math');

export interface Graded {
  pred: string;
  right: boolean;
}

/** Grades solution texts against their golds with `pool`, as the benchmark evaluation grades model outputs. */
export async function gradeSolutions(
  pool: GradePool,
  format: QuestionFormat,
  items: ReadonlyArray<{ text: string; gold: string }>,
): Promise<Graded[]> {
  const dataName = dataNameOf(format);
  return Promise.all(
    items.map(async (it) => {
      const pred = extractPrediction(it.text, { dataName });
      return { pred, right: (await pool.grade({ gold: it.gold, pred, predNormalized: true })).equal };
    }),
  );
}

/** The label of a measure graded against gold answers. */
export const gradedLabel = (n: number, what = 'questions'): string => `outcome-graded, ${n} ${what}`;

/** One searched question's solution, graded (graded.jsonl). */
export interface GradedSearch {
  index: number;
  outcome: string;
  finished: boolean;
  pred: string;
  right: boolean;
}

export interface GradedSummary {
  label: string;
  questions: number;
  /** Searches that ended with an answer (a final step or end-of-sequence). */
  finished: number;
  right: number;
  /** Right answers over all questions (an unfinished search is graded on what it wrote). */
  accuracy: number;
}

const finished = (outcome: string) => outcome === 'final' || outcome === 'eos';

/** The final answers of an iteration's searches, graded against their questions' golds. */
export async function gradeSearches(
  pool: GradePool,
  format: QuestionFormat,
  records: readonly SearchRecord[],
  golds: ReadonlyMap<number, string>,
): Promise<{ rows: GradedSearch[]; summary: GradedSummary }> {
  const g = await gradeSolutions(
    pool,
    format,
    records.map((r) => ({ text: joinSteps(r.steps), gold: goldOf(golds, r.index) })),
  );
  const rows = records.map((r, i) => ({ index: r.index, outcome: r.outcome, finished: finished(r.outcome), ...g[i]! }));
  const right = rows.filter((r) => r.right).length;
  return {
    rows,
    summary: {
      label: gradedLabel(records.length),
      questions: records.length,
      finished: rows.filter((r) => r.finished).length,
      right,
      accuracy: records.length ? right / records.length : 0,
    },
  };
}

function goldOf(golds: ReadonlyMap<number, string>, index: number): string {
  const g = golds.get(index);
  if (g === undefined)
    throw new Error(
      `question ${index} is not among the iteration's questions: the samples file belongs to another draw`,
    );
  return g;
}

export const goldsOf = (qs: readonly Question[]): Map<number, string> => new Map(qs.map((q) => [q.index, q.gold]));

/** A judged round of a search rolled out: every candidate completed greedily and graded. */
export interface RolloutRound {
  index: number;
  step: number;
  attempt: number;
  best: number;
  worst: number;
  candidates: string[];
  /** Per candidate: its completion reaches the gold answer (null: the prompt did not fit the context). */
  right: Array<boolean | null>;
}

export interface RolloutReport {
  label: string;
  rounds: number;
  /** Rounds whose graded candidates are some right and some wrong: only there can a judge matter. */
  mixed_rounds: number;
  mixed_share: number;
  /** On mixed rounds: the judge's pick is right, vs the share of right candidates. */
  judge_pick: number;
  random_pick: number;
  first_position_rate: number;
  decisive_order_flip_rate: null;
  majority_pick: null;
}

/** The prefix (step bodies) each round of a search continued, replayed from its actions as the search took
 *  them: an accepted step is appended, a rollback removes the last step. */
export function roundPrefixes(rec: SearchRecord): string[][] {
  const steps: string[] = [];
  return rec.rounds.map((r) => {
    const prefix = steps.slice();
    if ((r.action === 'accept' || r.action === 'accept_identical') && r.best !== null)
      steps.push(stepBody(r.candidates[r.best]!));
    else if (r.action === 'rollback' && steps.length) steps.pop();
    return prefix;
  });
}

export interface RolloutOptions {
  rounds: number;
  seed: number;
  iteration: number;
  maxTokens: number;
  format: QuestionFormat;
  pool: GradePool;
}

/** Judge health on real questions: `rounds` judged rounds of the searches, each candidate completed greedily. */
export async function rolloutHealth(
  engine: Engine,
  t: PromptTemplate,
  records: readonly SearchRecord[],
  golds: ReadonlyMap<number, string>,
  o: RolloutOptions,
): Promise<{ report: RolloutReport; rounds: RolloutRound[] }> {
  const judged: Array<{ rec: SearchRecord; round: RoundRecord; prefix: string[] }> = [];
  for (const rec of records) {
    const prefixes = roundPrefixes(rec);
    rec.rounds.forEach((round, k) => {
      if (round.action === 'accept') judged.push({ rec, round, prefix: prefixes[k]! });
    });
  }
  const order = new Rng(deriveSeed(o.seed, 'health', o.iteration)).shuffle(judged.map((_, i) => i));
  const picked = order
    .slice(0, o.rounds)
    .sort((a, b) => a - b)
    .map((i) => judged[i]!);
  // one greedy completion per distinct candidate text of a round (merged copies share it)
  const prompts: string[] = [];
  const limit = engine.contextTokens;
  const slots = picked.map(({ rec, round, prefix }) =>
    round.candidates.map((c) => {
      const p = searchPrompt(t, rec.problem, prefix) + c;
      if (limit !== undefined && engine.tokenize(p).length + 1 > limit) return -1;
      prompts.push(p);
      return prompts.length - 1;
    }),
  );
  const outs = prompts.length
    ? await engine.generate(prompts, { n: 1, temperature: 0, top_p: 1, max_tokens: o.maxTokens, seed: 0 })
    : [];
  const texts = picked.map(({ prefix, round }, i) =>
    round.candidates.map((c, j) => {
      const s = slots[i]![j]!;
      return s < 0 ? null : joinSteps(prefix) + c + outs[s]![0]!.text;
    }),
  );
  const flat = texts.flatMap((ts, i) =>
    ts.flatMap((x) => (x === null ? [] : [{ text: x, gold: goldOf(golds, picked[i]!.rec.index) }])),
  );
  const graded = await gradeSolutions(o.pool, o.format, flat);
  let g = 0;
  const rounds: RolloutRound[] = picked.map(({ rec, round }, i) => ({
    index: rec.index,
    step: round.step,
    attempt: round.attempt,
    best: round.best!,
    worst: round.worst!,
    candidates: round.candidates,
    right: texts[i]!.map((x) => (x === null ? null : graded[g++]!.right)),
  }));
  let mixed = 0,
    pick = 0,
    rand = 0,
    verdicts = 0,
    first = 0;
  for (const r of rounds) {
    const known = r.right.filter((x): x is boolean => x !== null);
    const n = known.filter(Boolean).length;
    if (n === 0 || n === known.length || r.right[r.best] === null) continue;
    mixed++;
    if (r.right[r.best]) pick++;
    rand += n / known.length;
  }
  for (const { round } of picked)
    for (const [, , v] of round.judgments) {
      if (v !== null) {
        verdicts++;
        if (v === 'A') first++;
      }
    }
  const div = (a: number, b: number) => (b ? a / b : 0);
  return {
    rounds,
    report: {
      label: gradedLabel(rounds.length, 'rounds rolled out'),
      rounds: rounds.length,
      mixed_rounds: mixed,
      mixed_share: div(mixed, rounds.length),
      judge_pick: div(pick, mixed),
      random_pick: div(rand, mixed),
      first_position_rate: div(first, verdicts),
      decisive_order_flip_rate: null,
      majority_pick: null,
    },
  };
}

/** The pairs audited by the outcome of completions (pairs.json's `audit`). */
export interface PairAudit {
  label: string;
  pairs: number;
  /** Pairs whose side's completion is known, and of those, the ones that reach the gold answer. */
  chosen_graded: number;
  chosen_right: number;
  rejected_graded: number;
  rejected_right: number;
  chosen_right_share: number | null;
  rejected_right_share: number | null;
}

/** Audit of pairs given, per pair, whether each side's completion is right (null: not known). */
export function auditPairs(sides: ReadonlyArray<{ chosen: boolean | null; rejected: boolean | null }>): PairAudit {
  const cg = sides.filter((s) => s.chosen !== null),
    rg = sides.filter((s) => s.rejected !== null);
  const cr = cg.filter((s) => s.chosen).length,
    rr = rg.filter((s) => s.rejected).length;
  return {
    label: gradedLabel(sides.length, 'pairs'),
    pairs: sides.length,
    chosen_graded: cg.length,
    chosen_right: cr,
    rejected_graded: rg.length,
    rejected_right: rr,
    chosen_right_share: cg.length ? cr / cg.length : null,
    rejected_right_share: rg.length ? rr / rg.length : null,
  };
}

/** PSRLM's step pairs: the chosen side by its search's own finished solution, the rejected side by a rollout
 *  of its round where one was made. */
export function auditStepPairs(
  pairs: readonly PairRecord[],
  graded: readonly GradedSearch[],
  rollouts: readonly RolloutRound[],
): PairAudit {
  const byIndex = new Map(graded.map((g) => [g.index, g]));
  const rolled = new Map<string, boolean | null>();
  for (const r of rollouts)
    rolled.set(
      JSON.stringify([r.index, r.step, r.candidates[r.best], r.candidates[r.worst]]),
      r.right[r.worst] ?? null,
    );
  return auditPairs(
    pairs.map((p) => {
      const g = byIndex.get(p.problem_index);
      return {
        chosen: g?.finished ? g.right : null,
        rejected: rolled.get(JSON.stringify([p.problem_index, p.step, p.chosen, p.rejected])) ?? null,
      };
    }),
  );
}
