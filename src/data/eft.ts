// EFT data: step-wise pairwise judgments built the way the paper builds them (§3.2 of arXiv:2503.03746).
// A search walks each problem's solution layer by layer; at each layer a policy proposes w candidate next
// steps (the paper: MCTS over a policy model; here: the program policy of src/world/mistakes.ts), a
// process reward model scores them (here: the exact verifier, score 1 or 0), and the best and the worst
// candidate of the layer form a pair. Layers whose candidates all score the same give no pair (the paper's
// tie rule). The search continues from the best candidate, which is always a correct step here; when a
// layer has no correct candidate it continues from the canonical step (the paper would roll back and
// resample; the result is the same correct prefix).
//
// Each pair becomes two judge examples, one per order (A/B swapped), so labels are exactly balanced and
// the judge is trained against position bias (docs/method.md §10). The target is a check line per candidate
// — written arithmetic ending in `ok`/`no`, or the verifier's short reason ("37 is not above"), see
// `checkLine` — then the verdict `[[A]]` or `[[B]]`; the
// paper's GPT-o1 filter (agree with the PRM, and agree with itself under a swap) holds by construction.
import type { Problem } from '../world/generator.js';
import { type PolicyOptions, proposeCandidates } from '../world/mistakes.js';
import { WorldRng } from '../world/rng.js';
import { checkStep, nextStep, replay, type StepCheck, type StepKind } from '../world/verifier.js';
import { columnCheck, digitCompare, ninesCheck } from '../world/columns.js';
import { parseStep, readBody } from '../world/format.js';
import { quoteOf } from '../world/generator.js';
import type { EftRecord } from './schema.js';
import { renderJudgePrompt, renderJudgeTarget, type PromptTemplate } from './templates.js';

export interface EftPair {
  problem: Problem;
  /** Earlier steps (bodies), all correct. */
  prefix: string[];
  /** Better and worse candidate bodies. */
  best: string;
  worst: string;
  /** The verifier's kind and reason for the worse one. */
  kind: StepKind;
  reason: string;
  /** The judge's check line of each (see `checkLine`). */
  checkBest: string;
  checkWorst: string;
}

/**
 * How a judge's check line reads (docs/world.md "Checks" and "How the judge checks a step"; the layouts'
 * measured failures are in docs/log.md):
 * - `nines` (default): a step with the right phrase, operands and operation is checked by casting out nines
 *   (`38+15=53: 3+8=11 1+1=2, 1+5=6, 2+6=8, 5+3=8 so 8|8= ok`, src/world/columns.ts `ninesCheck`): no
 *   number it computes is written in the prompt, so none can be copied. A wrong result off by a multiple
 *   of 9 passes that check; such a step gets the `drill` line, and the EFT pairs and single checks leave
 *   such steps out (`checkable`), so the judge's data never mixes the two methods. Boxed steps and other
 *   wrong steps as in `drill`.
 * - `drill`: a step with the right phrase, operands and operation is checked by the base corpus's
 *   column drill of its operation, and the value read off the columns is then compared digit by digit with
 *   the candidate's result (`98-38: 8-8=0 9-3=6 so 60 vs 61: 0|1! no`, src/world/columns.ts); a boxed step
 *   puts the last result next to the boxed number (`last 52 vs 50: 2|0! no`); any other wrong step gets the
 *   verifier's short reason. The claimed result appears only after the columns, so the columns cannot be
 *   copied from it.
 * - `digits`: as `drill`, but the candidate's equation, with its claimed result, is copied before the
 *   columns (`98-38=61; 8-8=0 …`). A 3-epoch M1 built with it learned to copy a claimed result into its
 *   columns instead of computing them (docs/log.md, 2026-12-06).
 * - `columns`: as `digits` with `ok`/`no` right after the value (`… so 41 no`).
 * - `reason`: `ok` for a right step, the verifier's reason for a wrong one (the simplest layout; its judge
 *   must decide at the first token after `A: ` and stayed at chance, docs/world.md).
 */
export type ExplainMode = 'nines' | 'drill' | 'digits' | 'columns' | 'reason';
export const EXPLAIN_MODES: readonly ExplainMode[] = ['nines', 'drill', 'digits', 'columns', 'reason'];

/** The judge's check line for one candidate next step after `prefix` (all as bodies). */
export function checkLine(
  problem: Problem,
  prefix: readonly string[],
  step: string,
  mode: ExplainMode = 'nines',
): string {
  const c = checkStep(problem, prefix, step);
  if (mode === 'reason') return c.reason;
  if (c.kind !== 'ok' && c.kind !== 'digit' && c.kind !== 'carry' && c.kind !== 'answer') return c.reason;
  const v = readBody(parseStep(step).body)!;
  if (v.type === 'op' && mode === 'nines') {
    const n = ninesCheck(v.x, v.op, v.y, v.z);
    return n !== null && n.ok === c.ok ? n.line : columnCheck(v.x, v.op, v.y, v.z, 'drill');
  }
  if (v.type === 'op')
    return columnCheck(v.x, v.op, v.y, v.z, mode === 'columns' ? 'whole' : (mode as 'drill' | 'digits'));
  const R = replay(problem, prefix).R;
  return mode === 'columns'
    ? `last ${R} vs ${v.z} ${c.ok ? 'ok' : 'no'}`
    : `last ${R} vs ${v.z}: ${digitCompare(R, v.z)}`;
}

/**
 * Whether `step`'s check line decides it by the layout's own method: false only for a wrong result that
 * casting out nines cannot see (off by a multiple of 9, `nines` layout), whose line falls back to columns.
 * EFT pairs and single checks leave such steps out, so every arithmetic line of the judge's data is a
 * nines check; the verifier still judges them everywhere else.
 */
export function checkable(
  problem: Problem,
  prefix: readonly string[],
  step: string,
  mode: ExplainMode = 'nines',
  c: StepCheck = checkStep(problem, prefix, step),
): boolean {
  if (mode !== 'nines') return true;
  if (c.ok || (c.kind !== 'digit' && c.kind !== 'carry')) return true;
  const v = readBody(parseStep(step).body)!;
  if (v.type !== 'op') return true;
  const n = ninesCheck(v.x, v.op, v.y, v.z);
  return n === null || !n.ok;
}

export interface EftSearchOptions {
  policy: PolicyOptions;
  /** At most this many pairs per problem (drawn at random among its layers), for problem diversity. */
  maxPairsPerProblem: number;
  /** How the check lines read (default `nines`). */
  explain?: ExplainMode;
}

/** Searches one problem and returns its pairs (at most maxPairsPerProblem, in layer order). */
export function searchPairs(problem: Problem, opts: EftSearchOptions, rng: WorldRng): EftPair[] {
  const pairs: EftPair[] = [];
  const prefix: string[] = [];
  for (let layer = 1; layer <= problem.steps; layer++) {
    const raw = proposeCandidates(problem, prefix, opts.policy, rng);
    // Merge identical candidates, then shuffle so ties break at random (open choices 2, 8, docs/method.md §3).
    const cands = rng.shuffle([...new Set(raw)]);
    const mode = opts.explain ?? 'nines';
    const scored = cands.map((c) => ({ c, check: checkStep(problem, prefix, c) }));
    const best = scored.find((s) => s.check.ok);
    const worst = scored.find((s) => !s.check.ok && checkable(problem, prefix, s.c, mode, s.check));
    if (best && worst) {
      pairs.push({
        problem,
        prefix: prefix.slice(),
        best: best.c,
        worst: worst.c,
        kind: worst.check.kind,
        reason: worst.check.reason,
        checkBest: checkLine(problem, prefix, best.c, mode),
        checkWorst: checkLine(problem, prefix, worst.c, mode),
      });
    }
    prefix.push(best ? best.c : nextStep(problem, prefix));
  }
  if (pairs.length <= opts.maxPairsPerProblem) return pairs;
  const keep = new Set(rng.shuffle(pairs.map((_, i) => i)).slice(0, opts.maxPairsPerProblem));
  return pairs.filter((_, i) => keep.has(i));
}

/**
 * The verifier's judgment of any two candidate next steps (e.g. two of the model's own samples): the check
 * line of each and the label, or null when both are right or both wrong (no better step). For measuring a
 * judge on the model's own candidates, which the paper never does (docs/method.md §7).
 */
export function goldJudgment(
  problem: Problem,
  prefix: readonly string[],
  stepA: string,
  stepB: string,
  mode: ExplainMode = 'nines',
): { label: 'A' | 'B' | null; checkA: string; checkB: string } {
  const a = checkStep(problem, prefix, stepA),
    b = checkStep(problem, prefix, stepB);
  return {
    label: a.ok === b.ok ? null : a.ok ? 'A' : 'B',
    checkA: checkLine(problem, prefix, stepA, mode),
    checkB: checkLine(problem, prefix, stepB, mode),
  };
}

/**
 * What the next step must do after `prefix`, as the `compact-next` template's scratch line: the quote and
 * the running value it applies to (`sells 12 on 38`), the quote alone for a pack (`2 bags of 6`), or
 * `answer 52`. Each is a copy (the phrase after the last quoted one; the last result), so a judge that
 * writes it first can then check both candidates against a line right above them.
 */
export function nextHint(problem: Problem, prefix: readonly string[]): string {
  const st = replay(problem, prefix);
  const t = problem.plan[st.next];
  if (st.done || t === undefined) return `answer ${st.R}`;
  const val = (o: 'R' | 'P' | number) => (o === 'R' ? st.R : o === 'P' ? st.P : o);
  const q = quoteOf(t, val(t.x), val(t.y));
  return t.x === 'R' ? `${q} on ${st.R}` : q;
}

/** The two judge examples of a pair: better step shown as A ('AB'), then as B ('BA'). */
export function eftRecords(pair: EftPair, pairNo: number, t: PromptTemplate, idPrefix = 'eft'): EftRecord[] {
  const p = pair.problem;
  return (['AB', 'BA'] as const).map((order) => {
    const [a, b] = order === 'AB' ? [pair.best, pair.worst] : [pair.worst, pair.best];
    const [checkA, checkB] = order === 'AB' ? [pair.checkBest, pair.checkWorst] : [pair.checkWorst, pair.checkBest];
    const label = order === 'AB' ? 'A' : 'B';
    return {
      id: `${idPrefix}-${pairNo}-${order}`,
      split: p.split,
      index: p.index,
      pair: pairNo,
      order,
      prompt: renderJudgePrompt(t, { problem: p.text, steps: pair.prefix, stepA: a, stepB: b }),
      completion: renderJudgeTarget(t, checkA, checkB, label, nextHint(p, pair.prefix)),
      eos: true,
      label,
      problem: p.text,
      prefix: pair.prefix,
      layer: pair.prefix.length + 1,
      step_a: a,
      step_b: b,
      check_a: checkA,
      check_b: checkB,
      kind: pair.kind,
    };
  });
}
