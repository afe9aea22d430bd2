// Test-time scaling on the synthetic world (paper §4.3, Table 5: the PSRLM model's step-wise search with
// its own judge used as an inference method: 6 candidates per step at temperature 0.5, the best kept;
// docs/method.md §3, read as the training search's win-count rule). For the
// same questions and the same sampling settings, three ways to answer:
//   greedy     one greedy solution (the call solveReport in src/measure/world.ts makes, so its accuracy is
//              the loop's greedy accuracy)
//   majority   k whole solutions sampled at the search's T and top_p, the most frequent boxed answer wins;
//              equally frequent answers are decided by a draw seeded from the question's coordinates (not
//              "first seen", which would favour low sample indices); k = w by default
//   best-of-w  the step-wise search of training (src/search/search.ts: w candidates per step, pairwise
//              self-judging in both orders, wins, rollback on ties, stop at a boxed step or 20 steps) run
//              to the end; its answer is the path it chose, nothing else
// Each is scored with the world's checker (measurement only: no method ever sees it) and charged the
// engine tokens it used and its wall time. Tokens are counted at the Engine interface so that any engine
// (embedded or remote) is measured the same way: prompt tokens = engine.tokenize of each prompt asked
// for, once per prompt and call (n completions of one prompt read it once, as every engine with a KV
// cache does; prefix sharing between different prompts, e.g. the judge prompts of one prefix, is not
// subtracted); generated tokens = the token ids of each returned completion. Seeds derive from
// (seed, method, split, question), so a report is reproducible and one question's draws do not depend
// on which other questions are in the run.
import { deriveSeed, Rng } from '../engine/rng.js';
import type { Completion, Engine, GenerateOptions, ScoreRequest } from '../engine/types.js';
import { renderStepPrompt, type PromptTemplate } from '../data/templates.js';
import { DEFAULT_SEARCH, runSearch, type Outcome, type SearchOptions } from '../search/search.js';
import { checkAnswer, extractBoxed, renderSteps, SOLUTION_TOKENS, type Problem } from '../world/index.js';

export interface TtsOptions {
  /** Candidates per step for best-of-w, and samples for the majority vote unless `k` is given. */
  width: number;
  k?: number;
  temperature: number;
  top_p: number;
  seed: number;
  /** Token bound of one whole solution (greedy and majority; as in solveReport). */
  max_tokens: number;
  /** The search's other settings (step and judge tokens, both orders, rollbacks, …); default: the loop's. */
  search?: Partial<SearchOptions>;
  /** The engine's context (the search ends a question whose prompts no longer fit). */
  context_tokens?: number;
  /** Progress: called with done = 0 when a method starts and as it finishes questions (the search: one by
   *  one). Not part of the report. */
  onProgress?: (method: TtsMethod, done: number, total: number) => void;
}

export type TtsMethod = 'greedy' | 'majority' | 'best_of_w';

export const DEFAULT_TTS: Omit<TtsOptions, 'onProgress'> = {
  width: 6,
  temperature: 0.5,
  top_p: 0.95,
  seed: 0,
  max_tokens: SOLUTION_TOKENS,
};

export interface MethodReport {
  accuracy: number;
  correct: number;
  prompt_tokens: number;
  generated_tokens: number;
  /** Engine generate calls the method made. */
  calls: number;
  wall_s: number;
}

/** One question: each method's answer (null: none boxed) and whether the checker accepted it. */
export interface TtsQuestion {
  index: number;
  expected: number;
  greedy: string | null;
  majority: string | null;
  /** Votes of the majority answer out of k, and whether a seeded draw decided between equals. */
  majority_votes: number;
  majority_tie: boolean;
  best_of_w: string | null;
  best_of_w_steps: number;
  best_of_w_outcome: Outcome;
  ok: Record<TtsMethod, boolean>;
}

export interface TtsReport {
  n: number;
  split: string | null;
  width: number;
  k: number;
  temperature: number;
  top_p: number;
  seed: number;
  greedy: MethodReport;
  majority: MethodReport & { ties: number };
  best_of_w: MethodReport & {
    outcomes: Record<string, number>;
    rollbacks: number;
    judge_prompts: number;
    judge_prompts_saved: number;
  };
  questions: TtsQuestion[];
}

/** An Engine that counts what it is asked for: prompt tokens (once per prompt and call), the tokens of every
 *  returned completion, and calls. Completions without token ids (a server that returned no logprobs) are
 *  counted by tokenizing their text, so the count never silently drops to zero. */
export class CountingEngine implements Engine {
  prompt_tokens = 0;
  generated_tokens = 0;
  calls = 0;
  constructor(readonly inner: Engine) {}
  get name(): string {
    return this.inner.name;
  }
  tokenize(text: string): number[] {
    return this.inner.tokenize(text);
  }
  detokenize(ids: number[]): string {
    return this.inner.detokenize(ids);
  }
  unreadable(text: string): string | null {
    return this.inner.unreadable?.(text) ?? null;
  }
  logprob(r: ScoreRequest[]): Promise<number[]> {
    return this.inner.logprob(r);
  }
  /** The inner engine belongs to the caller. */
  close(): Promise<void> {
    return Promise.resolve();
  }
  async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    const out = await this.inner.generate(prompts, opts);
    this.calls++;
    prompts.forEach((p, i) => {
      this.prompt_tokens += this.inner.tokenize(p).length;
      for (const c of out[i]!)
        this.generated_tokens += c.tokens.length || (c.text ? this.inner.tokenize(c.text).length : 0);
    });
    return out;
  }
  reset(): void {
    this.prompt_tokens = 0;
    this.generated_tokens = 0;
    this.calls = 0;
  }
}

export interface Vote {
  /** The winning boxed answer, or null when no sample boxed one. */
  answer: string | null;
  /** The first sample (in sample order) with the winning answer: the solution the method answers with. */
  pick: number;
  votes: number;
  /** Answers that shared the highest count (in order of first appearance); more than one: a draw decided. */
  tied: string[];
}

/** Majority vote over the boxed answers of `texts` (no answer never wins); equal counts are decided by a
 *  draw from `seed` among the tied answers taken in order of first appearance. */
export function majorityVote(texts: readonly string[], seed: number): Vote {
  const counts = new Map<string, number>();
  const answers = texts.map((t) => extractBoxed(t));
  for (const a of answers) if (a !== null) counts.set(a, (counts.get(a) ?? 0) + 1);
  if (!counts.size) return { answer: null, pick: -1, votes: 0, tied: [] };
  const top = Math.max(...counts.values());
  const tied = [...counts].filter(([, c]) => c === top).map(([a]) => a);
  const answer = tied.length === 1 ? tied[0]! : tied[new Rng(seed).int(tied.length)]!;
  return { answer, pick: answers.indexOf(answer), votes: top, tied };
}

async function measure<T>(
  e: CountingEngine,
  fn: () => Promise<T>,
): Promise<{ value: T; prompt_tokens: number; generated_tokens: number; calls: number; wall_s: number }> {
  e.reset();
  const t0 = performance.now();
  const value = await fn();
  return {
    value,
    prompt_tokens: e.prompt_tokens,
    generated_tokens: e.generated_tokens,
    calls: e.calls,
    wall_s: Math.round((performance.now() - t0) / 10) / 100,
  };
}

/** Greedy vs majority vote vs step-wise best-of-w on `problems` (their split and index seed the draws). */
export async function ttsReport(
  engine: Engine,
  t: PromptTemplate,
  problems: readonly Problem[],
  opts: Partial<TtsOptions> = {},
): Promise<TtsReport> {
  const o = { ...DEFAULT_TTS, ...opts };
  const k = o.k ?? o.width;
  if (!Number.isInteger(o.width) || o.width < 2)
    throw new Error(`tts: width must be an integer >= 2 (candidates per step), got ${o.width}`);
  if (!Number.isInteger(k) || k < 1)
    throw new Error(`tts: k must be an integer >= 1 (samples per majority vote), got ${k}`);
  const e = new CountingEngine(engine);
  const prompts = problems.map((p) => renderStepPrompt(t, p.text));
  const n = problems.length;
  const progress = (m: TtsMethod, done: number) => o.onProgress?.(m, done, n);

  progress('greedy', 0);
  const g = await measure(e, () =>
    e.generate(prompts, {
      n: 1,
      temperature: 0,
      max_tokens: o.max_tokens,
      seeds: problems.map((p) => deriveSeed(o.seed, 'tts-greedy', p.split, p.index)),
    }),
  );
  progress('greedy', n);

  progress('majority', 0);
  const m = await measure(e, () =>
    e.generate(prompts, {
      n: k,
      temperature: o.temperature,
      top_p: o.top_p,
      max_tokens: o.max_tokens,
      seeds: problems.map((p) => deriveSeed(o.seed, 'tts-majority', p.split, p.index)),
    }),
  );
  const votes = m.value.map((cs, i) =>
    majorityVote(
      cs.map((c) => c.text),
      deriveSeed(o.seed, 'tts-majority-tie', problems[i]!.split, problems[i]!.index),
    ),
  );
  progress('majority', n);

  const so: SearchOptions = {
    ...DEFAULT_SEARCH,
    ...o.search,
    candidates: o.width,
    temperature: o.temperature,
    top_p: o.top_p,
    context_tokens: o.context_tokens ?? o.search?.context_tokens,
  };
  let searched = 0;
  progress('best_of_w', 0);
  // the search's seeds derive from (seed, 'search', iteration, index, step, attempt); the split goes into
  // the base seed so that test and harder questions with the same index draw differently
  const coords = { seed: deriveSeed(o.seed, 'tts-search', problems[0]?.split ?? ''), iteration: 0 };
  const b = await measure(e, () =>
    runSearch(
      e,
      t,
      problems.map((p) => ({ index: p.index, problem: p })),
      so,
      coords,
      {
        onRecord: () => progress('best_of_w', ++searched),
      },
    ),
  );

  const questions = problems.map((p, i): TtsQuestion => {
    const gText = g.value[i]![0]!.text,
      v = votes[i]!,
      r = b.value[i]!;
    const path = renderSteps(r.steps);
    const mText = v.pick >= 0 ? m.value[i]![v.pick]!.text : '';
    return {
      index: p.index,
      expected: p.answer,
      greedy: extractBoxed(gText),
      majority: v.answer,
      majority_votes: v.votes,
      majority_tie: v.tied.length > 1,
      best_of_w: extractBoxed(path),
      best_of_w_steps: r.steps.length,
      best_of_w_outcome: r.outcome,
      ok: { greedy: checkAnswer(p, gText).ok, majority: checkAnswer(p, mText).ok, best_of_w: checkAnswer(p, path).ok },
    };
  });
  const rep = (
    method: TtsMethod,
    x: { prompt_tokens: number; generated_tokens: number; calls: number; wall_s: number },
  ): MethodReport => {
    const correct = questions.filter((q) => q.ok[method]).length;
    return {
      accuracy: n ? correct / n : 0,
      correct,
      prompt_tokens: x.prompt_tokens,
      generated_tokens: x.generated_tokens,
      calls: x.calls,
      wall_s: x.wall_s,
    };
  };
  const outcomes: Record<string, number> = {};
  for (const r of b.value) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const sum = (f: (r: (typeof b.value)[number]) => number) => b.value.reduce((s, r) => s + f(r), 0);
  const splits = [...new Set(problems.map((p) => p.split))];
  return {
    n,
    split: splits.length === 1 ? splits[0]! : null,
    width: o.width,
    k,
    temperature: o.temperature,
    top_p: o.top_p,
    seed: o.seed,
    greedy: rep('greedy', g),
    majority: { ...rep('majority', m), ties: questions.filter((q) => q.majority_tie).length },
    best_of_w: {
      ...rep('best_of_w', b),
      outcomes,
      rollbacks: sum((r) => r.rollbacks),
      judge_prompts: sum((r) => r.judge_prompts),
      judge_prompts_saved: sum((r) => r.judge_prompts_saved),
    },
    questions,
  };
}

/** The report as the paper's Table 5 in miniature: accuracy and cost per method, cost also as a multiple of
 *  greedy's (ratios measured side by side in one run, which is what a shared machine can compare). */
export function ttsTable(r: TtsReport): string {
  const gTok = r.greedy.prompt_tokens + r.greedy.generated_tokens;
  const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : '-');
  const row = (name: string, m: MethodReport) => {
    const tok = m.prompt_tokens + m.generated_tokens;
    return (
      `| ${name} | ${(100 * m.accuracy).toFixed(1)}% (${m.correct}/${r.n}) | ${m.prompt_tokens} ` +
      `| ${m.generated_tokens} | ${x(tok, gTok)} | ${m.wall_s.toFixed(1)} | ${x(m.wall_s, r.greedy.wall_s)} |`
    );
  };
  const s = r.best_of_w;
  const outcomes = Object.entries(s.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    (
      `Test-time scaling on ${r.n} ${r.split ?? ''} questions (T ${r.temperature}, top_p ${r.top_p}, ` +
      `seed ${r.seed}; accuracy by the world's checker)`
    ).replace('  ', ' '),
    '',
    '| method | accuracy | prompt tokens | generated tokens | tokens vs greedy | wall s | time vs greedy |',
    '|---|---|---|---|---|---|---|',
    row('greedy', r.greedy),
    row(`majority vote (k=${r.k})`, r.majority),
    row(`step-wise best-of-${r.width} (own judge)`, s),
    '',
    `majority: ${r.majority.ties} vote(s) decided by a seeded draw; ` +
      `best-of-${r.width}: ${outcomes || 'no questions'}, ${s.rollbacks} rollback(s), ${s.judge_prompts} judge ` +
      `prompts (${s.judge_prompts_saved} saved by merging identical steps)`,
  ].join('\n');
}

/**
 * How much of a first model's search gain a later model's greedy decoding holds, on the same questions:
 * (later greedy − first greedy) / (first best-of-w − first greedy). 1: the later model answers greedily as
 * well as the first one searching with its own judge; 0: no better than the first greedy; null when the
 * search gained nothing (no gain to hold).
 */
export function distillShare(first: TtsReport, later: TtsReport): number | null {
  const same =
    first.n === later.n &&
    first.split === later.split &&
    first.questions.every(
      (q, i) => q.index === later.questions[i]?.index && q.expected === later.questions[i]?.expected,
    );
  if (!same)
    throw new Error(
      'distillation share: the two test-time-scaling reports are not of the same questions ' +
        `(${first.n} ${first.split ?? '?'} against ${later.n} ${later.split ?? '?'}); measure both on one problem list`,
    );
  const gain = first.best_of_w.accuracy - first.greedy.accuracy;
  if (gain <= 0) return null;
  return Math.round(((later.greedy.accuracy - first.greedy.accuracy) / gain) * 1e4) / 1e4;
}
