// Pairwise self-judging bookkeeping, checked by hand: duplicates merged before judging, both orders,
// wins tallied per candidate, order flips and position bias counted, ties detected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTemplate } from '../../src/data/templates.js';
import { bestAndWorst, planJudgments, tally } from '../../src/judge/tournament.js';

const t = loadTemplate('compact');
const cands = [
  'Step 2: wins 5: 10+5=15\n',
  'Step 2: wins 5: 10+5=16\n',
  'wins 5: 10+5=15',
  'Step 2: loses 5: 10-5=5\n',
];

test('identical candidates are merged; each unordered pair is judged in both orders', () => {
  const p = planJudgments(t, 'Ann has 10. She wins 5. How many now?', ['start: 10'], cands);
  assert.deepEqual(p.rep, [0, 1, 0, 3]);
  assert.deepEqual(p.unique, [0, 1, 3]);
  assert.equal(p.pairs.length, 6);
  assert.deepEqual(
    p.pairs.map((x) => [x.a, x.b]),
    [
      [0, 1],
      [1, 0],
      [0, 3],
      [3, 0],
      [1, 3],
      [3, 1],
    ],
  );
  assert.ok(p.pairs[0]!.prompt.includes('A: wins 5: 10+5=15\nB: wins 5: 10+5=16\n'));
  assert.equal(planJudgments(t, 'x', [], cands, false).pairs.length, 3);
});

test('a step written out in columns and its one-line claim are one candidate under judge_view claims', () => {
  const written = [
    'Step 2: wins 5: 10+5: 0+5=5 1+0=1 so 15\n',
    'Step 2: wins 5: 10+5=15\n',
    'Step 2: wins 5: 10+5: 0+5=5 1+0=1 so 16\n',
    'Step 2: wins 5: 10+5=16\n',
  ];
  const p = planJudgments(t, 'Ann has 10. She wins 5. How many now?', ['start: 10'], written);
  // the group is represented by its first sampled member, here the written-out one
  assert.deepEqual(p.rep, [0, 0, 2, 2]);
  assert.deepEqual(p.unique, [0, 2]);
  assert.ok(p.pairs[0]!.prompt.includes('A: wins 5: 10+5=15\nB: wins 5: 10+5=16\n'));
  // as written, four candidates
  assert.deepEqual(planJudgments({ ...t, judge_view: 'written' }, 'q', [], written).unique, [0, 1, 2, 3]);
});

test('wins, position bias, order flips and parse failures are counted', () => {
  const p = planJudgments(t, 'q', [], cands);
  // pairs: (0,1) (1,0) (0,3) (3,0) (1,3) (3,1)
  const outs = ['A: ok\n[[A]]', '[[B]]', '[[A]]', '[[A]]', 'no verdict', '[[A]]'];
  const r = tally(p, outs);
  // 0 beats 1 twice; (0,3): 0 then 3 (a flip); (1,3): failure then 3
  assert.deepEqual(r.wins, [3, 0, 3, 2]);
  assert.equal(r.parseFailures, 1);
  assert.equal(r.firstPosition, 4);
  assert.equal(r.orderPairs, 2);
  assert.equal(r.orderFlips, 1);
  assert.deepEqual(r.orderResults, [
    { a: 0, b: 1, flipped: false },
    { a: 0, b: 3, flipped: true },
  ]);
  const bw = bestAndWorst(r.wins, p.rep);
  assert.deepEqual(bw.best, [0]);
  assert.deepEqual(bw.worst, [1]);
  assert.equal(bw.tied, false);
  assert.equal(bestAndWorst([1, 1, 1, 1], p.rep).tied, true);
});
