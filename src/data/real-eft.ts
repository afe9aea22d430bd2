// EFT for real datasets by verified step search (paper §3.2): a policy proposes candidate next steps layer
// by layer (a sampling tree: w samples per layer, the search continues from the best), a verifier scores
// each candidate, the best and the worst of a layer form a pair when their scores differ, and an
// annotator (a strong model with the paper's judge template, Fig. 5) writes an explanation and a verdict
// for the pair in both orders. A pair is kept only when the annotator agrees with the verifier in both
// orders (the paper's GPT-o1 filter), so labels are balanced by construction (one example per order).
//
// Verifiers:
//   rollouts  Math-Shepherd-style: k completions from the step (policy engine, sampled); the score is
//             the share whose boxed answer the grader finds equal to the gold
//   prm       a process reward model served behind the Engine interface: one generated token after the
//             step with top log-probs; the score is P("+") / (P("+") + P("-")) read from them
// Everything runs through the Engine interface (embedded, psrlm serve, vLLM, hosted APIs); remote calls
// go through their call cache (the CLI adds one). Each finished problem is appended to a records file and
// skipped on restart, and its draws are seeded by (seed, problem, layer), so a run resumes where it stopped.
import { deriveSeed } from '../engine/rng.js';
import type { Engine } from '../engine/types.js';
import { gradeSync } from '../eval/grade.js';
import { lastBoxed } from '../eval/extract.js';
import { parseVerdict, renderJudgePrompt, renderStepPrompt, type PromptTemplate } from './templates.js';
import { cutStep, isFinal, joinSteps, stepBody, stepRuleOf, stepStops } from './steps.js';
import { appendJsonl, readResumableJsonl } from '../util/resumable-jsonl.js';

export interface RealProblem {
  id: string;
  question: string;
  gold: string;
}

export interface RealEftOptions {
  width: number;
  temperature: number;
  top_p: number;
  max_step_tokens: number;
  max_layers: number;
  verifier: 'rollouts' | 'prm';
  /** Rollouts per candidate (Math-Shepherd N). */
  rollouts: number;
  rollout_max_tokens: number;
  annotator_max_tokens: number;
  seed: number;
}

export const DEFAULT_REAL_EFT: RealEftOptions = {
  width: 6,
  temperature: 0.7,
  top_p: 0.95,
  max_step_tokens: 256,
  max_layers: 12,
  verifier: 'rollouts',
  rollouts: 4,
  rollout_max_tokens: 1024,
  annotator_max_tokens: 1024,
  seed: 0,
};

export interface RealEftPair {
  id: string;
  problem_id: string;
  question: string;
  prefix: string[];
  best: string;
  worst: string;
  best_score: number;
  worst_score: number;
  /** The annotator's outputs: best shown first (AB) and second (BA). */
  annotation_ab: string;
  annotation_ba: string;
  kept: boolean;
  /** Why a pair was dropped: the annotator disagreed with the verifier in one order or both. */
  dropped?: 'disagrees_ab' | 'disagrees_ba' | 'disagrees_both';
}

export interface ProblemRecord {
  problem_id: string;
  layers: number;
  ties: number;
  pairs: RealEftPair[];
  calls: number;
}

/** The k-rollout estimate of a step's value: the share of completions whose answer equals the gold. */
export function rolloutScore(completions: readonly string[], gold: string): number {
  if (completions.length === 0) return 0;
  return (
    completions.filter((c) => {
      const b = lastBoxed(c);
      return b !== undefined && gradeSync({ gold, pred: b });
    }).length / completions.length
  );
}

/** P("+") normalised against P("-") from one position's top log-probs (token text, log-prob). */
export function prmScore(top: ReadonlyArray<[string, number]>): number {
  const p = (t: string) => top.filter(([s]) => s.trim() === t).reduce((a, [, lp]) => a + Math.exp(lp), 0);
  const plus = p('+'),
    minus = p('-');
  return plus + minus > 0 ? plus / (plus + minus) : 0;
}

/** Counts the calls an engine receives (one per prompt and completion asked for). */
class Counted {
  calls = 0;
  constructor(readonly e: Engine) {}
  async gen(prompts: string[], o: Parameters<Engine['generate']>[1]) {
    this.calls += prompts.length * (o.n ?? 1);
    return prompts.length ? this.e.generate(prompts, o) : [];
  }
}

/** Searches one problem's step tree and annotates its pairs. */
export async function searchProblem(
  p: RealProblem,
  t: PromptTemplate,
  policy: Engine,
  verifier: Engine,
  annotator: Engine,
  o: RealEftOptions,
): Promise<ProblemRecord> {
  const pol = new Counted(policy),
    ver = new Counted(verifier),
    ann = new Counted(annotator);
  const prefix: string[] = [];
  const pairs: RealEftPair[] = [];
  let ties = 0,
    layer = 0;
  const rule = stepRuleOf(t);
  for (; layer < o.max_layers; layer++) {
    // the model writes the step's own `Step n:` label, as in the run's search (src/search/search.ts): a prompt
    // that ended in the label's space would split the space from the next word, a token boundary the model
    // rarely saw in training
    const n = prefix.length + 1;
    const prompt = renderStepPrompt(t, p.question) + joinSteps(prefix);
    const outs = (
      await pol.gen([prompt], {
        n: o.width,
        temperature: o.temperature,
        top_p: o.top_p,
        max_tokens: o.max_step_tokens,
        ...stepStops(rule, n),
        seed: deriveSeed(o.seed, 'real-eft', p.id, layer),
      })
    )[0]!.map((c) => cutStep(rule, c, n));
    const cands = [...new Set(outs.map((c) => c.text.trim()).filter((c) => stepBody(c) !== ''))];
    if (cands.length === 0) break;
    let scores: number[];
    if (o.verifier === 'rollouts') {
      const r = await ver.gen(
        cands.map((c) => prompt + c + '\n'),
        {
          n: o.rollouts,
          temperature: o.temperature,
          top_p: o.top_p,
          max_tokens: o.rollout_max_tokens,
          seeds: cands.map((_, i) => deriveSeed(o.seed, 'rollout', p.id, layer, i)),
        },
      );
      scores = r.map((cs) =>
        rolloutScore(
          cs.map((c) => c.text),
          p.gold,
        ),
      );
    } else {
      const r = await ver.gen(
        cands.map((c) => prompt + c + '\n'),
        { n: 1, temperature: 0, max_tokens: 1, top_logprobs: 20, seed: 0 },
      );
      scores = r.map((cs) => {
        const top = cs[0]!.top_logprobs?.[0] ?? [];
        return prmScore(top.map(([id, lp]) => [verifier.detokenize([id]), lp] as [string, number]));
      });
    }
    let bi = 0,
      wi = 0;
    scores.forEach((s, i) => {
      if (s > scores[bi]!) bi = i;
      if (s < scores[wi]!) wi = i;
    });
    if (scores[bi]! > scores[wi]!) {
      const best = cands[bi]!,
        worst = cands[wi]!;
      const judge = (a: string, b: string) =>
        renderJudgePrompt(t, { problem: p.question, steps: prefix, stepA: a, stepB: b });
      const [ab, ba] = await ann.gen([judge(best, worst), judge(worst, best)], {
        n: 1,
        temperature: 0,
        max_tokens: o.annotator_max_tokens,
        seed: 0,
      });
      const okAB = parseVerdict(ab![0]!.text) === 'A',
        okBA = parseVerdict(ba![0]!.text) === 'B';
      pairs.push({
        id: `${p.id}:${layer + 1}`,
        problem_id: p.id,
        question: p.question,
        prefix: prefix.slice(),
        best,
        worst,
        best_score: scores[bi]!,
        worst_score: scores[wi]!,
        annotation_ab: ab![0]!.text,
        annotation_ba: ba![0]!.text,
        kept: okAB && okBA,
        dropped: okAB && okBA ? undefined : !okAB && !okBA ? 'disagrees_both' : !okAB ? 'disagrees_ab' : 'disagrees_ba',
      });
    } else {
      ties++;
    }
    prefix.push(stepBody(cands[bi]!));
    if (isFinal(rule, cands[bi]!)) {
      layer++;
      break;
    }
  }
  return { problem_id: p.id, layers: layer, ties, pairs, calls: pol.calls + ver.calls + ann.calls };
}

/** The two training examples (one per order) of a kept pair, in the engine's SFT shape. */
export function pairExamples(
  t: PromptTemplate,
  pr: RealEftPair,
): Array<{ id: string; prompt: string; completion: string; eos: true; label: 'A' | 'B'; order: 'AB' | 'BA' }> {
  const judge = (a: string, b: string) =>
    renderJudgePrompt(t, { problem: pr.question, steps: pr.prefix, stepA: a, stepB: b });
  return [
    {
      id: `${pr.id}-AB`,
      prompt: judge(pr.best, pr.worst),
      completion: pr.annotation_ab,
      eos: true,
      label: 'A',
      order: 'AB',
    },
    {
      id: `${pr.id}-BA`,
      prompt: judge(pr.worst, pr.best),
      completion: pr.annotation_ba,
      eos: true,
      label: 'B',
      order: 'BA',
    },
  ];
}

/**
 * Runs (or resumes) the search over `problems`, appending one record per problem to `recordsFile` as it
 * finishes. `concurrency` problems are searched side by side, so a served engine batches their calls (one
 * problem alone sends at most w x k sequences at a time); records come back in `problems` order whatever
 * order they finished in, and each problem's draws depend on its own coordinates only.
 */
export async function buildRealEft(
  problems: readonly RealProblem[],
  t: PromptTemplate,
  engines: { policy: Engine; verifier: Engine; annotator: Engine },
  o: RealEftOptions,
  recordsFile: string,
  log?: (s: string) => void,
  concurrency = 1,
): Promise<ProblemRecord[]> {
  const have = readResumableJsonl<ProblemRecord>(recordsFile);
  const byId = new Map(have.map((r) => [r.problem_id, r]));
  const todo = problems.filter((p) => !byId.has(p.id));
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const p = todo[next++]!;
      const r = await searchProblem(p, t, engines.policy, engines.verifier, engines.annotator, o);
      appendJsonl(recordsFile, [r]);
      byId.set(p.id, r);
      const kept = [...byId.values()].reduce((a, x) => a + x.pairs.filter((y) => y.kept).length, 0);
      log?.(`eft: ${byId.size} / ${problems.length} problems, ${kept} pairs kept`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, todo.length)) }, worker));
  const inInput = problems.flatMap((p) => (byId.has(p.id) ? [byId.get(p.id)!] : []));
  const known = new Set(problems.map((p) => p.id));
  return [...inInput, ...have.filter((r) => !known.has(r.problem_id))];
}

/** Counts for the manifest: what each filter removed, and engine calls per kept pair. */
export function eftCounts(records: readonly ProblemRecord[]) {
  const pairs = records.flatMap((r) => r.pairs);
  const kept = pairs.filter((x) => x.kept).length;
  const calls = records.reduce((a, r) => a + r.calls, 0);
  return {
    problems: records.length,
    layers: records.reduce((a, r) => a + r.layers, 0),
    tied_layers: records.reduce((a, r) => a + r.ties, 0),
    pairs_found: pairs.length,
    kept,
    dropped: {
      disagrees_ab: pairs.filter((x) => x.dropped === 'disagrees_ab').length,
      disagrees_ba: pairs.filter((x) => x.dropped === 'disagrees_ba').length,
      disagrees_both: pairs.filter((x) => x.dropped === 'disagrees_both').length,
    },
    engine_calls: calls,
    calls_per_kept_pair: kept ? calls / kept : null,
  };
}
