// The step-wise search on the paper's multi-line steps (template `paper`, step rule `marked`), with a
// scripted model that writes whole continuations, as a real model does, taken from real MATH solutions
// (test/fixtures/math-steps.json), and an engine layer that applies stop strings as vLLM does. Checks: the
// search asks for `\nStep l+1:` (not kept), keeps every multi-line step whole in its record and its pairs,
// ends at the boxed answer (commentary after it dropped), groups sampling calls by step number, and gives
// the same records when the server ignores stop strings or when the problems are searched one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Completion, Engine, GenerateOptions, ScoreRequest } from '../../src/engine/types.js';
import { loadTemplate } from '../../src/data/templates.js';
import { stepBody } from '../../src/data/steps.js';
import { collectPairs, toStepDPO } from '../../src/search/pairs.js';
import {
  DEFAULT_SEARCH,
  runSearch,
  searchPrompt,
  type SearchItem,
  type SearchOptions,
} from '../../src/search/search.js';
import { ROOT } from '../reference/env.js';

interface Item {
  idx: number;
  problem: string;
  text: string;
  steps: string[];
  after: string;
}
const items = (
  JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'math-steps.json'), 'utf8')) as { items: Item[] }
).items;
const t = loadTemplate('paper');
const o: SearchOptions = { ...DEFAULT_SEARCH, candidates: 3, max_step_tokens: 4000, batch_problems: 2 };
const coords = { seed: 5, iteration: 1 };

/** A wrong next step of two lines and a blank line, then the rest of the solution, as a model might go on. */
const wrong = (l: number, k: number, tail: string) =>
  `Step ${l}: wrong ${k}, first line\n\n$$x_${k} = ${l}$$\n\nStep ${l + 1}: ${tail}`;

/**
 * Candidate j for a prompt holding l-1 accepted steps of a fixture: j = 0 continues with the fixture's own
 * text from step l on (its later steps and commentary included), j = 1, 2 with a wrong step. The judge
 * prefers the fixture's step, then wrong 1 over wrong 2. Tokens are characters.
 */
class ScriptedModel implements Engine {
  readonly name = 'scripted';
  readonly samples: GenerateOptions[] = [];
  constructor(readonly honourStops: boolean) {}
  tokenize(s: string): number[] {
    return [...s].map((c) => c.charCodeAt(0));
  }
  detokenize(ids: number[]): string {
    return String.fromCharCode(...ids);
  }
  async logprob(r: ScoreRequest[]): Promise<number[]> {
    return r.map(() => 0);
  }
  async close(): Promise<void> {}

  private fixture(prompt: string): { it: Item; l: number } {
    const it = items.find((x) => prompt.includes(`Problem: ${x.problem}\n`))!;
    for (let l = 1; l <= it.steps.length; l++)
      if (prompt === searchPrompt(t, it.problem, it.steps.slice(0, l - 1))) return { it, l };
    throw new Error(`scripted model: a prompt off the fixture's path: ${JSON.stringify(prompt.slice(-200))}`);
  }

  private continuation(prompt: string, j: number): string {
    const { it, l } = this.fixture(prompt);
    const own = it.text.slice(it.text.indexOf(`Step ${l}: `));
    return j === 0 ? own : wrong(l, j, 'and so on.');
  }

  async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    if (prompts[0]!.startsWith('Please act as an impartial judge')) return prompts.map((p) => [this.judge(p)]);
    this.samples.push(opts);
    return prompts.map((p) =>
      Array.from({ length: opts.n ?? 1 }, (_, j) => this.sample(this.continuation(p, j), opts)),
    );
  }

  /** What a server returns: cut at the first stop string (kept or not), at max_tokens, or at the end (EOS). */
  private sample(text: string, o: GenerateOptions): Completion {
    const done = (s: string, finish_reason: Completion['finish_reason']) => ({
      text: s,
      tokens: this.tokenize(s),
      logprobs: [],
      finish_reason,
    });
    const stops = this.honourStops ? (o.stop ?? []) : [];
    const hits = stops
      .map((s) => [text.indexOf(s), s.length] as const)
      .filter(([i]) => i >= 0)
      .sort((a, b) => a[0] - b[0]);
    if (hits.length && hits[0]![0] + hits[0]![1] <= o.max_tokens)
      return done(text.slice(0, hits[0]![0] + (o.include_stop ? hits[0]![1] : 0)), 'stop');
    return text.length > o.max_tokens ? done(text.slice(0, o.max_tokens), 'length') : done(text, 'eos');
  }

  private judge(p: string): Completion {
    const block = (who: 'A' | 'B') =>
      new RegExp(
        `\\[The Start of Assistant ${who}'s Next Reasoning Step\\]\\n([\\s\\S]*?)\\n\\[The End of Assistant ${who}'s`,
      ).exec(p)![1]!;
    const score = (s: string) => (/wrong 2/.test(s) ? 0 : /wrong 1/.test(s) ? 1 : 2);
    const a = score(block('A'));
    const b = score(block('B'));
    return { text: `Both were read.\n[[${b > a ? 'B' : 'A'}]]`, tokens: [], logprobs: [], finish_reason: 'eos' };
  }
}

const problems = [41, 18, 39].map((idx) => items.find((x) => x.idx === idx)!);
const searchItems: SearchItem<{ text: string }>[] = problems.map((it, index) => ({
  index,
  problem: { text: it.problem },
}));

test('multi-line steps stay whole: records, pairs, the Step-DPO layout; stops name the next step', async () => {
  const e = new ScriptedModel(true);
  const recs = await runSearch(e, t, searchItems, o, coords);
  for (const [k, r] of recs.entries()) {
    const it = problems[k]!;
    assert.equal(r.outcome, 'final', `MATH ${it.idx}`);
    assert.deepEqual(r.steps, it.steps, `MATH ${it.idx}`);
    assert.equal(r.pairs.length, it.steps.length);
    for (const [l, p] of r.pairs.entries()) {
      assert.equal(p.prompt, searchPrompt(t, it.problem, it.steps.slice(0, l)));
      assert.equal(p.chosen, `Step ${l + 1}: ${it.steps[l]}\n`);
      assert.equal(p.rejected, `Step ${l + 1}: ${stepBody(wrong(l + 1, 2, '').split(`\nStep ${l + 2}:`)[0]!)}\n`);
      assert.equal(p.chosen_final, l === it.steps.length - 1);
      assert.equal(p.rejected_final, false);
      // the Step-DPO export splits the label off and rebuilds the full texts
      const sd = toStepDPO(p, searchPrompt(t, it.problem, []));
      assert.equal(sd.chosen, `${it.steps[l]}\n`);
      assert.equal(sd.full_chosen, `${searchPrompt(t, it.problem, it.steps.slice(0, l + 1)).slice(sd.prompt.length)}`);
    }
  }
  assert.equal(collectPairs(recs).stats.kept, 2 + 3 + 2);
  // every sampling call: the next step's marker, not kept; two problems at different steps share a round
  // (MATH 18 at step 3 while MATH 39 starts), so that round makes two calls
  for (const s of e.samples) {
    assert.equal(s.include_stop, false);
    assert.equal(s.stop!.length, 1);
    assert.match(s.stop![0]!, /^\nStep \d+:$/);
  }
  assert.deepEqual(
    e.samples.map((s) => s.stop![0]),
    ['\nStep 2:', '\nStep 3:', '\nStep 4:', '\nStep 2:', '\nStep 3:'],
  );
  // the middle steps of MATH 18 span lines: display math with its \begin/\end and no blank line lost
  assert.ok(recs[1]!.steps[1]!.includes('\\begin{align*}\n10t+2t+g &= 3s+g+s\\\\\n'));
});

test('a server that ignores stop strings, and problems searched one by one, give the same records', async () => {
  const honoured = await runSearch(new ScriptedModel(true), t, searchItems, o, coords);
  const ignoring = await runSearch(new ScriptedModel(false), t, searchItems, o, coords);
  const strip = (rs: typeof honoured) => rs.map((r) => ({ ...r, rounds: r.rounds.map((x) => ({ ...x, finish: [] })) }));
  // the candidates' texts are the same; only the finish reasons of those the rule cut differ
  assert.deepEqual(strip(ignoring), strip(honoured));
  for (const [k, it] of searchItems.entries()) {
    const [alone] = await runSearch(new ScriptedModel(true), t, [it], o, coords);
    assert.deepEqual(alone, honoured[k]);
  }
});

test('commentary after the boxed answer is no part of the final step', async () => {
  const kite = items.find((x) => x.idx === 14)!;
  const [r] = await runSearch(new ScriptedModel(false), t, [{ index: 0, problem: { text: kite.problem } }], o, coords);
  assert.equal(r!.outcome, 'final');
  assert.deepEqual(r!.steps, kite.steps);
  assert.ok(!r!.pairs[1]!.chosen.includes('extra challenge'));
  assert.equal(r!.rounds[1]!.finish[0], 'stop');
});
