// A gold that is a full solution: the toolkit reads the answer out of it (parse_ground_truth's MATH branch:
// extract_answer, then strip_string) before comparing, so `psrlm grade` and every grader of raw golds
// must too; a gold that is just an answer is only normalised, never cut down to its last number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadBenchmark } from '../../src/eval/benchmarks.js';
import { goldAnswer, gradeInputs, gradeSync } from '../../src/eval/grade.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const BOXED =
  'We have $2x = 1$, so $x = \\frac{1}{2}$. We check: $\\boxed{3}$ is not it; the root is ' +
  '$x=\\boxed{\\dfrac{1}{2}}$.';
const SAYS = 'Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips altogether.\nThe answer is 72.';

test('a gold solution with \\boxed{} is graded by its last box', () => {
  assert.equal(goldAnswer(BOXED), '\\frac{1}{2}');
  assert.equal(gradeSync({ gold: BOXED, pred: '0.5' }), true);
  assert.equal(gradeSync({ gold: BOXED, pred: '\\frac12' }), true);
  assert.equal(gradeSync({ gold: BOXED, pred: '3' }), false, 'an earlier box is not the answer');
});

test('a gold solution that says "The answer is" is graded by what follows', () => {
  assert.equal(goldAnswer(SAYS), '72');
  assert.equal(gradeSync({ gold: SAYS, pred: '72' }), true);
  assert.equal(gradeSync({ gold: SAYS, pred: '24' }), false);
  assert.equal(goldAnswer('The answer is: 5.'), '5');
  // everything after the phrase, normalised: a word that is not a unit stays (the toolkit's behaviour)
  assert.equal(goldAnswer('so the final answer is 3 marbles.'), '3marbles');
});

test('a plain gold is normalised and nothing more', () => {
  assert.equal(goldAnswer('x+1'), 'x+1', 'not cut down to its last number');
  assert.equal(gradeSync({ gold: 'x+1', pred: '1' }), false);
  assert.equal(gradeSync({ gold: 'x+1', pred: 'x + 1' }), true);
  assert.equal(goldAnswer('\\dfrac{3}{4}'), '\\frac{3}{4}');
  assert.equal(goldAnswer('18 cm'), '18');
  assert.deepEqual(gradeInputs({ gold: '5', pred: '5' }), { gold: '5', pred: '5' });
  // a gold given already normalised is taken as it is, even when it holds a marker
  assert.equal(gradeInputs({ gold: '\\boxed{5}', goldNormalized: true, pred: '5' }).gold, '\\boxed{5}');
});

test("every MATH-500 solution, given as the gold, yields the benchmark's own gold", () => {
  const problems = loadBenchmark('math500');
  assert.equal(problems.length, 500);
  for (const p of problems) assert.equal(goldAnswer(p.reference!), p.gold, `math500 #${p.idx}`);
});

test('psrlm grade reads the answer out of a gold solution and leaves a plain gold alone', () => {
  const lines = [
    { gold: BOXED, pred: '1/2' },
    { gold: SAYS, pred: '72' },
    { gold: SAYS, pred: '73' },
    { gold: 'x+1', pred: '1' },
    { gold: 'x+1', pred: '1+x' },
  ];
  const input = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  const r = spawnSync(process.execPath, [CLI, 'grade'], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { equal: boolean; gold: string });
  assert.deepEqual(
    out.map((o) => o.equal),
    [true, true, false, false, true],
  );
  assert.equal(out[0]!.gold, BOXED, 'the line comes back with its gold as it was given');
});
