// The exact checker of the world: the final answer of a solution, and each single step given the steps
// written before it. It plays the part of the paper's process reward model (PRM, §3.2 of
// arXiv:2503.03746) when EFT data are built, and it measures results; the self-rewarding loop never
// consults it (the paper uses no ground truth inside the loop).
//
// A step is judged *locally*: the earlier steps are replayed as written (a wrong earlier result becomes
// the running value), and the step must apply the next operation of the problem to the values now above,
// with right arithmetic. When it does not, the verifier names the first failing check in a fixed order and
// gives the short reason a judge should write (docs/world.md "Checks"): a number found nowhere above, then
// the quote (is it the problem's next phrase?), then the operands (the running value, the quoted number),
// then the operation against the quoted words, then operand order, then the last digit, then the other
// digits. Each reason is a cheap, local fact: most can be confirmed by copying a number or a phrase, the
// last-digit check by one single-digit fact.
import { applyOp, quoteOf, type Problem } from './generator.js';
import { extractBoxed, numbersIn, parseStep, readBody, splitSteps, formatAction, formatBoxed } from './format.js';

export type StepKind =
  | 'ok'
  /** The step is not `x<op>y=z` or `\boxed{z}`. */
  | 'format'
  /** An earlier step could not be read, so this one cannot be placed. */
  | 'prefix'
  /** The solution had already given its answer. */
  | 'after'
  /** An operand appears nowhere in the problem or the earlier steps. */
  | 'foreign'
  /** The running value (last result) is not used. */
  | 'stale'
  /** The step quotes another phrase than the problem's next one, or does not use the quoted quantity. */
  | 'skip'
  /** The operation contradicts the words. */
  | 'op'
  /** Right numbers, wrong order for '-' or '/'. */
  | 'order'
  /** The result's last digit is wrong. */
  | 'digit'
  /** The last digit is right but another digit is wrong (a carry or borrow slip). */
  | 'carry'
  /** A boxed answer while a quantity is still unused. */
  | 'early'
  /** The boxed answer is not the last result. */
  | 'answer'
  /** More arithmetic after every quantity is used. */
  | 'late';

export const ERROR_KINDS: readonly StepKind[] = [
  'format',
  'prefix',
  'after',
  'foreign',
  'stale',
  'skip',
  'op',
  'order',
  'digit',
  'carry',
  'early',
  'answer',
  'late',
];

export interface StepCheck {
  ok: boolean;
  kind: StepKind;
  /** The judge's check for this step: `ok`, or why it is wrong in a few words ("37 is not above"). */
  reason: string;
}

/** Where a solution stands after some written steps. */
export interface ReplayState {
  /** Running value: the last written result on the running line (the start amount before any step). */
  R: number;
  /** Last pack product (NaN before any). */
  P: number;
  /** Index into problem.plan of the next arithmetic step; plan.length means "answer next". */
  next: number;
  /** A boxed answer was written. */
  done: boolean;
  /** Every number the judge may find above: the problem's, the earlier steps', and the words' (doubles = 2). */
  above: Set<string>;
}

/** Replays earlier steps as written. Throws a readable error when a step cannot be read. */
export function replay(problem: Problem, earlier: readonly string[]): ReplayState {
  const above = new Set(numbersIn(problem.text));
  for (const e of problem.events) if (e.type === 'scale' || e.type === 'split') above.add(String(e.k));
  const st: ReplayState = { R: problem.start, P: NaN, next: 0, done: false, above };
  earlier.forEach((s, i) => {
    const v = readBody(parseStep(s).body);
    if (v === null) throw new Error(`earlier step ${i + 1} is not readable: ${JSON.stringify(s)}`);
    for (const n of [v.type === 'op' ? [v.x, v.y, v.z] : [v.z]].flat()) above.add(String(n));
    if (st.done) return;
    if (v.type === 'answer') {
      st.done = true;
      return;
    }
    const t = problem.plan[st.next];
    if (t === undefined) {
      st.R = v.z;
      return;
    } // an extra step: its result is the latest value
    if (t.out === 'R') st.R = v.z;
    else st.P = v.z;
    st.next += 1;
  });
  return st;
}

const ok: StepCheck = { ok: true, kind: 'ok', reason: 'ok' };
const bad = (kind: StepKind, reason: string): StepCheck => ({ ok: false, kind, reason });

/** Whether `step` is a correct next step after `earlier` (both as text, with or without `Step n:`). */
export function checkStep(problem: Problem, earlier: readonly string[], step: string): StepCheck {
  let st: ReplayState;
  try {
    st = replay(problem, earlier);
  } catch (err) {
    return bad('prefix', (err as Error).message);
  }
  if (st.done) return bad('after', 'already answered');
  const v = readBody(parseStep(step).body);
  if (v === null) return bad('format', 'not a step');
  const t = problem.plan[st.next];
  if (t === undefined) {
    if (v.type === 'op') return bad('late', 'all numbers are used');
    return v.z === st.R ? ok : bad('answer', `last result is ${st.R}`);
  }
  const val = (o: 'R' | 'P' | number) => (o === 'R' ? st.R : o === 'P' ? st.P : o);
  const ex = val(t.x),
    ey = val(t.y);
  const quote = quoteOf(t, ex, ey);
  if (v.type === 'answer') return bad('early', `next is ${quote}`);
  for (const n of [...numbersIn(v.quote), String(v.x), String(v.y)])
    if (!st.above.has(n)) return bad('foreign', `${n} is not above`);
  if (v.quote !== quote) return bad('skip', `next is ${quote}`);
  const sameSet = (v.x === ex && v.y === ey) || (v.x === ey && v.y === ex);
  if (!sameSet) {
    // Match as multisets: the running value may equal a stated number (R = 4 and "sells 4").
    const left = [v.x, v.y];
    const found = [ex, ey].map((e) => {
      const i = left.indexOf(e);
      if (i >= 0) left.splice(i, 1);
      return i >= 0;
    });
    if (t.x === 'R' && !found[0]) return bad('stale', `last result is ${ex}`);
    return bad('skip', `skips ${found[0] ? ey : ex}`);
  }
  if (v.op !== t.op) return bad('op', `${t.word} means ${t.op}`);
  if ((t.op === '-' || t.op === '/') && v.x !== ex) return bad('order', `${ex} comes first`);
  const truth = applyOp(v.x, v.op, v.y);
  // After a wrong earlier result the right operation may leave the whole numbers (5-12, 85/2): no written
  // result can be right, and the reason states the value.
  if (!Number.isInteger(truth) || truth < 0) return bad('carry', `${v.x}${v.op}${v.y} is ${truth}`);
  if (v.z !== truth) {
    if (v.z % 10 !== truth % 10) return bad('digit', `${v.x}${v.op}${v.y} ends in ${truth % 10}`);
    return bad('carry', `${v.x}${v.op}${v.y} is ${truth}`);
  }
  return ok;
}

/** The correct next step body after `earlier` (as written), e.g. `sells 12: 38-12=26` or `\boxed{26}`. */
export function nextStep(problem: Problem, earlier: readonly string[]): string {
  const st = replay(problem, earlier);
  if (st.done) throw new Error('nextStep: the solution has already given its answer');
  const t = problem.plan[st.next];
  if (t === undefined) return formatBoxed(st.R);
  const x = t.x === 'R' ? st.R : t.x === 'P' ? st.P : t.x;
  const y = t.y === 'R' ? st.R : t.y === 'P' ? st.P : t.y;
  return formatAction(quoteOf(t, x, y), x, t.op, y, applyOp(x, t.op, y));
}

export interface AnswerCheck {
  ok: boolean;
  /** The last \boxed{} content, or null when there is none. */
  answer: string | null;
  expected: number;
}

/** Whether the final boxed answer of `text` equals the problem's answer (exact integer string). */
export function checkAnswer(problem: Problem, text: string): AnswerCheck {
  const answer = extractBoxed(text);
  return { ok: answer !== null && answer === String(problem.answer), answer, expected: problem.answer };
}

export interface SolutionCheck {
  /** One check per step, each given the steps before it as written. */
  steps: StepCheck[];
  /** Index of the first wrong step, or -1. */
  firstError: number;
  /** The solution reached a boxed step. */
  final: boolean;
  answer: AnswerCheck;
  /** Every step right and the answer right. */
  ok: boolean;
}

/** Checks a whole `Step n:` solution text. */
export function checkSolution(problem: Problem, text: string): SolutionCheck {
  const { steps, final } = splitSteps(text);
  const checks = steps.map((s, i) => checkStep(problem, steps.slice(0, i), s));
  const firstError = checks.findIndex((c) => !c.ok);
  const answer = checkAnswer(problem, steps.join('\n'));
  return { steps: checks, firstError, final, answer, ok: firstError < 0 && final && answer.ok };
}
