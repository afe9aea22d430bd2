// Solution-scoring judge data for the SRLM baseline (outcome-based self-rewarding, Yuan et al. 2024; paper
// §4.1 "Baseline"): the model reads a question and a WHOLE solution and gives it 0–5 points with the
// additive scoring template. SRLM's M1 is M0 + SFT on IFT + these examples (instead of the step-wise
// pairwise EFT), so that it solves and scores whole answers.
//
// The additive rubric, in the spirit of SRLM's five criteria and applied to this world (each criterion
// adds one point; later ones imply earlier ones except the last):
//   +1 the solution reaches a boxed answer        +1 its first step is right
//   +1 at least half of its steps are right before the first wrong one
//   +1 every step is right                        +1 the boxed answer is the right one
// The explanation before the score comes in two variants (`ScoreExplain`):
//   whole  (the default) in the spirit of Yuan et al.'s LLM-as-a-Judge: one line about the solution as a
//          whole (how many steps, which answer), then `Score: k`. Nothing is checked step by step, so the
//          outcome baseline gets no process-level supervision and the comparison stays the paper's.
//   steps  the check line of each step (src/data/eft.ts `checkLine`: written arithmetic, or the verifier's
//          reason) up to and including the first wrong one, then `Score: k`: the step judge's own
//          explanations. A long solution leaves the scorer too little context to finish them (docs/log.md).
// Solutions come from the program policy
// (src/world/mistakes.ts): each step is a mistake with probability `pMistake`, and later steps continue
// correctly from whatever was written (the verifier judges steps locally), as a model's would.
import { generateProblem, type Problem, type Split, type WorldConfig } from '../world/generator.js';
import { DEFAULT_POLICY, makeMistake, type PolicyOptions } from '../world/mistakes.js';
import { WorldRng, seedOf } from '../world/rng.js';
import { checkAnswer, checkStep, nextStep, renderSteps, splitSteps, stepBody } from '../world/index.js';
import { checkLine, type ExplainMode } from './eft.js';
import { asTurn, fill, judgeSolution, stepInstruction, type PromptTemplate } from './templates.js';

export interface ScoreRecord {
  id: string;
  split: string;
  index: number;
  prompt: string;
  completion: string;
  eos: true;
  problem: string;
  /** The solution scored (`Step 1: …` lines). */
  response: string;
  score: number;
  /** 0-based index of the first wrong step, or -1. */
  first_error: number;
}

/** The rubric's points for a written solution (bodies), and the check lines the judge writes first. */
export function solutionScore(
  problem: Problem,
  steps: readonly string[],
  final: boolean,
  mode: ExplainMode = 'nines',
): { score: number; checks: string[] } {
  const checks: string[] = [];
  let firstError = -1;
  for (let i = 0; i < steps.length; i++) {
    checks.push(checkLine(problem, steps.slice(0, i), steps[i]!, mode));
    if (!checkStep(problem, steps.slice(0, i), steps[i]!).ok) {
      firstError = i;
      break;
    }
  }
  const rightBefore = firstError < 0 ? steps.length : firstError;
  const answerOk = final && checkAnswer(problem, renderSteps(steps)).ok;
  let score = 0;
  if (final) score++;
  if (rightBefore >= 1) score++;
  if (steps.length > 0 && rightBefore * 2 >= steps.length) score++;
  if (firstError < 0 && final) score++;
  if (answerOk) score++;
  return { score, checks };
}

/** A solution from the program policy: each step wrong with probability pMistake (at most 20 steps). */
export function policySolution(
  problem: Problem,
  pMistake: number,
  rng: WorldRng,
  policy: PolicyOptions = DEFAULT_POLICY,
): string[] {
  const steps: string[] = [];
  for (let i = 0; i < 20; i++) {
    let body: string;
    try {
      body = nextStep(problem, steps);
    } catch {
      break;
    }
    if (rng.chance(pMistake)) {
      const weights = { ...policy.weights };
      let wrong: string | null = null;
      while (wrong === null && Object.values(weights).some((w) => w > 0)) {
        const kind = rng.weighted(weights);
        wrong = makeMistake(problem, steps, kind, rng);
        weights[kind] = 0;
      }
      if (wrong !== null) body = wrong;
    }
    steps.push(body);
    if (body.startsWith('\\boxed')) break;
  }
  return steps;
}

/** How the scorer explains before its score (header). */
export type ScoreExplain = 'whole' | 'steps';
export const SCORE_EXPLAINS: readonly ScoreExplain[] = ['whole', 'steps'];

/** The `steps` target: the check lines, then `Score: k`. */
export function scoreTarget(checks: readonly string[], score: number): string {
  return checks.map((c, i) => `Step ${i + 1}: ${c}\n`).join('') + `Score: ${score}`;
}

/** The `whole` target: one line on the solution as a whole (its length and its boxed answer), then
 *  `Score: k`. The line is read off the solution, so writing it checks nothing. */
export function wholeTarget(stepCount: number, answer: string | null, score: number): string {
  const steps = `${stepCount} step${stepCount === 1 ? '' : 's'}`;
  return `${steps}, ${answer === null ? 'no answer' : `answer ${answer}`}\nScore: ${score}`;
}

/** Renders the scoring prompt for a question and a response (the template's `score_prompt`; the response's
 *  steps read under its `judge_view`, as the step judge reads them). */
export function renderScorePrompt(t: PromptTemplate, problem: string, response: string): string {
  return asTurn(t, fill(t.score_prompt, { prompt: stepInstruction(t, problem), response: judgeSolution(t, response) }));
}

/** The last `Score: k` (0–5) of a judge's output, or null. */
export function parseScore(text: string): number | null {
  const all = [...text.matchAll(/Score:\s*([0-5])\b/g)];
  return all.length ? Number(all[all.length - 1]![1]) : null;
}

/** One scoring example for a problem: a policy solution, its rubric score and the target. */
export function scoreRecord(
  problem: Problem,
  t: PromptTemplate,
  seed: number,
  pMistake = 0.2,
  mode: ExplainMode = 'nines',
  explain: ScoreExplain = 'whole',
): ScoreRecord {
  const rng = new WorldRng(seed);
  const steps = policySolution(problem, pMistake, rng);
  const response = renderSteps(steps);
  const { final } = splitSteps(response);
  const { score, checks } = solutionScore(problem, steps.map(stepBody), final, mode);
  const firstError = checks.length && !/(^| )ok$/.test(checks[checks.length - 1]!) ? checks.length - 1 : -1;
  const completion =
    explain === 'steps'
      ? scoreTarget(checks, score)
      : wholeTarget(steps.length, final ? checkAnswer(problem, response).answer : null, score);
  return {
    id: `score-${problem.id}`,
    split: problem.split,
    index: problem.index,
    prompt: renderScorePrompt(t, problem.text, response),
    completion,
    eos: true,
    problem: problem.text,
    response,
    score,
    first_error: firstError,
  };
}

/**
 * Scoring examples from consecutive problems of a split starting at `from`, leaving out those longer than
 * `budget` characters (counted). The train pool is `SCORE_POOL`, inside the gap between the EFT pool and the
 * loop's questions (src/data/build.ts pools), so no other data set or loop question shares a problem.
 */
export const SCORE_POOL = 250_000;

export function scoreRecords(
  world: WorldConfig,
  t: PromptTemplate,
  seed: number,
  split: Split,
  from: number,
  n: number,
  budget: number,
  pMistake = 0.2,
  mode: ExplainMode = 'nines',
  explain: ScoreExplain = 'whole',
): { records: ScoreRecord[]; next: number; dropped: number } {
  const records: ScoreRecord[] = [];
  let i = from,
    dropped = 0;
  while (records.length < n) {
    if (i - from > 10 * n + 1000)
      throw new Error(
        `score data: fewer than ${n} ${split} examples fit ${budget} characters (${dropped} dropped); raise the budget`,
      );
    const r = scoreRecord(
      generateProblem(world, split, i),
      t,
      seedOf(seed, 'score', split, i),
      pMistake,
      mode,
      explain,
    );
    i++;
    if (r.prompt.length + r.completion.length > budget) {
      dropped++;
      continue;
    }
    records.push(r);
  }
  return { records, next: i, dropped };
}
