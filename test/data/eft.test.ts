// EFT pairs: the label matches the verifier, both orders are present, labels balance, explanations are
// the check of each candidate (written arithmetic for the arithmetic, the verifier's reason otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeProblem, generateProblem, worldConfig } from '../../src/world/generator.js';
import { checkStep, nextStep } from '../../src/world/verifier.js';
import { DEFAULT_POLICY } from '../../src/world/mistakes.js';
import { WorldRng } from '../../src/world/rng.js';
import { checkable, checkLine, eftRecords, goldJudgment, nextHint, searchPairs } from '../../src/data/eft.js';
import { loadTemplate, parseVerdict, renderJudgePrompt } from '../../src/data/templates.js';
import { validateEft, type EftRecord } from '../../src/data/schema.js';

const world = worldConfig();
const t = loadTemplate('compact');

function build(n: number): EftRecord[] {
  const out: EftRecord[] = [];
  let pair = 0;
  for (let i = 0; i < n; i++) {
    const p = generateProblem(world, 'test', i);
    for (const pr of searchPairs(p, { policy: DEFAULT_POLICY, maxPairsPerProblem: 2 }, new WorldRng(i)))
      out.push(...eftRecords(pr, pair++, t));
  }
  return out;
}

test('labels match the verifier, both orders of every pair, balanced labels', () => {
  const recs = build(300);
  assert.ok(recs.length > 600, `${recs.length} records`);
  const byPair = new Map<number, EftRecord[]>();
  for (const r of recs) {
    validateEft(r);
    const p = generateProblem(world, r.split, r.index);
    const a = checkStep(p, r.prefix, r.step_a),
      b = checkStep(p, r.prefix, r.step_b);
    assert.ok(a.ok !== b.ok, `${r.id}: exactly one candidate is right`);
    assert.equal(r.label, a.ok ? 'A' : 'B');
    assert.equal(parseVerdict(r.completion), r.label);
    assert.equal(r.check_a, checkLine(p, r.prefix, r.step_a));
    assert.equal(r.check_b, checkLine(p, r.prefix, r.step_b));
    // The check line of the right step ends in ok (or is ok); the wrong one's never does.
    const [good, badLine] = a.ok ? [r.check_a, r.check_b] : [r.check_b, r.check_a];
    assert.match(good, /(^| )ok$/);
    assert.doesNotMatch(badLine, /(^| )ok$/);
    assert.equal(r.kind, (a.ok ? b : a).kind);
    for (const s of r.prefix)
      assert.ok(checkStep(p, r.prefix.slice(0, r.prefix.indexOf(s)), s).ok, 'prefix steps are right');
    assert.equal(
      r.prompt,
      renderJudgePrompt(t, { problem: p.text, steps: r.prefix, stepA: r.step_a, stepB: r.step_b }),
    );
    byPair.set(r.pair, [...(byPair.get(r.pair) ?? []), r]);
  }
  for (const [k, rs] of byPair) {
    assert.deepEqual(rs.map((r) => r.order).sort(), ['AB', 'BA'], `pair ${k}`);
    assert.equal(rs[0].step_a, rs[1].step_b);
    assert.equal(rs[0].step_b, rs[1].step_a);
  }
  const a = recs.filter((r) => r.label === 'A').length;
  assert.equal(a * 2, recs.length);
  const kinds = new Set(recs.map((r) => r.kind));
  for (const k of ['digit', 'carry', 'foreign', 'skip', 'stale', 'op', 'early', 'answer', 'late'])
    assert.ok(kinds.has(k), `no ${k} pairs`);
});

test('the search is reproducible and keeps at most maxPairsPerProblem pairs', () => {
  const p = generateProblem(world, 'train', 42);
  const x = searchPairs(p, { policy: DEFAULT_POLICY, maxPairsPerProblem: 1 }, new WorldRng(3));
  const y = searchPairs(p, { policy: DEFAULT_POLICY, maxPairsPerProblem: 1 }, new WorldRng(3));
  assert.deepEqual(x, y);
  assert.ok(x.length <= 1);
  const all = searchPairs(p, { policy: { ...DEFAULT_POLICY, pCorrect: 0.5 }, maxPairsPerProblem: 99 }, new WorldRng(3));
  assert.ok(all.length <= p.steps);
  // With no right candidates, no layer can pair (the paper's tie rule): nothing to learn from.
  assert.deepEqual(
    searchPairs(p, { policy: { ...DEFAULT_POLICY, pCorrect: 0 }, maxPairsPerProblem: 9 }, new WorldRng(3)),
    [],
  );
});

test('goldJudgment labels any two candidates, and none when both are right or both wrong', () => {
  const p = generateProblem(world, 'test', 3);
  const right = nextStep(p, []);
  const wrong = right.replace(/=(\d+)$/, (_, z: string) => `=${Number(z) + 1}`);
  assert.deepEqual(goldJudgment(p, [], wrong, right), {
    label: 'B',
    checkA: checkLine(p, [], wrong),
    checkB: checkLine(p, [], right),
  });
  assert.deepEqual(goldJudgment(p, [], wrong, right, 'reason'), {
    label: 'B',
    checkA: checkStep(p, [], wrong).reason,
    checkB: 'ok',
  });
  assert.equal(goldJudgment(p, [], right, wrong).label, 'A');
  assert.equal(goldJudgment(p, [], right, right).label, null);
  assert.equal(goldJudgment(p, [], wrong, '\\boxed{1}').label, null);
});

test('nextHint names what the next step must do (the compact-next scratch line)', () => {
  const p = {
    id: 'hand-1',
    split: 'test' as const,
    index: 0,
    ...composeProblem('Ann', 'She', 'pens', 23, [
      { type: 'gain', n: 15, verb: 'buys' },
      { type: 'packLose', count: 2, size: 6, verb: 'sells', unit: 'bags' },
      { type: 'split', k: 2, verb: 'halves' },
    ]),
  };
  const steps = ['buys 15: 23+15=38', '2 bags of 6: 2*6=12', 'sells 12: 38-12=26', 'halves: 26/2=13'];
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((k) => nextHint(p, steps.slice(0, k))),
    ['buys 15 on 23', '2 bags of 6', 'sells 12 on 38', 'halves on 26', 'answer 13'],
  );
  const t = loadTemplate('compact-next');
  const [r] = eftRecords(
    {
      problem: { ...p, split: 'test' },
      prefix: steps.slice(0, 2),
      best: steps[2],
      worst: 'sells 12: 38+12=50',
      kind: 'op',
      reason: 'sells means -',
      checkBest: 'ok',
      checkWorst: 'sells means -',
    },
    0,
    t,
  );
  assert.equal(r.completion, 'Next: sells 12 on 38\nA: ok\nB: sells means -\n[[A]]');
  validateEft(r);
});

test('check lines: written arithmetic for the arithmetic and the answer, the reason for the rest', () => {
  const p = {
    id: 'hand-2',
    split: 'test' as const,
    index: 0,
    ...composeProblem('Ann', 'She', 'pens', 23, [
      { type: 'gain', n: 15, verb: 'buys' },
      { type: 'packLose', count: 2, size: 6, verb: 'sells', unit: 'bags' },
      { type: 'split', k: 2, verb: 'halves' },
    ]),
  };
  const steps = ['buys 15: 23+15=38', '2 bags of 6: 2*6=12', 'sells 12: 38-12=26', 'halves: 26/2=13'];
  // hand-computed columns, units first, each carry or borrow written down
  // default (nines): digit sums of the inputs, combined, then of the number they must match
  assert.equal(checkLine(p, [], steps[0]), '23+15=38: 2+3=5, 1+5=6, 5+6=11 1+1=2, 3+8=11 1+1=2 so 2|2= ok');
  assert.equal(
    checkLine(p, [], 'buys 15: 23+15=48'),
    '23+15=48: 2+3=5, 1+5=6, 5+6=11 1+1=2, 4+8=12 1+2=3 so ' + '2|3! no',
  ); // carry kind
  assert.equal(
    checkLine(p, [], 'buys 15: 23+15=39'),
    '23+15=39: 2+3=5, 1+5=6, 5+6=11 1+1=2, 3+9=12 1+2=3 so ' + '2|3! no',
  ); // digit kind
  // subtraction through its inverse: 12 + 26 against 38
  assert.equal(
    checkLine(p, steps.slice(0, 2), steps[2]),
    '38-12=26: 1+2=3, 2+6=8, 3+8=11 1+1=2, 3+8=11 1+1=2 so 2|2= ok',
  );
  // division through its inverse: 12 * 2 against 26
  assert.equal(checkLine(p, steps.slice(0, 3), 'halves: 26/2=12'), '26/2=12: 1+2=3, 2, 3*2=6, 2+6=8 so 6|8! no');
  // a wrong result off by 9 passes casting out nines: its line falls back to columns, and `checkable` says so
  assert.equal(checkLine(p, [], 'buys 15: 23+15=47'), '23+15: 3+5=8 2+1=3 so 38 vs 47: 8|7! no');
  assert.equal(checkable(p, [], 'buys 15: 23+15=47'), false);
  assert.equal(checkable(p, [], 'buys 15: 23+15=48'), true);
  assert.equal(checkable(p, [], steps[0]), true);
  assert.equal(checkable(p, [], 'buys 15: 23+15=47', 'drill'), true);
  // the drill layout: the operation's column drill, then the claimed result
  assert.equal(checkLine(p, [], steps[0], 'drill'), '23+15: 3+5=8 2+1=3 so 38 vs 38: 8|8= 3|3= ok');
  assert.equal(checkLine(p, steps.slice(0, 3), 'halves: 26/2=12', 'drill'), '12*2: 2*2=4 1*2=2 so 24 vs 26: 4|6! no');
  // the digits layout copies the candidate's equation, with its claimed result, before the columns
  assert.equal(checkLine(p, [], 'buys 15: 23+15=48', 'digits'), '23+15=48; 3+5=8 2+1=3 so 38 vs 48: 8|8= 3|4! no');
  assert.equal(
    checkLine(p, steps.slice(0, 3), 'halves: 26/2=12', 'digits'),
    '26/2=12; 2*2=4 1*2=2 so 24 vs 26: 4|6! no',
  );
  assert.equal(checkLine(p, steps, '\\boxed{13}'), 'last 13 vs 13: 3|3= 1|1= ok');
  assert.equal(checkLine(p, steps, '\\boxed{26}'), 'last 13 vs 26: 3|6! no');
  // structural mistakes keep the verifier's reason
  assert.equal(checkLine(p, steps.slice(0, 2), 'sells 12: 38+12=50'), 'sells means -');
  assert.equal(checkLine(p, steps.slice(0, 2), 'sells 12: 38-16=22'), '16 is not above');
  assert.equal(checkLine(p, steps.slice(0, 2), 'sells 12: 38+12=50', 'reason'), 'sells means -');
  assert.equal(checkLine(p, steps.slice(0, 2), steps[2], 'reason'), 'ok');
  assert.equal(checkLine(p, steps.slice(0, 2), steps[2], 'columns'), '38-12=26; 8-2=6 3-1=2 so 26 ok');
  assert.equal(checkLine(p, steps, '\\boxed{26}', 'columns'), 'last 13 vs 26 no');
});
