// Test-time scaling on the synthetic world (paper §4.3, Table 5: the PSRLM model's step-wise search with
// its own judge as an inference method). For the same questions and the same sampling settings, three
// ways to answer:
//   greedy     one greedy solution
//   majority   k whole solutions sampled (T, top_p of the search), the most frequent boxed answer (ties: the
//              answer that appeared first, in sample order), k = w by default
//   best-of-w  the step-wise search of training (w candidates per step, pairwise self-judging in both
//              orders, wins, rollback on ties), run to the end; its answer is the path it chose
// Each is scored with the world's checker (measurement only) and charged the engine tokens it used
// (prompt tokens asked for and tokens generated, counted at the Engine interface, so any engine works) and
// its wall time. Seeds derive from (seed, method, question), so a report is reproducible.
import { deriveSeed } from '../engine/rng.js';
import type { Completion, Engine, GenerateOptions, ScoreRequest } from '../engine/types.js';
import { renderStepPrompt, type PromptTemplate } from '../data/templates.js';
import { DEFAULT_SEARCH, runSearch, type SearchOptions } from '../search/search.js';
import { checkAnswer, extractBoxed, renderSteps, type Problem } from '../world/index.js';

export interface TtsOptions {
  /** Candidates per step for best-of-w, and samples for the majority vote unless `k` is given. */
  width: number;
  k?: number;
  temperature: number;
  top_p: number;
  seed: number;
  max_tokens: number;
  /** The search's other settings (judge tokens, both orders, rollbacks, …); default: the loop's. */
  search?: Partial<SearchOptions>;
  /** The engine's context (the search ends a question whose prompts no longer fit). */
  context_tokens?: number;
}

export const DEFAULT_TTS: TtsOptions = { width: 6, temperature: 0.5, top_p: 0.95, seed: 0, max_tokens: 320 };

export interface MethodReport { accuracy: number; prompt_tokens: number; generated_tokens: number; wall_s: number }

export interface TtsReport {
  n: number;
  width: number;
  k: number;
  greedy: MethodReport;
  majority: MethodReport;
  best_of_w: MethodReport & { outcomes: Record<string, number> };
}

/** An Engine that counts the prompt tokens asked for (once per completion) and the tokens generated. */
export class CountingEngine implements Engine {
  prompt_tokens = 0;
  generated_tokens = 0;
  constructor(readonly inner: Engine) {}
  get name(): string { return this.inner.name; }
  tokenize(text: string): number[] { return this.inner.tokenize(text); }
  detokenize(ids: number[]): string { return this.inner.detokenize(ids); }
  logprob(r: ScoreRequest[]): Promise<number[]> { return this.inner.logprob(r); }
  close(): Promise<void> { return Promise.resolve(); }
  async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    const out = await this.inner.generate(prompts, opts);
    prompts.forEach((p, i) => {
      this.prompt_tokens += this.inner.tokenize(p).length * out[i]!.length;
      for (const c of out[i]!) this.generated_tokens += c.tokens.length;
    });
    return out;
  }
  reset(): void { this.prompt_tokens = 0; this.generated_tokens = 0; }
}

/** The most frequent boxed answer of `texts` (null answers never win); ties go to the first seen. */
export function majorityAnswer(texts: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const t of texts) {
    const a = extractBoxed(t);
    if (a !== null) counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  let best: string | null = null, n = 0;
  for (const [a, c] of counts) if (c > n) { best = a; n = c; }
  return best;
}

async function measure<T>(e: CountingEngine, fn: () => Promise<T>): Promise<{ value: T; prompt_tokens: number; generated_tokens: number; wall_s: number }> {
  e.reset();
  const t0 = performance.now();
  const value = await fn();
  return { value, prompt_tokens: e.prompt_tokens, generated_tokens: e.generated_tokens, wall_s: Math.round((performance.now() - t0) / 10) / 100 };
}

/** Greedy vs majority vote vs step-wise best-of-w on `problems` (their indices seed the draws). */
export async function ttsReport(engine: Engine, t: PromptTemplate, problems: readonly Problem[], opts: Partial<TtsOptions> = {}): Promise<TtsReport> {
  const o = { ...DEFAULT_TTS, ...opts };
  const k = o.k ?? o.width;
  const e = new CountingEngine(engine);
  const prompts = problems.map((p) => renderStepPrompt(t, p.text));
  const n = problems.length;
  const right = (xs: boolean[]) => (n ? xs.filter(Boolean).length / n : 0);

  const g = await measure(e, () => e.generate(prompts, { n: 1, temperature: 0, max_tokens: o.max_tokens, seed: o.seed }));
  const greedy = right(g.value.map((c, i) => checkAnswer(problems[i]!, c[0]!.text).ok));

  const m = await measure(e, () => e.generate(prompts, {
    n: k, temperature: o.temperature, top_p: o.top_p, max_tokens: o.max_tokens,
    seeds: problems.map((p) => deriveSeed(o.seed, 'tts-majority', p.split, p.index)),
  }));
  const majority = right(m.value.map((cs, i) => majorityAnswer(cs.map((c) => c.text)) === String(problems[i]!.answer)));

  const so: SearchOptions = { ...DEFAULT_SEARCH, ...o.search, candidates: o.width, temperature: o.temperature, top_p: o.top_p, context_tokens: o.context_tokens };
  const b = await measure(e, () => runSearch(e, t, problems.map((p) => ({ index: p.index, problem: p })), so, { seed: deriveSeed(o.seed, 'tts-search'), iteration: 0 }));
  const outcomes: Record<string, number> = {};
  for (const r of b.value) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const best = right(b.value.map((r, i) => checkAnswer(problems[i]!, renderSteps(r.steps)).ok));

  const rep = (acc: number, x: { prompt_tokens: number; generated_tokens: number; wall_s: number }): MethodReport =>
    ({ accuracy: acc, prompt_tokens: x.prompt_tokens, generated_tokens: x.generated_tokens, wall_s: x.wall_s });
  return { n, width: o.width, k, greedy: rep(greedy, g), majority: rep(majority, m), best_of_w: { ...rep(best, b), outcomes } };
}

/** The report as the paper's Table 5 in miniature. */
export function ttsTable(r: TtsReport): string {
  const row = (name: string, m: MethodReport) => `| ${name} | ${(100 * m.accuracy).toFixed(1)}% | ${m.prompt_tokens} | ${m.generated_tokens} | ${m.wall_s.toFixed(1)} |`;
  return [
    `Test-time scaling on ${r.n} questions (w = ${r.width}, majority over k = ${r.k})`,
    '',
    '| method | accuracy | prompt tokens | generated tokens | wall s |',
    '|---|---|---|---|---|',
    row('greedy', r.greedy),
    row(`majority vote (k=${r.k})`, r.majority),
    row(`step-wise best-of-${r.width} (own judge)`, r.best_of_w),
  ].join('\n');
}
