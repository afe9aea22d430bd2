// The verifier on hand-written cases: one right step and one wrong step of each kind, with the reason a
// judge should write; then whole solutions and answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeProblem, type Problem } from '../../src/world/generator.js';
import { checkAnswer, checkSolution, checkStep, nextStep } from '../../src/world/verifier.js';

// "Ann has 23 pens. She buys 15. She sells 2 bags of 6. She doubles them. How many now?"
// buys 15: 23+15=38, 2 bags of 6: 2*6=12, sells 12: 38-12=26, doubles: 26*2=52, \boxed{52}
const P: Problem = {
  id: 'hand-0',
  split: 'test',
  index: 0,
  ...composeProblem('Ann', 'She', 'pens', 23, [
    { type: 'gain', n: 15, verb: 'buys' },
    { type: 'packLose', count: 2, size: 6, verb: 'sells', unit: 'bags' },
    { type: 'scale', k: 2, verb: 'doubles' },
  ]),
};
const S1 = 'buys 15: 23+15=38',
  S2 = '2 bags of 6: 2*6=12',
  S3 = 'sells 12: 38-12=26',
  S4 = 'doubles: 26*2=52';

test('the hand-written problem reads as intended', () => {
  assert.equal(P.text, 'Ann has 23 pens. She buys 15. She sells 2 bags of 6. She doubles them. How many now?');
  assert.equal(P.answer, 52);
  assert.equal(P.steps, 5);
});

const cases: [string[], string, string, string][] = [
  // [earlier steps, step, kind, reason]
  [[], `Step 1: ${S1}`, 'ok', 'ok'],
  [[], 'buys 15: 15+23=38', 'ok', 'ok'], // + commutes
  [[S1], S2, 'ok', 'ok'],
  [[S1, S2], S3, 'ok', 'ok'],
  [[S1, S2, S3], S4, 'ok', 'ok'],
  [[S1, S2, S3, S4], '\\boxed{52}', 'ok', 'ok'],
  // wrong operand found nowhere above (in the arithmetic or in the quote)
  [[], 'buys 15: 23+16=39', 'foreign', '16 is not above'],
  [[], 'buys 16: 23+16=39', 'foreign', '16 is not above'],
  [[S1], '2 bags of 7: 2*7=14', 'foreign', '7 is not above'],
  [[S1], 'sells 12: 38-12=26', 'foreign', '12 is not above'], // the product was never written
  // skipped quantity: another phrase of the problem, or another stated number under the right phrase
  [[S1], 'doubles: 38*2=76', 'skip', 'next is 2 bags of 6'],
  [[], '2 bags of 6: 2*6=12', 'skip', 'next is buys 15'],
  [[], 'buys 15: 23+6=29', 'skip', 'skips 15'],
  // an old running value
  [[S1, S2], 'sells 12: 23-12=11', 'stale', 'last result is 38'],
  // operation contradicts the words
  [[S1, S2], 'sells 12: 38+12=50', 'op', 'sells means -'],
  [[], 'buys 15: 23-15=8', 'op', 'buys means +'],
  [[S1], '2 bags of 6: 2+6=8', 'op', 'bags of means *'],
  // operand order for subtraction
  [[S1, S2], 'sells 12: 12-38=26', 'order', '38 comes first'],
  // last digit impossible
  [[], 'buys 15: 23+15=39', 'digit', '23+15 ends in 8'],
  [[S1, S2, S3], 'doubles: 26*2=54', 'digit', '26*2 ends in 2'],
  // right last digit, wrong carry
  [[], 'buys 15: 23+15=48', 'carry', '23+15 is 38'],
  // premature answer
  [[S1], '\\boxed{38}', 'early', 'next is 2 bags of 6'],
  [[S1, S2], '\\boxed{38}', 'early', 'next is sells 12'],
  [[S1, S2, S3], '\\boxed{26}', 'early', 'next is doubles'],
  // boxed answer that is not the last result, and a step too many
  [[S1, S2, S3, S4], '\\boxed{25}', 'answer', 'last result is 52'],
  [[S1, S2, S3, S4], 'buys 15: 52+15=67', 'late', 'all numbers are used'],
  // unreadable steps (no quote, or words), and steps after the answer
  [[], 'Step 1: add them', 'format', 'not a step'],
  [[], '23+15=38', 'format', 'not a step'],
  [[S1, S2, S3, S4, '\\boxed{52}'], 'buys 15: 52+15=67', 'after', 'already answered'],
];

for (const [earlier, step, kind, reason] of cases) {
  test(`checkStep ${JSON.stringify(step)} after ${earlier.length} steps -> ${kind}`, () => {
    const c = checkStep(P, earlier, step);
    assert.equal(c.kind, kind);
    assert.equal(c.reason, reason);
    assert.equal(c.ok, kind === 'ok');
  });
}

test('steps are judged locally: a wrong earlier result becomes the running value', () => {
  // Step 1 wrongly gives 39; 39-... is then the right continuation, 38-... uses a number not above.
  const w1 = 'buys 15: 23+15=39';
  assert.equal(checkStep(P, [w1, S2], 'sells 12: 39-12=27').kind, 'ok');
  assert.equal(checkStep(P, [w1, S2], S3).reason, '38 is not above');
  assert.equal(nextStep(P, [w1, S2]), 'sells 12: 39-12=27');
  assert.equal(nextStep(P, [S1, 'Step 2: 2 bags of 6: 2*6=13']), 'sells 13: 38-13=25');
  assert.equal(checkStep(P, ['what'], S2).kind, 'prefix');
  // A wrong product larger than the running value: no whole-number result can be right.
  assert.deepEqual(checkStep(P, [S1, '2 bags of 6: 2*6=42'], 'sells 42: 38-42=4'), {
    ok: false,
    kind: 'carry',
    reason: '38-42 is -4',
  });
});

test('checkSolution and checkAnswer on whole texts', () => {
  const good = `Step 1: ${S1}\nStep 2: ${S2}\nStep 3: ${S3}\nStep 4: ${S4}\nStep 5: \\boxed{52}\n`;
  const g = checkSolution(P, good);
  assert.ok(g.ok && g.final && g.answer.ok && g.firstError === -1 && g.steps.length === 5);
  const bad =
    `Step 1: ${S1}\nStep 2: ${S2}\nStep 3: sells 12: 38+12=50\nStep 4: doubles: 50*2=100\nStep 5: ` + `\\boxed{100}\n`;
  const b = checkSolution(P, bad);
  assert.equal(b.firstError, 2);
  assert.equal(b.steps[2].kind, 'op');
  assert.ok(b.steps[3].ok && b.steps[4].ok, 'later steps are right given the wrong one');
  assert.ok(!b.ok && !b.answer.ok);
  assert.deepEqual(checkAnswer(P, 'so \\boxed{52}'), { ok: true, answer: '52', expected: 52 });
  assert.deepEqual(checkAnswer(P, '\\boxed{52} then \\boxed{53}'), { ok: false, answer: '53', expected: 52 });
  assert.deepEqual(checkAnswer(P, 'no answer'), { ok: false, answer: null, expected: 52 });
  assert.equal(checkSolution(P, `Step 1: ${S1}\n`).final, false);
});
