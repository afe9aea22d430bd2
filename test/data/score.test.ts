// Solution-scoring data for the SRLM baseline (src/data/score.ts): the rubric's points worked out by hand on
// one solution, both scorer targets for it, and the property that separates the two variants — the `whole`
// target says nothing about any single step, the `steps` target checks them one by one — on 600 records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProblem, worldConfig } from '../../src/world/generator.js';
import { nextStep, renderSteps } from '../../src/world/index.js';
import { parseScore, SCORE_POOL, scoreRecord, scoreRecords, solutionScore, wholeTarget } from '../../src/data/score.js';
import { loadTemplate } from '../../src/data/templates.js';
import { dataConfig } from '../../src/data/build.js';
import { seedOf } from '../../src/world/rng.js';
import { srlmModelName } from '../../src/train/pretrain.js';

const world = worldConfig();
const t = loadTemplate('compact');
const d = dataConfig({});

test('the rubric by hand: a stale operand in step 2 of 5, a wrong answer', () => {
  const p = generateProblem(world, 'train', SCORE_POOL);
  assert.equal(p.text, 'Ivy has 97 pens. She gets 36. She buys 2. She loses 39. She uses 20. How many now?');
  // 97+36=133 is right; step 2 starts from 134, which is nowhere above; the answer should be 76
  const steps = [
    'gets 36: 97+36=133',
    'buys 2: 134+2=136',
    'loses 39: 136-39=97',
    'uses 20: 135-20=115',
    '\\boxed{115}',
  ];
  const { score, checks } = solutionScore(p, steps, true);
  // +1 boxed, +1 first step right; 1 right step before the first wrong is less than half of 5; not every
  // step right; the answer is not 76
  assert.equal(score, 2);
  assert.equal(checks.length, 2, 'check lines up to and including the first wrong step');
  assert.match(checks[0]!, / ok$/);
  assert.doesNotMatch(checks[1]!, / ok$/);

  const r = (explain: 'whole' | 'steps') =>
    scoreRecord(p, t, seedOf(d.seed, 'score', 'train', SCORE_POOL), 0.2, 'nines', explain);
  const whole = r('whole'),
    stepwise = r('steps');
  assert.equal(whole.response, renderSteps(steps), 'the policy wrote this solution for this seed');
  assert.equal(whole.completion, '5 steps, answer 115\nScore: 2');
  assert.equal(stepwise.completion, `Step 1: ${checks[0]}\nStep 2: ${checks[1]}\nScore: 2`);
  assert.equal(whole.prompt, stepwise.prompt, 'the variants differ only in the target');
  assert.equal(parseScore(whole.completion), 2);
  assert.equal(parseScore(stepwise.completion), 2);
});

test('a right solution scores 5; the whole target for no answer and for one step', () => {
  const p = generateProblem(world, 'test', 3);
  const steps: string[] = [];
  while (!steps.at(-1)?.startsWith('\\boxed')) steps.push(nextStep(p, steps));
  assert.equal(solutionScore(p, steps, true).score, 5);
  // without the boxed step: +1 first step right, +1 all of them right before a first wrong one (none)
  assert.equal(solutionScore(p, steps.slice(0, -1), false).score, 2);
  assert.equal(wholeTarget(6, null, 1), '6 steps, no answer\nScore: 1');
  assert.equal(wholeTarget(1, '52', 2), '1 step, answer 52\nScore: 2');
});

test('whole targets check no step; both variants score the same solutions alike', () => {
  const n = 600;
  const w = scoreRecords(d.world, t, d.seed, 'train', SCORE_POOL, n, 1 << 20, 0.2, 'nines', 'whole').records;
  const s = scoreRecords(d.world, t, d.seed, 'train', SCORE_POOL, n, 1 << 20, 0.2, 'nines', 'steps').records;
  const scores = new Set<number>();
  for (let i = 0; i < n; i++) {
    assert.equal(w[i]!.id, s[i]!.id);
    assert.equal(w[i]!.score, s[i]!.score);
    assert.equal(w[i]!.response, s[i]!.response);
    assert.match(w[i]!.completion, /^\d+ steps?, (answer \S+|no answer)\nScore: [0-5]$/);
    assert.match(s[i]!.completion, /^Step 1: /);
    assert.equal(parseScore(w[i]!.completion), w[i]!.score);
    scores.add(w[i]!.score);
  }
  assert.ok(scores.size >= 5, `the rubric's scores spread over the records (${[...scores]})`);
  // the whole target is short: the longest fits far inside the judge's generation budget
  assert.ok(Math.max(...w.map((r) => r.completion.length)) < 64);
});

test('each scorer variant has its own model directory', () => {
  assert.equal(srlmModelName('whole'), 'm1-srlm');
  assert.equal(srlmModelName('steps'), 'm1-srlm-steps');
});
