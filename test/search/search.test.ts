// Oracle tests of the step-wise search (paper §3.3) with a scripted engine whose candidates and judge
// verdicts the test controls: the right best/worst, pairs on the right prefix with per-side final flags,
// rollback on ties (the discarded step's pair goes with it), giving up, identical candidates, merging
// savings, one judge call per round across problems, and no verifier inside the search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadTemplate } from '../../src/data/templates.js';
import {
  DEFAULT_SEARCH,
  runSearch,
  searchPrompt,
  type SearchItem,
  type SearchOptions,
} from '../../src/search/search.js';
import type { Problem } from '../../src/world/index.js';
import { FakeEngine } from './fake.js';

const t = loadTemplate('compact');
const W = 4;
const o: SearchOptions = { ...DEFAULT_SEARCH, candidates: W };
const coords = { seed: 1, iteration: 1 };
const item = (index: number, text: string): SearchItem => ({ index, problem: { text } as Problem });
const P = (text: string, steps: string[] = []) => searchPrompt(t, text, steps);

test('best and worst by wins; pairs on the prefix; EOS flag only on the side that ends the solution', async () => {
  const q = 'Ann has 10. She wins 5. How many now?';
  const e = new FakeEngine({ g1: 3, m1: 2, n1: 1, b1: 0, '\\boxed{15}': 5, b2: 0, m2: 1 });
  e.script(P(q), ['m1', 'b1', 'g1', 'n1']);
  e.script(P(q, ['g1']), ['b2', '\\boxed{15}', 'm2', 'm2']);
  const [r] = await runSearch(e, t, [item(7, q)], o, coords);
  assert.equal(r!.outcome, 'final');
  assert.deepEqual(r!.steps, ['g1', '\\boxed{15}']);
  assert.equal(r!.pairs.length, 2);
  const [p1, p2] = r!.pairs;
  assert.deepEqual([p1!.prompt, p1!.chosen, p1!.rejected, p1!.step], [P(q), 'Step 1: g1\n', 'Step 1: b1\n', 1]);
  assert.deepEqual([p1!.chosen_final, p1!.rejected_final], [false, false]);
  assert.deepEqual([p1!.chosen_wins, p1!.rejected_wins], [6, 0]); // both orders: 3 opponents x 2
  assert.deepEqual([p2!.prompt, p2!.chosen, p2!.rejected], [P(q, ['g1']), 'Step 2: \\boxed{15}\n', 'Step 2: b2\n']);
  assert.deepEqual([p2!.chosen_final, p2!.rejected_final], [true, false]);
  // the duplicate m2 was merged: 3 distinct steps -> 6 ordered prompts instead of 12
  assert.deepEqual(r!.rounds[1]!.rep, [0, 1, 2, 2]);
  assert.equal(r!.judge_prompts, 12 + 6);
  assert.equal(r!.judge_prompts_saved, 6);
  assert.deepEqual(
    r!.rounds.map((x) => x.action),
    ['accept', 'accept'],
  );
  // sampling follows the paper: w candidates at T 0.5, top_p 0.95, stop at the step marker kept in the text
  const s = e.calls.find((c) => c.kind === 'sample')!.opts;
  assert.deepEqual([s.n, s.temperature, s.top_p, s.stop, s.include_stop], [W, 0.5, 0.95, ['\n'], true]);
  const j = e.calls.find((c) => c.kind === 'judge')!.opts;
  assert.equal(j.temperature, 0);
});

test('a tie rolls back one step: the previous step and its pair are discarded and resampled', async () => {
  const q = 'Bo has 20. He sells 4. How many now?';
  const e = new FakeEngine({ a: 2, x: 0, y: 1, z: 0, c: 2, '\\boxed{16}': 3 });
  e.script(P(q), ['a', 'x', 'y', 'z'], ['c', 'x', 'y', 'z']);
  // after step a every candidate scores 0: a tie (each wins its 1-1 splits equally)
  e.script(P(q, ['a']), ['t1', 't2', 't3', 't4']);
  e.script(P(q, ['c']), ['\\boxed{16}', 'x', 'y', 'z']);
  const [r] = await runSearch(e, t, [item(3, q)], o, coords);
  assert.deepEqual(
    r!.rounds.map((x) => [x.step, x.action]),
    [
      [1, 'accept'],
      [2, 'rollback'],
      [1, 'accept'],
      [2, 'accept'],
    ],
  );
  assert.equal(r!.rollbacks, 1);
  assert.deepEqual(r!.steps, ['c', '\\boxed{16}']);
  // the pair of the discarded step 'a' is gone; the remaining pairs are those of c and the answer
  assert.deepEqual(
    r!.pairs.map((p) => p.chosen),
    ['Step 1: c\n', 'Step 2: \\boxed{16}\n'],
  );
  assert.equal(r!.rounds[1]!.tied, true);
  // a resampled step draws a fresh seed (attempt is a coordinate)
  const seeds = e.calls.filter((c) => c.kind === 'sample').map((c) => c.opts.seeds![0]);
  assert.equal(new Set(seeds).size, seeds.length);
});

test('rollbacks are capped: the problem is given up, its earlier pairs kept', async () => {
  const q = 'Cy has 30. She uses 6. How many now?';
  const e = new FakeEngine({ a: 1 });
  e.script(P(q), ['t1', 't2', 't3', 't4'], ['t1', 't2', 't3', 't4']);
  const [r] = await runSearch(e, t, [item(0, q)], { ...o, max_rollbacks: 1 }, coords);
  assert.equal(r!.outcome, 'gave_up');
  assert.deepEqual(
    r!.rounds.map((x) => x.action),
    ['rollback', 'give_up'],
  );
  assert.equal(r!.pairs.length, 0);
});

test('identical candidates: accepted without a pair and without judging (default), or rolled back', async () => {
  const q = 'Di has 8. She finds 3. How many now?';
  const mk = () =>
    new FakeEngine({ '\\boxed{11}': 1, 'finds 3: 8+3=11': 1 })
      .script(
        P(q),
        ['finds 3: 8+3=11', 'finds 3: 8+3=11', 'finds 3: 8+3=11', 'finds 3: 8+3=11'],
        ['w', 'finds 3: 8+3=11', 'finds 3: 8+3=11', 'finds 3: 8+3=11'],
      )
      .script(P(q, ['finds 3: 8+3=11']), ['\\boxed{11}', 'v', 'v', 'v']);
  const e = mk();
  const [r] = await runSearch(e, t, [item(0, q)], o, coords);
  assert.deepEqual(
    r!.rounds.map((x) => x.action),
    ['accept_identical', 'accept'],
  );
  assert.equal(r!.pairs.length, 1);
  assert.equal(r!.pairs[0]!.step, 2);
  assert.equal(r!.judge_prompts, 2);
  assert.equal(r!.judge_prompts_saved, 12 + 10);
  assert.equal(e.calls.filter((c) => c.kind === 'judge').length, 1);
  const [r2] = await runSearch(mk(), t, [item(0, q)], { ...o, identical: 'rollback' }, coords);
  assert.deepEqual(
    r2!.rounds.map((x) => x.action),
    ['rollback', 'accept', 'accept'],
  );
});

test('one order judges each unordered pair once', async () => {
  const q = 'Ed has 5. He gets 2. How many now?';
  const e = new FakeEngine({ '\\boxed{7}': 9 }).script(P(q), ['\\boxed{7}', 'p', 'q', 'r']);
  const [r] = await runSearch(e, t, [item(0, q)], { ...o, both_orders: false }, coords);
  assert.equal(r!.judge_prompts, 6);
  assert.deepEqual(r!.pairs[0]!.chosen_wins, 3);
});

test('all judge prompts of a round, across problems, go into one engine call; steps stop at max_steps', async () => {
  const qs = ['Q one', 'Q two', 'Q three'];
  const e = new FakeEngine({ s: 1 });
  for (const q of qs) e.script(P(q), ['s', 'a', 'b', 'c']).script(P(q, ['s']), ['s', 'a', 'b', 'c']);
  const rs = await runSearch(
    e,
    t,
    qs.map((q, i) => item(i, q)),
    { ...o, max_steps: 2 },
    coords,
  );
  assert.deepEqual(
    rs.map((r) => r.outcome),
    ['max_steps', 'max_steps', 'max_steps'],
  );
  assert.deepEqual(
    e.calls.map((c) => [c.kind, c.prompts.length]),
    [
      ['sample', 3],
      ['judge', 36],
      ['sample', 3],
      ['judge', 36],
    ],
  );
  // the window: one problem at a time gives the same records
  const e2 = new FakeEngine({ s: 1 });
  for (const q of qs) e2.script(P(q), ['s', 'a', 'b', 'c']).script(P(q, ['s']), ['s', 'a', 'b', 'c']);
  const rs2 = await runSearch(
    e2,
    t,
    qs.map((q, i) => item(i, q)),
    { ...o, max_steps: 2, batch_problems: 1 },
    coords,
  );
  assert.deepEqual(rs2, rs);
});

test('a prompt that no longer fits the context ends the problem', async () => {
  const q = 'Fa has 9.';
  const e = new FakeEngine();
  const [r] = await runSearch(e, t, [item(0, q)], { ...o, context_tokens: P(q).length }, coords);
  assert.equal(r!.outcome, 'context');
  assert.equal(e.calls.length, 0);
});

test('the measure hook only records: decisions are the same with and without it', async () => {
  const q = 'Gil has 4. He wins 4. How many now?';
  const mk = () => new FakeEngine({ '\\boxed{8}': 2, k: 1 }).script(P(q), ['\\boxed{8}', 'k', 'k', 'j']);
  const [a] = await runSearch(mk(), t, [item(0, q)], o, coords);
  const [b] = await runSearch(mk(), t, [item(0, q)], o, coords, { measure: (_p, _pre, s) => s.includes('8') });
  assert.deepEqual(b!.rounds[0]!.measure, { candidates_ok: [true, false, false, false], chosen_ok: true });
  delete b!.rounds[0]!.measure;
  assert.deepEqual(a, b);
  // and the search module never imports the world's verifier
  const src = readFileSync(fileURLToPath(new URL('../../src/search/search.js', import.meta.url)), 'utf8');
  assert.doesNotMatch(src, /checkStep|checkAnswer|verifier/);
});
