// Single-candidate checks: one candidate next step, right or wrong with equal odds, and the judge's check
// line for it, in the same layout as a line of the pairwise judge's explanation (`A: 86-44=52: 4+4=8, 5+2=7,
// 8+7=15 1+5=6, 8+6=14 1+4=5 so 6|5! no`). They are added to M1's SFT data next to the pairwise EFT examples
// (src/data/eft.ts).
//
// Why (docs/log.md, 2026-12-06): in pairwise EFT data one of the two candidates is always right, so
// the true result of a column check always equals one of the two results claimed in the prompt. A 3-epoch
// M1 with the `digits` layout learned exactly that shortcut: on 55 of 266 held-out arithmetic pairs it copied the wrong
// candidate's claimed result into its columns, and each of those verdicts was wrong. In a single check the
// candidate is wrong half the time and nothing else in the prompt holds the true result, so computing the
// columns is the only strategy that fits all of M1's judge data. (Measured: with the column layouts they did
// not stop the copying; casting out nines did, and they stay in M1's data to train the check of one
// candidate on its own, docs/world.md "How the judge checks a step".)
//
// Not in the paper: its judge is a 7B model trained on pairwise data alone (§3.2). This is world data for
// the small model, like the base corpus's column drills, and `eft.singles: 0` turns it off. The verifier
// builds it, as it builds the EFT pairs; it is never consulted inside the self-rewarding loop.
import type { Problem, Split, WorldConfig } from '../world/generator.js';
import { generateProblem } from '../world/generator.js';
import { proposeCandidates, type PolicyOptions } from '../world/mistakes.js';
import { WorldRng, seedOf } from '../world/rng.js';
import { checkStep, nextStep } from '../world/verifier.js';
import { checkable, checkLine, type ExplainMode } from './eft.js';
import type { SingleRecord } from './schema.js';
import { renderCheckPrompt, renderCheckTarget, type PromptTemplate } from './templates.js';

export interface SingleOptions {
  policy: PolicyOptions;
  explain: ExplainMode;
}

/**
 * One single-candidate check on `problem`: a layer drawn at random, the correct prefix up to it, then the
 * correct next step or (with probability ½) one of the program policy's mistakes there, shown as A or B at
 * random. Null when the policy has no mistake at that layer (the caller moves on to the next problem).
 */
export function singleRecord(
  problem: Problem,
  t: PromptTemplate,
  opts: SingleOptions,
  rng: WorldRng,
  id: string,
): SingleRecord | null {
  const layer = rng.int(1, problem.steps);
  const prefix: string[] = [];
  while (prefix.length < layer - 1) prefix.push(nextStep(problem, prefix));
  const wantWrong = rng.chance(0.5);
  let step = nextStep(problem, prefix);
  let kind = 'ok';
  if (wantWrong) {
    const cands = proposeCandidates(problem, prefix, { ...opts.policy, pCorrect: 0 }, rng);
    const wrong = cands
      .map((c) => ({ c, check: checkStep(problem, prefix, c) }))
      .find((s) => !s.check.ok && checkable(problem, prefix, s.c, opts.explain, s.check));
    if (!wrong) return null;
    step = wrong.c;
    kind = wrong.check.kind;
  }
  const letter = rng.chance(0.5) ? 'A' : 'B';
  const check = checkLine(problem, prefix, step, opts.explain);
  return {
    id,
    split: problem.split,
    index: problem.index,
    prompt: renderCheckPrompt(t, { problem: problem.text, steps: prefix, letter, step }),
    completion: renderCheckTarget(t, letter, check),
    eos: true,
    problem: problem.text,
    prefix,
    layer,
    letter,
    step,
    check,
    ok: !wantWrong,
    kind,
  };
}

/**
 * `n` single checks from consecutive problems of a split starting at `from` (one per problem), leaving out
 * those longer than `budget` characters (counted). `limit` is the first index the pool may not use.
 */
export function collectSingles(
  world: WorldConfig,
  t: PromptTemplate,
  seed: number,
  split: Split,
  from: number,
  n: number,
  budget: number,
  opts: SingleOptions,
  limit = Number.POSITIVE_INFINITY,
): { records: SingleRecord[]; next: number; dropped: number } {
  if (n > 0 && (t.check_prompt === undefined || t.check_target === undefined)) {
    throw new Error(
      `data build: template '${t.name}' has no check_prompt/check_target, so it cannot render single-candidate ` +
        `checks; set eft.singles to 0 or add both fields to templates/${t.name}.json`,
    );
  }
  const records: SingleRecord[] = [];
  let i = from,
    dropped = 0;
  while (records.length < n) {
    if (i >= limit)
      throw new Error(`data build: ${split} pool ran out of problems at index ${i} before ${n} single checks`);
    if (i - from > 10 * n + 1000)
      throw new Error(
        `data build: fewer than ${n} ${split} single checks fit budget.eft = ${budget} characters (${dropped} ` +
          `dropped); raise budget.eft`,
      );
    const r = singleRecord(
      generateProblem(world, split, i),
      t,
      opts,
      new WorldRng(seedOf(seed, 'single', split, i)),
      `single-${split}-${records.length}`,
    );
    i++;
    if (r === null) continue;
    if (r.prompt.length + r.completion.length > budget) {
      dropped++;
      continue;
    }
    records.push(r);
  }
  return { records, next: i, dropped };
}
