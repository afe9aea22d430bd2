// singleReport (src/measure/world.ts) on a scripted engine: gold lines score 1, lines with the last word
// flipped score 0 on every share (leaving out reason lines), an empty line is a parse
// failure, a reason line fails the step; hand-counted shares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectSingles } from '../../src/data/single.js';
import { dataConfig } from '../../src/data/build.js';
import { loadTemplate } from '../../src/data/templates.js';
import { singleReport } from '../../src/measure/world.js';
import { Scripted } from './scripted.js';

const d = dataConfig({});
const recs = collectSingles(d.world, loadTemplate('compact'), d.seed, 'test', 0, 60, d.budget.eft, {
  policy: d.eft.policy,
  explain: d.eft.explain,
}).records;
const gold = new Map(recs.map((r) => [r.prompt, r.completion]));

test('gold lines: every share is 1; flipped verdict words: every share is 0', async () => {
  const e = new Scripted((p) => gold.get(p)!);
  const g = await singleReport(e, recs);
  assert.deepEqual(g, {
    n: 60,
    accuracy: 1,
    accuracy_right: 1,
    accuracy_wrong: 1,
    accuracy_arithmetic: 1,
    exact: 1,
    parse_failures: 0,
  });
  assert.equal(e.seen[0]!.temperature, 0); // greedy
  const worded = recs.filter((r) => / (ok|no)$/.test(r.check)); // leaves out reason lines (`sells means -`)
  assert.ok(worded.length > 40 && worded.length < 60);
  const flip = await singleReport(
    new Scripted((p) => gold.get(p)!.replace(/ ok$/, ' XX').replace(/ no$/, ' ok').replace(/ XX$/, ' no')),
    worded,
  );
  assert.deepEqual(flip, {
    n: worded.length,
    accuracy: 0,
    accuracy_right: 0,
    accuracy_wrong: 0,
    accuracy_arithmetic: 0,
    exact: 0,
    parse_failures: 0,
  });
});

test(
  'always "ok": right steps all counted right, wrong ones all wrong; an empty or cut-off line is a parse ' + 'failure',
  async () => {
    const rightN = recs.filter((r) => r.ok).length;
    const r = await singleReport(new Scripted(() => 'A: looks ok\nmore text'), recs);
    assert.equal(r.accuracy, rightN / 60);
    assert.equal(r.accuracy_right, 1);
    assert.equal(r.accuracy_wrong, 0);
    const empty = await singleReport(new Scripted(() => ''), recs.slice(0, 4));
    assert.equal(empty.parse_failures, 4);
    assert.equal(empty.accuracy, 0);
    // a reason line fails the step, like a `no` line
    const reason = await singleReport(new Scripted(() => 'A: sells means -'), recs);
    assert.equal(reason.accuracy_wrong, 1);
    assert.equal(reason.accuracy_right, 0);
  },
);
