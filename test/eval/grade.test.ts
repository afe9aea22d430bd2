// The timed grading pool (docs/grading.md §4: a 3 s limit, a timeout counts as not equal, the caller
// never blocks) and the stable CLI contracts of `psrlm grade` and `psrlm extract`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GradePool } from '../../src/eval/grade.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('a comparison that never ends times out, counts as not equal, and the pool goes on', async () => {
  const pool = new GradePool({ timeoutMs: 1500 }); // generous: a loaded CI machine must not time out real work
  try {
    const t0 = Date.now();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const [hang, after, again] = await Promise.all([
      pool.grade({ gold: '__psrlm_hang__', pred: 'x' }),
      pool.grade({ gold: '\\frac{1}{2}', pred: '0.5' }),
      pool.grade({ gold: '3', pred: '4' }),
    ]);
    clearInterval(timer);
    assert.deepEqual(hang, { equal: false, timeout: true });
    assert.deepEqual(after, { equal: true, timeout: false }); // re-sent to a fresh worker
    assert.deepEqual(again, { equal: false, timeout: false });
    assert.ok(Date.now() - t0 >= 1500);
    assert.ok(ticks >= 5, 'the event loop kept running while the worker hung');
    assert.equal(pool.timeouts, 1);
  } finally {
    await pool.close();
  }
});

test('verdicts come back for the right pairs with several workers', async () => {
  const pool = new GradePool({ workers: 2, depth: 4 });
  try {
    const tasks = Array.from({ length: 60 }, (_, i) => ({ gold: String(i), pred: String(i % 3 === 0 ? i : i + 1) }));
    const vs = await pool.gradeAll(tasks);
    assert.deepEqual(
      vs.map((v) => v.equal),
      tasks.map((_, i) => i % 3 === 0),
    );
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.grade({ gold: '1', pred: '1' }), /closed/);
});

function cli(args: string[], input: string) {
  return spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
}

test('psrlm grade adds a boolean "equal" to each JSONL line, in order, keeping other fields', () => {
  const lines = [
    { id: 1, gold: '\\frac{1}{2}', pred: '0.5' },
    { id: 2, gold: '1,-2', pred: '1,-3' },
    { id: 3, gold: '10', pred: '\\$10.00' },
    { id: 4, gold: 'x^2+2x+1', pred: '(x+1)^2' },
    { id: 5, gold: '7', pred: 'seven' },
  ];
  const r = cli(['grade'], lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    out.map((o) => o.id),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    out.map((o) => o.equal),
    [true, true, true, true, true],
  ); // #2: the toolkit's bug, reproduced
  assert.equal(out[0].gold, '\\frac{1}{2}');
  const strict = cli(['grade', '--strict'], JSON.stringify(lines[1]) + '\n');
  assert.equal(JSON.parse(strict.stdout).equal, false);
});

test('psrlm grade rejects bad input with a message that says what to fix', () => {
  const r = cli(['grade'], '{"gold": "1"}\n');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /line 1: field 'pred' must be a string/);
  const r2 = cli(['grade'], 'not json\n');
  assert.match(r2.stderr, /line 1: not valid JSON/);
});

test('psrlm extract adds the normalised answer', () => {
  const r = cli(
    ['extract'],
    [
      { text: 'so $\\boxed{\\dfrac{1}{\\boxed{2}}}$ hence \\boxed{\\tfrac{3}{4}}.', k: 'a' },
      { text: 'The answer is 1,234 apples.' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n'),
  );
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    out.map((o) => o.answer),
    ['\\frac{3}{4}', '1,234'],
  );
  assert.equal(out[0].k, 'a');
});
