// Pairwise self-judging of candidate next steps (paper §3.3): the model compares candidates two at a time
// with the judge template; a candidate's score is its number of wins; the best becomes the next step and
// (best, worst) a preference pair. Identical candidates are merged before judging (they would only tie),
// identical meaning what the judge reads: under a template's `judge_view: claims`, a step written out in
// columns and the same claim in one line are one candidate (the judge sees the same text for both, so it
// could only tie them, and the paper's tie rule would roll back a step where every candidate is right).
// A merged group is represented by its first sampled member, so which way of writing a step the search
// appends, and DPO prefers, follows the sampler; no way is favoured when both are right. Each unordered
// pair is judged in both orders by default, which cancels the judge's position bias.
//
// Split into planning (the prompts) and tallying (the wins) so a caller can put the judge prompts of many
// prefixes into one engine call: prompts of one prefix share the problem and earlier steps, which the
// engine's prefix cache computes once.
import { judgeBody, renderJudgePrompt, parseVerdict, type PromptTemplate } from '../data/templates.js';
import { stepBody } from '../world/index.js';

export interface JudgePlan {
  /** For each candidate, the index of its representative (the first candidate the judge reads the same). */
  rep: number[];
  /** Representatives, in candidate order. */
  unique: number[];
  /** Judge prompts: candidate `a` shown as A, `b` as B (indices into the candidates). */
  pairs: Array<{ a: number; b: number; prompt: string }>;
}

/** Candidates are compared by step body, so "Step 3: x" and "x" are the same step. */
export function canonicalStep(step: string): string {
  return stepBody(step).trim();
}

export function planJudgments(
  t: PromptTemplate,
  problem: string,
  prefix: readonly string[],
  candidates: readonly string[],
  bothOrders = true,
): JudgePlan {
  const seen = new Map<string, number>();
  const rep = candidates.map((c, i) => {
    const k = judgeBody(t, c).trim();
    const r = seen.get(k);
    if (r !== undefined) return r;
    seen.set(k, i);
    return i;
  });
  const unique = rep.filter((r, i) => r === i);
  const pairs: JudgePlan['pairs'] = [];
  for (let x = 0; x < unique.length; x++) {
    for (let y = x + 1; y < unique.length; y++) {
      const a = unique[x]!,
        b = unique[y]!;
      pairs.push({
        a,
        b,
        prompt: renderJudgePrompt(t, { problem, steps: prefix, stepA: candidates[a]!, stepB: candidates[b]! }),
      });
      if (bothOrders)
        pairs.push({
          a: b,
          b: a,
          prompt: renderJudgePrompt(t, { problem, steps: prefix, stepA: candidates[b]!, stepB: candidates[a]! }),
        });
    }
  }
  return { rep, unique, pairs };
}

export interface Tally {
  /** Wins of each candidate (duplicates carry their representative's wins). */
  wins: number[];
  verdicts: Array<'A' | 'B' | null>;
  /** Verdicts naming the first-shown candidate. */
  firstPosition: number;
  parseFailures: number;
  /** Unordered pairs judged in both orders whose two verdicts chose different steps. */
  orderFlips: number;
  orderPairs: number;
  /** Each unordered pair judged in both orders: its two candidates and whether the winner changed. */
  orderResults: Array<{ a: number; b: number; flipped: boolean }>;
}

export function tally(plan: JudgePlan, outputs: readonly string[]): Tally {
  const n = plan.rep.length;
  const winsRep = new Array<number>(n).fill(0);
  const verdicts = outputs.map(parseVerdict);
  let firstPosition = 0,
    parseFailures = 0;
  // each unordered pair's winners, one per order it was judged in
  const chosen = new Map<string, { a: number; b: number; winners: number[] }>();
  plan.pairs.forEach((p, k) => {
    const v = verdicts[k];
    if (v === null || v === undefined) {
      parseFailures++;
      return;
    }
    if (v === 'A') firstPosition++;
    const winner = v === 'A' ? p.a : p.b;
    winsRep[winner]!++;
    const a = Math.min(p.a, p.b),
      b = Math.max(p.a, p.b),
      key = `${a},${b}`;
    let e = chosen.get(key);
    if (!e) chosen.set(key, (e = { a, b, winners: [] }));
    e.winners.push(winner);
  });
  const orderResults = [...chosen.values()]
    .filter((e) => e.winners.length === 2)
    .map((e) => ({ a: e.a, b: e.b, flipped: e.winners[0] !== e.winners[1] }));
  const orderFlips = orderResults.filter((o) => o.flipped).length,
    orderPairs = orderResults.length;
  return {
    wins: plan.rep.map((r) => winsRep[r]!),
    verdicts,
    firstPosition,
    parseFailures,
    orderFlips,
    orderPairs,
    orderResults,
  };
}

/** Indices of the candidates with the most wins, and with the fewest (among distinct steps). */
export function bestAndWorst(
  wins: readonly number[],
  rep: readonly number[],
): { best: number[]; worst: number[]; tied: boolean } {
  const uniq = rep.map((r, i) => (r === i ? i : -1)).filter((i) => i >= 0);
  const ws = uniq.map((i) => wins[i]!);
  const hi = Math.max(...ws),
    lo = Math.min(...ws);
  return { best: uniq.filter((i) => wins[i] === hi), worst: uniq.filter((i) => wins[i] === lo), tied: hi === lo };
}
