// Step-wise search with the model as its own judge (paper §3.3, eqs. 1–5; docs/method.md §3), batched
// over many problems at once.
//
// Per problem and step l: sample w candidate next steps from `step prompt + accepted steps` (T 0.5,
// top_p 0.95, stopping where the template's step rule ends a step, src/data/steps.ts: at "\n", kept in the
// text, for the world's one-line steps; at `\nStep l+1:` or the boxed answer's end for the paper's
// multi-line steps, the rule cutting each sampled text); the same model judges them pairwise
// (greedy, both orders by default); a candidate's score is its number of wins (eq. 2); the best is
// appended and (best, worst) becomes a preference pair on that prefix. If all distinct candidates tie
// (max score = min score), the paper discards s_{l-1} and its pair and rolls back one step; a problem
// gives up after `max_rollbacks` rollbacks. The search ends at a boxed (final) step, at an end-of-sequence,
// or after `max_steps` steps (the paper's "max iteration number is set to 20").
//
// All candidates of a round (every active problem) are sampled in one engine call (one per step number
// when the stop string names the next step), and all judge prompts of the round in ONE further call:
// judge prompts of a problem share its problem text and earlier steps,
// which the engine's prefix cache computes once. Every random draw derives from coordinates (seed,
// iteration, problem, step, attempt), and the engine's results do not depend on batching, so a problem's
// search is the same whichever other problems share its rounds — which is what makes a resumed run equal
// to an uninterrupted one (src/run/loop.ts).
//
// No ground truth and no verifier here: the optional `measure` hook lets the caller record whether a
// chosen step was right (the world's verifier), stored apart under `measure` and never read back.
import type { Completion, Engine } from '../engine/types.js';
import { deriveSeed, Rng } from '../engine/rng.js';
import { renderStepPrompt, type PromptTemplate } from '../data/templates.js';
import { cutStep, isFinal, joinSteps, stepBody, stepRuleOf, stepStops, type StepRule } from '../data/steps.js';
import { bestAndWorst, planJudgments, tally, type JudgePlan } from '../judge/tournament.js';
import type { Problem } from '../world/index.js';
import { STEP_TOKENS } from '../world/format.js';

export interface SearchOptions {
  /** Candidates per step, w (paper: 6). */
  candidates: number;
  temperature: number;
  top_p: number;
  /** Token bound of one sampled step. */
  max_step_tokens: number;
  /** Token bound of one judgment (greedy). */
  judge_max_tokens: number;
  /** Judge every unordered pair in both orders (eq. 2 over ordered pairs, 30 calls for w = 6) or once (15). */
  both_orders: boolean;
  /** Steps per solution (paper: 20). */
  max_steps: number;
  /** Rollbacks per problem before the search gives the problem up. */
  max_rollbacks: number;
  /**
   * All w candidates the same step (after merging): there is nothing to compare and no pair to make.
   * 'accept' (default) appends the step without a pair: the model agreeing with itself is not the judge's
   * indecision that the paper's tie rule targets, and rolling back would throw away the most confident
   * steps. 'rollback' treats it as a tie.
   */
  identical: 'accept' | 'rollback';
  /** Problems searched side by side (a window: a finished problem's slot goes to the next). */
  batch_problems: number;
  /** The model's context in tokens: a problem whose step or judge prompts no longer fit ends ('context'). */
  context_tokens?: number;
}

export const DEFAULT_SEARCH: SearchOptions = {
  candidates: 6,
  temperature: 0.5,
  top_p: 0.95,
  max_step_tokens: STEP_TOKENS,
  judge_max_tokens: 208,
  both_orders: true,
  max_steps: 20,
  max_rollbacks: 3,
  identical: 'accept',
  batch_problems: 64,
};

/** A question to search: the world's Problem, or any `{ text }` (a question read from a file). */
export interface SearchItem<P extends { text: string } = Problem> {
  /** The problem's coordinate (its index in the train split): seeds derive from it. */
  index: number;
  problem: P;
}

/** One preference pair found by the search (paper Fig. 1, PPD: {x, s_1..s_{l-1}, s_l^b, s_l^w}). */
export interface SearchPair {
  /** Step prompt + earlier steps, exactly the text the candidates continued. */
  prompt: string;
  /** The single next step as sampled (`Step l: …\n`). */
  chosen: string;
  rejected: string;
  /** The side ends the solution (boxed or end-of-sequence): only then does DPO append EOS. */
  chosen_final: boolean;
  rejected_final: boolean;
  /** Earlier steps (bodies) and the step number l. */
  prefix: string[];
  step: number;
  chosen_wins: number;
  rejected_wins: number;
}

export type RoundAction = 'accept' | 'accept_identical' | 'rollback' | 'give_up' | 'context';

export interface RoundRecord {
  step: number;
  attempt: number;
  candidates: string[];
  finish: Completion['finish_reason'][];
  /** Representative of each candidate after merging identical steps. */
  rep: number[];
  /** Judgments: candidate a shown as A, b as B, and the verdict (null: unparsable). */
  judgments: Array<[number, number, 'A' | 'B' | null]>;
  wins: number[];
  best: number | null;
  worst: number | null;
  tied: boolean;
  action: RoundAction;
  /** Measurement only (the caller's verifier), never read by the search. */
  measure?: { candidates_ok: boolean[]; chosen_ok: boolean | null };
}

/** `unreadable`: the engine's tokenizer cannot encode the question (a character the model lacks). */
export type Outcome = 'final' | 'eos' | 'max_steps' | 'gave_up' | 'context' | 'unreadable';

export interface SearchRecord {
  index: number;
  problem: string;
  outcome: Outcome;
  /** Accepted step bodies, in order. */
  steps: string[];
  /** Pairs of the accepted steps (a rolled-back step's pair is discarded with it). */
  pairs: SearchPair[];
  rollbacks: number;
  rounds: RoundRecord[];
  /** Judge prompts issued, and those saved by merging identical candidates. */
  judge_prompts: number;
  judge_prompts_saved: number;
}

export interface SearchHooks<P extends { text: string } = Problem> {
  /** Measurement only: is `step` a right next step after `prefix` (bodies)? */
  measure?: (problem: P, prefix: readonly string[], step: string) => boolean;
  /** Called once per finished problem, in finishing order (awaited: the run appends it to disk). */
  onRecord?: (rec: SearchRecord) => void | Promise<void>;
  /** After every round. */
  onRound?: (info: { round: number; active: number; finished: number; total: number }) => void;
}

export interface SearchCoords {
  seed: number;
  iteration: number;
}

interface State<P extends { text: string } = { text: string }> {
  item: SearchItem<P>;
  steps: string[];
  pairs: Array<SearchPair | null>;
  attempt: number;
  rollbacks: number;
  rounds: RoundRecord[];
  judgePrompts: number;
  saved: number;
  outcome: Outcome | null;
}

/** A sampled step ends the solution: it holds \boxed{…} (as the step rule reads it), or the model ended
 *  the sequence. */
export function endsSolution(c: Pick<Completion, 'text' | 'finish_reason'>, rule: StepRule = 'line'): boolean {
  return isFinal(rule, c.text) || c.finish_reason === 'eos';
}

/** The text a step's candidates continue: the step prompt and the accepted steps, renumbered. */
export function searchPrompt(t: PromptTemplate, problem: string, steps: readonly string[]): string {
  return renderStepPrompt(t, problem) + joinSteps(steps);
}

/** Searches every item; returns one record per item in item order (hooks see finishing order). */
export async function runSearch<P extends { text: string } = Problem>(
  engine: Engine,
  t: PromptTemplate,
  items: readonly SearchItem<P>[],
  o: SearchOptions,
  coords: SearchCoords,
  hooks: SearchHooks<P> = {},
): Promise<SearchRecord[]> {
  if (!(o.candidates >= 2)) throw new Error(`search: candidates must be at least 2 (got ${o.candidates})`);
  const pending = items.map((item): State<P> => ({
    item,
    steps: [],
    pairs: [],
    attempt: 0,
    rollbacks: 0,
    rounds: [],
    judgePrompts: 0,
    saved: 0,
    outcome: null,
  }));
  const rule = stepRuleOf(t);
  const all = pending.slice();
  let active: State<P>[] = [];
  let next = 0,
    finished = 0,
    round = 0;
  const fits = (text: string, extra: number) =>
    o.context_tokens === undefined || engine.tokenize(text).length + extra <= o.context_tokens;
  const finish = async (s: State<P>, outcome: Outcome) => {
    s.outcome = outcome;
    finished++;
    await hooks.onRecord?.(toRecord(s));
  };

  while (next < pending.length || active.length) {
    while (active.length < Math.max(1, o.batch_problems) && next < pending.length) {
      const s = pending[next++]!;
      // a question the engine cannot encode (a real question with a character the model lacks) ends at once
      if (engine.unreadable?.(searchPrompt(t, s.item.problem.text, [])) != null) await finish(s, 'unreadable');
      else active.push(s);
    }
    // 1. sample w candidates for every active problem (one call)
    const sampling: State<P>[] = [],
      samplePrompts: string[] = [];
    for (const s of active) {
      const p = searchPrompt(t, s.item.problem.text, s.steps);
      // a prompt with no room for one step ends the problem (the model cannot continue it)
      if (fits(p, 1)) {
        sampling.push(s);
        samplePrompts.push(p);
      } else await finish(s, 'context');
    }
    const samples = await sampleSteps(engine, rule, o, coords, sampling, samplePrompts);
    // 2. plan the judgments of every problem; all judge prompts go into one call
    const plans: Array<JudgePlan | null> = [];
    sampling.forEach((s, i) => {
      const texts = samples[i]!.map((c) => c.text);
      const plan = planJudgments(t, s.item.problem.text, s.steps, texts, o.both_orders);
      if (plan.unique.length > 1 && !plan.pairs.every((p) => fits(p.prompt, 1))) {
        plans.push(null);
        return;
      }
      plans.push(plan);
    });
    const judgePrompts = plans.flatMap((p) => (p && p.unique.length > 1 ? p.pairs.map((x) => x.prompt) : []));
    const outs = judgePrompts.length
      ? await engine.generate(judgePrompts, { n: 1, temperature: 0, max_tokens: o.judge_max_tokens, seed: 0 })
      : [];
    // 3. decide per problem
    let off = 0;
    for (let i = 0; i < sampling.length; i++) {
      const s = sampling[i]!,
        plan = plans[i],
        cands = samples[i]!;
      const step = s.steps.length + 1;
      const rec: RoundRecord = {
        step,
        attempt: s.attempt,
        candidates: cands.map((c) => c.text),
        finish: cands.map((c) => c.finish_reason),
        rep: plan?.rep ?? cands.map((_, k) => k),
        judgments: [],
        wins: cands.map(() => 0),
        best: null,
        worst: null,
        tied: false,
        action: 'context',
      };
      s.rounds.push(rec);
      s.attempt++;
      if (!plan) {
        await finish(s, 'context');
        continue;
      }
      // judge prompts without merging identical candidates: every (ordered or unordered) pair of the w
      const full = (o.both_orders ? 1 : 0.5) * o.candidates * (o.candidates - 1);
      let chosen: number | null = null;
      if (plan.unique.length === 1) {
        rec.tied = true;
        s.saved += full;
        if (o.identical === 'accept') {
          chosen = 0;
          rec.best = 0;
          rec.action = 'accept_identical';
        }
      } else {
        const texts = outs.slice(off, off + plan.pairs.length).map((x) => x[0]!.text);
        off += plan.pairs.length;
        s.judgePrompts += plan.pairs.length;
        s.saved += full - plan.pairs.length;
        const tl = tally(plan, texts);
        rec.judgments = plan.pairs.map((p, k) => [p.a, p.b, tl.verdicts[k] ?? null]);
        rec.wins = tl.wins;
        const bw = bestAndWorst(tl.wins, plan.rep);
        rec.tied = bw.tied;
        if (!bw.tied) {
          // Open choice 2 (docs/method.md §3): equal maxima/minima are broken by a seeded draw (candidates are
          // i.i.d. samples, so this is the same as the lowest index after a seeded shuffle)
          const rng = new Rng(deriveSeed(coords.seed, 'tiebreak', coords.iteration, s.item.index, step, rec.attempt));
          const best = bw.best[rng.int(bw.best.length)]!,
            worst = bw.worst[rng.int(bw.worst.length)]!;
          rec.best = best;
          rec.worst = worst;
          rec.action = 'accept';
          chosen = best;
          s.pairs.push({
            prompt: samplePrompts[i]!,
            chosen: cands[best]!.text,
            rejected: cands[worst]!.text,
            chosen_final: endsSolution(cands[best]!, rule),
            rejected_final: endsSolution(cands[worst]!, rule),
            prefix: s.steps.slice(),
            step,
            chosen_wins: tl.wins[best]!,
            rejected_wins: tl.wins[worst]!,
          });
        }
      }
      if (hooks.measure) {
        const ok = cands.map((c) => hooks.measure!(s.item.problem, s.steps, c.text));
        rec.measure = { candidates_ok: ok, chosen_ok: chosen === null ? null : ok[chosen]! };
      }
      if (chosen !== null) {
        if (rec.action === 'accept_identical') s.pairs.push(null);
        s.steps.push(stepBody(cands[chosen]!.text));
        if (isFinal(rule, cands[chosen]!.text)) await finish(s, 'final');
        else if (cands[chosen]!.finish_reason === 'eos') await finish(s, 'eos');
        else if (s.steps.length >= o.max_steps) await finish(s, 'max_steps');
        continue;
      }
      // all distinct candidates tied: discard s_{l-1} and its pair, resample step l-1 (at l = 1: step 1)
      s.rollbacks++;
      if (s.rollbacks > o.max_rollbacks) {
        rec.action = 'give_up';
        await finish(s, 'gave_up');
        continue;
      }
      rec.action = 'rollback';
      if (s.steps.length) {
        s.steps.pop();
        s.pairs.pop();
      }
    }
    active = active.filter((s) => s.outcome === null);
    round++;
    hooks.onRound?.({ round, active: active.length, finished, total: pending.length });
  }
  return all.map(toRecord);
}

/**
 * w candidates per sampling problem, each cut to its step by the rule. Prompts whose stops are the same
 * (every prompt under the line rule, prompts at the same step under the marked rule) share one engine
 * call, in prompt order; the calls run side by side. Seeds derive from coordinates, so the grouping
 * changes no result.
 */
async function sampleSteps(
  engine: Engine,
  rule: StepRule,
  o: SearchOptions,
  coords: SearchCoords,
  sampling: readonly State[],
  prompts: readonly string[],
): Promise<Completion[][]> {
  const out: Completion[][] = [];
  const groups = new Map<string, { stops: ReturnType<typeof stepStops>; idx: number[] }>();
  sampling.forEach((s, i) => {
    const stops = stepStops(rule, s.steps.length + 1),
      key = JSON.stringify(stops);
    if (!groups.has(key)) groups.set(key, { stops, idx: [] });
    groups.get(key)!.idx.push(i);
  });
  await Promise.all(
    [...groups.values()].map(async ({ stops, idx }) => {
      const got = await engine.generate(
        idx.map((i) => prompts[i]!),
        {
          n: o.candidates,
          temperature: o.temperature,
          top_p: o.top_p,
          max_tokens: o.max_step_tokens,
          ...stops,
          seeds: idx.map((i) => {
            const s = sampling[i]!;
            return deriveSeed(coords.seed, 'search', coords.iteration, s.item.index, s.steps.length + 1, s.attempt);
          }),
        },
      );
      idx.forEach((i, k) => {
        out[i] = got[k]!.map((c) => cutStep(rule, c, sampling[i]!.steps.length + 1));
      });
    }),
  );
  return out;
}

function toRecord(s: State): SearchRecord {
  return {
    index: s.item.index,
    problem: s.item.problem.text,
    outcome: s.outcome ?? 'gave_up',
    steps: s.steps.slice(),
    pairs: s.pairs.filter((p): p is SearchPair => p !== null),
    rollbacks: s.rollbacks,
    rounds: s.rounds,
    judge_prompts: s.judgePrompts,
    judge_prompts_saved: s.saved,
  };
}
