// Judge health on the model's own candidates (the gate before self-rewarding, docs/world.md "The judge
// gate"): for held-out prefixes (a test problem and its first k correct steps), the model samples w
// candidate next steps (T 0.5, top_p 0.95, as the search does), judges them pairwise, and picks by wins.
// The world's verifier then says which candidates were right — measuring only, never feeding back.
// Reported: the share of prefixes whose candidates are mixed (some right, some wrong: only there can a
// judge help), and on those, how often the judge's pick is right against a random pick (the share of
// right candidates) and a majority vote (the most frequent candidate), plus position bias, order flips
// (all pairs, and the pairs of one right and one wrong step), parse failures and length bias.
import type { Engine } from '../engine/types.js';
import { renderStepPrompt, type PromptTemplate } from '../data/templates.js';
import { solutionBodies } from '../data/ift.js';
import { checkStep, renderSteps, STEP_TOKENS, type Problem } from '../world/index.js';
import { deriveSeed, Rng } from '../engine/rng.js';
import { bestAndWorst, canonicalStep, planJudgments, tally } from './tournament.js';

export interface HealthOptions {
  candidates: number;
  temperature: number;
  top_p: number;
  bothOrders: boolean;
  seed: number;
  maxStepTokens: number;
  maxJudgeTokens: number;
}

export const DEFAULT_HEALTH: HealthOptions = {
  candidates: 6,
  temperature: 0.5,
  top_p: 0.95,
  bothOrders: true,
  seed: 0,
  maxStepTokens: STEP_TOKENS,
  maxJudgeTokens: 208,
};

export interface HealthReport {
  prefixes: number;
  /** Share of prefixes with at least one right and one wrong candidate. */
  mixed_share: number;
  /** On mixed prefixes: probability that each picking rule picks a right step. */
  judge_pick: number;
  random_pick: number;
  majority_pick: number;
  judge_beats_random: boolean;
  judge_beats_majority: boolean;
  /** Share of right candidates overall (the policy's own next-step accuracy at T 0.5). */
  candidate_accuracy: number;
  first_position_rate: number;
  order_flip_rate: number;
  /** Order flips among the pairs the verifier tells apart (one step right, the other wrong): there a flip
   *  is a judging error. A flip between two right steps written differently costs nothing, so the overall
   *  rate above overstates order dependence whenever most candidates are right. */
  decisive_order_flip_rate: number;
  decisive_order_pairs: number;
  parse_failure_rate: number;
  /** Prefixes whose distinct candidates all tied (the search would roll back). */
  tie_rate: number;
  /** Mean characters of the judge's pick minus the mean of all candidates (length bias). */
  length_bias: number;
  judge_prompts: number;
  merged_duplicates: number;
}

/** A prefix of k correct steps of a problem (k drawn from the problem's own steps). */
export function heldOutPrefixes(
  problems: readonly Problem[],
  seed: number,
): Array<{ problem: Problem; prefix: string[] }> {
  return problems.map((p, i) => {
    const bodies = solutionBodies(p);
    const k = new Rng(deriveSeed(seed, 'prefix', i)).int(bodies.length);
    return { problem: p, prefix: bodies.slice(0, k) };
  });
}

export async function judgeHealth(
  engine: Engine,
  t: PromptTemplate,
  items: Array<{ problem: Problem; prefix: string[] }>,
  o: HealthOptions = DEFAULT_HEALTH,
): Promise<HealthReport> {
  const prompts = items.map((it) => renderStepPrompt(t, it.problem.text) + renderSteps(it.prefix));
  const samples = await engine.generate(prompts, {
    n: o.candidates,
    temperature: o.temperature,
    top_p: o.top_p,
    max_tokens: o.maxStepTokens,
    stop: ['\n'],
    include_stop: true,
    seeds: items.map((_, i) => deriveSeed(o.seed, 'health', i)),
  });
  const cands = samples.map((s) => s.map((c) => c.text));
  const plans = items.map((it, i) => planJudgments(t, it.problem.text, it.prefix, cands[i]!, o.bothOrders));
  const allPrompts = plans.flatMap((p) => p.pairs.map((x) => x.prompt));
  const outs = allPrompts.length
    ? await engine.generate(allPrompts, { n: 1, temperature: 0, max_tokens: o.maxJudgeTokens, seed: o.seed })
    : [];
  let off = 0;
  let mixed = 0,
    jSum = 0,
    rSum = 0,
    mSum = 0,
    candRight = 0,
    candN = 0,
    first = 0,
    verdictsN = 0,
    flips = 0,
    orderPairs = 0;
  let fails = 0,
    ties = 0,
    lenBias = 0,
    merged = 0,
    dFlips = 0,
    dPairs = 0;
  items.forEach((it, i) => {
    const plan = plans[i]!;
    const texts = outs.slice(off, off + plan.pairs.length).map((x) => x[0]!.text);
    off += plan.pairs.length;
    const tl = tally(plan, texts);
    merged += plan.rep.length - plan.unique.length;
    first += tl.firstPosition;
    verdictsN += plan.pairs.length;
    fails += tl.parseFailures;
    flips += tl.orderFlips;
    orderPairs += tl.orderPairs;
    const ok = cands[i]!.map((c) => checkStep(it.problem, it.prefix, c).ok);
    for (const o of tl.orderResults) {
      if (ok[o.a] === ok[o.b]) continue;
      dPairs++;
      if (o.flipped) dFlips++;
    }
    candRight += ok.filter(Boolean).length;
    candN += ok.length;
    const nRight = ok.filter(Boolean).length;
    if (nRight === 0 || nRight === ok.length) return;
    mixed++;
    const bw = bestAndWorst(tl.wins, plan.rep);
    if (bw.tied) ties++;
    // expected correctness when ties are broken at random among the top candidates (weighted by copies)
    const top = new Set(bw.best);
    const topCands = plan.rep.map((r, k) => (top.has(r) ? k : -1)).filter((k) => k >= 0);
    jSum += topCands.filter((k) => ok[k]).length / topCands.length;
    rSum += nRight / ok.length;
    // majority vote: the most frequent distinct step (ties at random among the most frequent)
    const counts = new Map<number, number>();
    plan.rep.forEach((r) => counts.set(r, (counts.get(r) ?? 0) + 1));
    const maxC = Math.max(...counts.values());
    const modes = [...counts.entries()].filter(([, c]) => c === maxC).map(([r]) => r);
    mSum += modes.filter((r) => ok[r]).length / modes.length;
    const meanLen = cands[i]!.reduce((a, c) => a + canonicalStep(c).length, 0) / ok.length;
    lenBias += topCands.reduce((a, k) => a + canonicalStep(cands[i]![k]!).length, 0) / topCands.length - meanLen;
  });
  const m = Math.max(1, mixed);
  const r = {
    prefixes: items.length,
    mixed_share: mixed / Math.max(1, items.length),
    judge_pick: jSum / m,
    random_pick: rSum / m,
    majority_pick: mSum / m,
    candidate_accuracy: candRight / Math.max(1, candN),
    first_position_rate: verdictsN ? first / verdictsN : 0,
    order_flip_rate: orderPairs ? flips / orderPairs : 0,
    decisive_order_flip_rate: dPairs ? dFlips / dPairs : 0,
    decisive_order_pairs: dPairs,
    parse_failure_rate: verdictsN ? fails / verdictsN : 0,
    tie_rate: ties / m,
    length_bias: lenBias / m,
    judge_prompts: allPrompts.length,
    merged_duplicates: merged,
  };
  return {
    ...r,
    judge_beats_random: r.judge_pick > r.random_pick,
    judge_beats_majority: r.judge_pick > r.majority_pick,
  };
}
