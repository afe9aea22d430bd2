// The generator: determinism from coordinates, disjoint splits, knobs obeyed, solutions consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProblem, generateProblems, splitOfText, worldConfig, SPLITS } from '../../src/world/generator.js';
import { numbersIn } from '../../src/world/format.js';

const world = worldConfig();

test('a problem is a pure function of (seed, split, index)', () => {
  const a = generateProblem(world, 'train', 123);
  const b = generateProblem(worldConfig(), 'train', 123);
  assert.deepEqual(a, b);
  // Generating others first does not change it (no hidden shared state).
  generateProblems(world, 'test', 50);
  assert.deepEqual(generateProblem(world, 'train', 123), a);
  assert.notEqual(generateProblem(world, 'train', 124).text, a.text);
  assert.notEqual(generateProblem(worldConfig({ seed: 7 }), 'train', 123).text, a.text);
});

test('splits are disjoint by construction and each text hashes to its own split', () => {
  const seen = new Map<string, string>();
  for (const s of SPLITS) {
    for (const p of generateProblems(world, s, 1500)) {
      assert.equal(splitOfText(p.text), s);
      const other = seen.get(p.text);
      assert.ok(other === undefined || other === s, `"${p.text}" in ${other} and ${s}`);
      seen.set(p.text, s);
    }
  }
  // The bucket rule holds even when two splits share a config (train and test do by default).
  const same = worldConfig({ splits: { test: world.splits.train } });
  const train = new Set(generateProblems(same, 'train', 2000).map((p) => p.text));
  for (const p of generateProblems(same, 'test', 2000)) assert.ok(!train.has(p.text));
});

test('difficulty knobs: step counts, number ranges, operations', () => {
  const lengths = new Set<number>();
  for (const p of generateProblems(world, 'test', 300)) assert.ok(p.steps >= 2 && p.steps <= 6, `${p.id}`);
  for (const p of generateProblems(world, 'train', 800)) {
    lengths.add(p.steps);
    assert.ok(p.steps >= 2 && p.steps <= 7, `${p.id} has ${p.steps} steps`);
    assert.equal(p.steps, p.actions.length + 1);
    for (const a of p.actions)
      assert.ok(a.z >= 1 && a.z <= 999 && Number.isInteger(a.z), `${p.id}: ${a.x}${a.op}${a.y}=${a.z}`);
    const nums = numbersIn(p.text).map(Number);
    assert.equal(new Set(nums).size, nums.length, `numbers repeat in "${p.text}"`);
    for (const a of p.actions) assert.ok(!nums.includes(a.z), `${p.id}: result ${a.z} is also a stated number`);
  }
  assert.deepEqual(
    [...lengths].sort((a, b) => a - b),
    [2, 3, 4, 5, 6, 7],
    "train covers every length, harder-test's included",
  );
  for (const p of generateProblems(world, 'harder', 200)) assert.equal(p.steps, 7);
  const eight = worldConfig({ splits: { harder: { steps: [8, 8] } } });
  for (const p of generateProblems(eight, 'harder', 50)) assert.equal(p.steps, 8);
  const addOnly = worldConfig({ splits: { train: { ops: ['+'], steps: [3, 3] } } });
  for (const p of generateProblems(addOnly, 'train', 100)) {
    assert.equal(p.steps, 3);
    assert.ok(p.actions.every((a) => a.op === '+'));
  }
  const big = worldConfig({ splits: { train: { start: [100, 199], maxValue: 5000 } } });
  for (const p of generateProblems(big, 'train', 100)) assert.ok(p.start >= 100 && p.start <= 199);
});

test('the canonical actions chain: each step uses the last result and the answer is the last result', () => {
  const kinds = new Set<string>();
  for (const p of generateProblems(world, 'train', 500)) {
    let R = p.start;
    for (let i = 0; i < p.plan.length; i++) {
      const t = p.plan[i],
        a = p.actions[i];
      kinds.add(t.op);
      if (t.x === 'R') assert.equal(a.x, R);
      if (t.out === 'R') R = a.z;
    }
    assert.equal(p.answer, R);
  }
  assert.deepEqual([...kinds].sort(), ['*', '+', '-', '/']);
});

test('bad arguments fail with a clear message', () => {
  assert.throws(() => generateProblem(world, 'dev' as never, 0), /unknown split 'dev'/);
  assert.throws(() => generateProblem(world, 'train', -1), /non-negative integer/);
  const tiny = worldConfig({ splits: { train: { steps: [1, 1] } } });
  assert.throws(() => generateProblem(tiny, 'train', 0), /at least 2 steps/);
});
