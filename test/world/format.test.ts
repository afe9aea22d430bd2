// Step layout: what the search splits on and what the verifier reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  extractBoxed,
  formatStep,
  isFinalStep,
  parseStep,
  readBody,
  claimOf,
  formatWritten,
  renderSteps,
  splitSteps,
  stepBody,
  numbersIn,
} from '../../src/world/format.js';

test('steps render one per line, each ending in a newline', () => {
  assert.equal(formatStep(3, '38-12=26'), 'Step 3: 38-12=26\n');
  assert.equal(renderSteps(['23+15=38', '\\boxed{38}']), 'Step 1: 23+15=38\nStep 2: \\boxed{38}\n');
  assert.equal(renderSteps([]), '');
});

test('parseStep reads labels, bodies and finality', () => {
  assert.deepEqual(parseStep('Step 12: 4 bags of 5: 4*5=20\n'), { n: 12, body: '4 bags of 5: 4*5=20', final: false });
  assert.deepEqual(parseStep('\\boxed{7}'), { n: null, body: '\\boxed{7}', final: true });
  assert.equal(stepBody('Step 2: \\boxed{41}\n'), '\\boxed{41}');
  assert.ok(isFinalStep('Step 5: \\boxed{41}') && !isFinalStep('Step 5: 41+1=42'));
});

test('splitSteps splits at labels, stops at the first boxed step, ignores text before step 1', () => {
  const t = 'Solve.\nStep 1: 2+3=5\nStep 2: \\boxed{5}\nStep 3: 5+1=6\n';
  assert.deepEqual(splitSteps(t), { steps: ['Step 1: 2+3=5', 'Step 2: \\boxed{5}'], final: true });
  assert.deepEqual(splitSteps('Step 1: 2+3=5\nStep 2: 5*2'), { steps: ['Step 1: 2+3=5', 'Step 2: 5*2'], final: false });
  assert.deepEqual(splitSteps('nothing here'), { steps: [], final: false });
});

test('readBody accepts exactly <quote>: x<op>y=z and \\boxed{z}', () => {
  assert.deepEqual(readBody('sells 12: 38-12=26'), { type: 'op', quote: 'sells 12', x: 38, op: '-', y: 12, z: 26 });
  assert.deepEqual(readBody(' halves: 84/2=42 '), { type: 'op', quote: 'halves', x: 84, op: '/', y: 2, z: 42 });
  assert.deepEqual(readBody('2 bags of 6: 2*6=12'), { type: 'op', quote: '2 bags of 6', x: 2, op: '*', y: 6, z: 12 });
  assert.deepEqual(readBody('\\boxed{52}'), { type: 'answer', z: 52 });
  for (const bad of [
    '38-12=26',
    'sells: 38 - 12 = 26',
    'sells: 38-12=',
    'x: x+1=2',
    'Sells: 3-1=2',
    '\\boxed{}',
    '\\boxed{5',
    'a: 38-12=26=26',
    '',
  ])
    assert.equal(readBody(bad), null, bad);
});

test('a written-out step reads as its claim with its columns as work; malformed ones are not steps', () => {
  assert.deepEqual(readBody('sells 12: 38-12: 8-2=6 3-1=2 so 26'), {
    type: 'op',
    quote: 'sells 12',
    x: 38,
    op: '-',
    y: 12,
    z: 26,
    work: '8-2=6 3-1=2',
  });
  assert.deepEqual(readBody('uses 72: 125-72: 5-2=3 12-7=5 1-0-1=0 so 53'), {
    type: 'op',
    quote: 'uses 72',
    x: 125,
    op: '-',
    y: 72,
    z: 53,
    work: '5-2=3 12-7=5 1-0-1=0',
  });
  assert.equal(readBody('gets 30: 13+30: 3+0=3 1+3=4 so 53')?.type, 'op'); // read as written, right or not
  for (const bad of [
    'sells 12: 38-12: so 26',
    'sells 12: 38-12: 8-2=6 3-1=2 so',
    'sells 12: 38-12: 8-2=6  3-1=2 so 26',
    'sells 12: 38*12: 8*2=16 so 456',
    'sells 12: 38-12: 8-2=6 3-1=2 so 26 so 26',
  ])
    assert.equal(readBody(bad), null, bad);
  assert.equal(claimOf('sells 12: 38-12: 8-2=6 3-1=2 so 26'), 'sells 12: 38-12=26');
  assert.equal(claimOf('sells 12: 38-12=26'), 'sells 12: 38-12=26');
  assert.equal(claimOf('\\boxed{26}'), '\\boxed{26}');
  assert.equal(claimOf('sells 12: 38-12: 8-2=6 so'), 'sells 12: 38-12: 8-2=6 so'); // not a step: as it is
  assert.equal(formatWritten('sells 12', 38, '-', 12, '8-2=6 3-1=2', 26), 'sells 12: 38-12: 8-2=6 3-1=2 so 26');
});

test('extractBoxed and numbersIn', () => {
  assert.equal(extractBoxed('a \\boxed{1} b \\boxed{ 22 }'), '22');
  assert.equal(extractBoxed('none'), null);
  assert.deepEqual(numbersIn('Ann has 23 pens. 2 bags of 16.'), ['23', '2', '16']);
});
