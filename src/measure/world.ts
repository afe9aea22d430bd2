// Measurements on the synthetic world, shared by pretraining, the loop and the demo (paper §4.2, Tables 1
// and 6 in miniature): greedy solving accuracy on a split (final boxed answer checked exactly, plus how
// often every step is right), greedy next-step accuracy at held-out prefixes (what step-wise DPO trains
// directly, and with about a quarter of the whole-solution figure's sampling error), and judge accuracy on
// held-out EFT examples in both orders with order consistency, and single-candidate checks. The world's
// verifier is used to measure only; nothing here feeds back into training.
import type { Engine } from '../engine/types.js';
import { renderStepPrompt, parseVerdict, type PromptTemplate } from '../data/templates.js';
import type { EftRecord, SingleRecord } from '../data/schema.js';
import { parseScore, type ScoreRecord } from '../data/score.js';
import { resultsString } from './paired.js';
import {
  checkSolution,
  checkStep,
  readBody,
  renderSteps,
  SOLUTION_TOKENS,
  splitSteps,
  STEP_TOKENS,
  stepBody,
  type Problem,
} from '../world/index.js';

export interface SolveReport {
  n: number;
  /** Share with the right final answer. */
  accuracy: number;
  /** Share whose every step is right and that ends with the right answer. */
  all_steps_right: number;
  /** Share that reached a boxed answer at all. */
  finished: number;
  mean_steps: number;
  mean_step_chars: number;
  /** '1' (right final answer) or '0' per problem, in the order given: two reports of the same problems
   *  are paired item by item (src/measure/paired.ts). */
  correct: string;
  /** [right, problems] by the number of steps a problem's solution needs (the boxed step included). */
  by_steps: Record<string, [number, number]>;
  /** The sums and differences the model wrote, by the way it wrote them (docs/world.md "Two ways to do a
   *  step"): [wrong, written] in one line and written out in columns, each step checked locally. */
  ways: { one_line: [number, number]; written: [number, number] };
}

export async function solveReport(
  engine: Engine,
  problems: Problem[],
  t: PromptTemplate,
  maxTokens = SOLUTION_TOKENS,
): Promise<SolveReport> {
  const outs = await engine.generate(
    problems.map((p) => renderStepPrompt(t, p.text)),
    { n: 1, temperature: 0, max_tokens: maxTokens, seed: 0 },
  );
  let right = 0,
    all = 0,
    fin = 0,
    steps = 0,
    chars = 0;
  const ok: boolean[] = [];
  const bySteps: Record<string, [number, number]> = {};
  const ways: SolveReport['ways'] = { one_line: [0, 0], written: [0, 0] };
  outs.forEach((o, i) => {
    const c = checkSolution(problems[i]!, o[0]!.text);
    splitSteps(o[0]!.text).steps.forEach((s, j) => {
      const v = readBody(stepBody(s));
      if (v?.type !== 'op' || (v.op !== '+' && v.op !== '-') || c.steps[j] === undefined) return;
      const w = v.work === undefined ? ways.one_line : ways.written;
      w[1]++;
      if (!c.steps[j]!.ok) w[0]++;
    });
    ok.push(c.answer.ok);
    const k = (bySteps[String(problems[i]!.steps)] ??= [0, 0]);
    k[1]++;
    if (c.answer.ok) k[0]++;
    if (c.answer.ok) right++;
    if (c.ok) all++;
    if (c.final) fin++;
    steps += c.steps.length;
    chars += o[0]!.text.length / Math.max(1, c.steps.length);
  });
  const n = problems.length;
  return {
    n,
    accuracy: right / n,
    all_steps_right: all / n,
    finished: fin / n,
    mean_steps: steps / n,
    mean_step_chars: chars / n,
    correct: resultsString(ok),
    by_steps: Object.fromEntries(Object.entries(bySteps).sort((x, y) => Number(x[0]) - Number(y[0]))),
    ways,
  };
}

export interface NextStepReport {
  n: number;
  /** Share of prefixes whose greedy next step the verifier accepts. */
  accuracy: number;
}

/** Greedy next step after each prefix (a problem and its first correct steps), checked by the verifier. */
export async function nextStepReport(
  engine: Engine,
  items: ReadonlyArray<{ problem: Problem; prefix: readonly string[] }>,
  t: PromptTemplate,
  maxTokens = STEP_TOKENS,
): Promise<NextStepReport> {
  if (items.length === 0) return { n: 0, accuracy: 0 };
  const prompts = items.map((it) => renderStepPrompt(t, it.problem.text) + renderSteps(it.prefix));
  const outs = await engine.generate(prompts, {
    n: 1,
    temperature: 0,
    max_tokens: maxTokens,
    seed: 0,
    stop: ['\n'],
    include_stop: true,
  });
  const right = items.filter((it, i) => checkStep(it.problem, it.prefix, outs[i]![0]!.text).ok).length;
  return { n: items.length, accuracy: right / items.length };
}

export interface JudgeReport {
  n: number;
  accuracy: number;
  /** Accuracy on examples whose correct step is shown first (AB) and second (BA). */
  accuracy_ab: number;
  accuracy_ba: number;
  /** Pairs whose two orders got the same underlying choice. */
  order_consistency: number;
  /** Verdicts that named A (chance-level judges drift to one letter). */
  first_position_rate: number;
  parse_failures: number;
}

/** Greedy judgments of EFT records (each pair in both orders), scored against their labels. */
export async function judgeReport(engine: Engine, records: EftRecord[], maxTokens = 208): Promise<JudgeReport> {
  const outs = await engine.generate(
    records.map((r) => r.prompt),
    { n: 1, temperature: 0, max_tokens: maxTokens, seed: 0 },
  );
  const verdicts = outs.map((o) => parseVerdict(o[0]!.text));
  let right = 0,
    ab = 0,
    abN = 0,
    ba = 0,
    baN = 0,
    firstPos = 0,
    fails = 0;
  const byPair = new Map<string, { AB?: 'A' | 'B' | null; BA?: 'A' | 'B' | null }>();
  records.forEach((r, i) => {
    const v = verdicts[i]!;
    if (v === null) fails++;
    if (v === 'A') firstPos++;
    const ok = v === r.label;
    if (ok) right++;
    // the correct step is first when the label is A
    if (r.label === 'A') {
      abN++;
      if (ok) ab++;
    } else {
      baN++;
      if (ok) ba++;
    }
    const key = `${r.split}:${r.pair}`;
    const e = byPair.get(key) ?? {};
    e[r.order] = v;
    byPair.set(key, e);
  });
  let pairs = 0,
    consistent = 0;
  for (const e of byPair.values()) {
    if (e.AB === undefined || e.BA === undefined) continue;
    pairs++;
    // the same step chosen in both orders: A in one order is B in the other
    if (e.AB !== null && e.BA !== null && e.AB !== e.BA) consistent++;
  }
  const n = records.length;
  return {
    n,
    accuracy: right / n,
    accuracy_ab: abN ? ab / abN : 0,
    accuracy_ba: baN ? ba / baN : 0,
    order_consistency: pairs ? consistent / pairs : 0,
    first_position_rate: firstPos / n,
    parse_failures: fails,
  };
}

export interface SingleReport {
  n: number;
  /** Share that passes a right step (line ends in `ok`) and fails a wrong one (any other line). */
  accuracy: number;
  accuracy_right: number;
  accuracy_wrong: number;
  /** The same on wrong steps whose mistake is in the result alone (`digit`, `carry`): the column work. */
  accuracy_arithmetic: number;
  /** Share whose whole check line equals the gold one. */
  exact: number;
  /** Outputs with an empty first line, or cut off by the token budget before its end. */
  parse_failures: number;
}

/**
 * Greedy single-candidate checks (src/data/single.ts) against the verifier: does the judge, looking at one
 * candidate, end its line in the right word? This isolates the check from the choice between two candidates.
 */
export async function singleReport(engine: Engine, records: SingleRecord[], maxTokens = 96): Promise<SingleReport> {
  const outs = await engine.generate(
    records.map((r) => r.prompt),
    { n: 1, temperature: 0, max_tokens: maxTokens, seed: 0, stop: ['\n'] },
  );
  let right = 0,
    exact = 0,
    fails = 0;
  const by = { right: [0, 0], wrong: [0, 0], arithmetic: [0, 0] };
  records.forEach((r, i) => {
    const out = outs[i]![0]!;
    const line = out.text.split('\n')[0]!;
    // As in the pairwise targets, a line ending in `ok` passes the step and any other finished line (`… no`,
    // or a reason such as `sells means -`) fails it; an empty or cut-off line says nothing.
    const says = / ok$/.test(line)
      ? true
      : line.length > 2 && !(out.finish_reason === 'length' && !out.text.includes('\n'))
        ? false
        : null;
    if (says === null) fails++;
    const ok = says === r.ok;
    if (ok) right++;
    if (line === r.completion) exact++;
    const b = r.ok ? by.right : by.wrong;
    b[0]++;
    if (ok) b[1]++;
    if (r.kind === 'digit' || r.kind === 'carry') {
      by.arithmetic[0]++;
      if (ok) by.arithmetic[1]++;
    }
  });
  const share = ([n, k]: number[]) => (n! ? k! / n! : 0);
  const n = records.length;
  return {
    n,
    accuracy: right / n,
    accuracy_right: share(by.right),
    accuracy_wrong: share(by.wrong),
    accuracy_arithmetic: share(by.arithmetic),
    exact: exact / n,
    parse_failures: fails,
  };
}

export interface ScoreReport {
  n: number;
  /** Share whose verdict "fully right" (score 5) matches the truth: the outcome judge's accuracy. */
  accuracy: number;
  /** Share with exactly the rubric's score. */
  exact: number;
  mean_abs_error: number;
  parse_failures: number;
}

/** Greedy 0–5 scores of held-out scored solutions (the SRLM judge), against the rubric. */
export async function scoreReport(
  engine: Engine,
  records: ScoreRecord[],
  maxTokens = SOLUTION_TOKENS,
): Promise<ScoreReport> {
  const outs = await engine.generate(
    records.map((r) => r.prompt),
    { n: 1, temperature: 0, max_tokens: maxTokens, seed: 0 },
  );
  let acc = 0,
    exact = 0,
    err = 0,
    fails = 0;
  records.forEach((r, i) => {
    const s = parseScore(outs[i]![0]!.text);
    if (s === null) {
      fails++;
      err += 5;
      return;
    }
    if ((s === 5) === (r.score === 5)) acc++;
    if (s === r.score) exact++;
    err += Math.abs(s - r.score);
  });
  const n = records.length;
  return { n, accuracy: acc / n, exact: exact / n, mean_abs_error: err / n, parse_failures: fails };
}
