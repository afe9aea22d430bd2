// psrlm explain renders a question's rounds from a run directory: who beat whom in which order, what the
// search did, merged copies, and the verifier's marks labelled as measurement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { explainRecord, findRecords } from '../../src/run/explain.js';
import type { SearchRecord } from '../../src/search/search.js';

const rec: SearchRecord = {
  index: 300007, problem: 'Ann has 10 pens. She buys 5. How many now?', outcome: 'final', steps: ['buys 5: 10+5=15', '\\boxed{15}'],
  pairs: [], rollbacks: 0, judge_prompts: 2, judge_prompts_saved: 28,
  rounds: [
    {
      step: 1, attempt: 0, candidates: ['Step 1: buys 5: 10+5=15\n', 'Step 1: buys 5: 10+5=16\n', 'Step 1: buys 5: 10+5=15\n'],
      finish: ['stop', 'stop', 'stop'], rep: [0, 1, 0], judgments: [[0, 1, 'A'], [1, 0, 'B']], wins: [2, 0, 2],
      best: 0, worst: 1, tied: false, action: 'accept', measure: { candidates_ok: [true, false, true], chosen_ok: true },
    },
  ],
};

test('explain shows candidates, copies, wins by order, the action and measured marks', () => {
  const text = explainRecord(2, rec);
  assert.match(text, /iteration 2, question 300007: Ann has 10 pens/);
  assert.match(text, /step 1 \(attempt 0\): appended candidate 0/);
  assert.match(text, /\[0\] ×2 ✓ buys 5: 10\+5=15 {2}— wins 2, beat 1 \(as A\), 1 \(as B\) best/);
  assert.match(text, /\[1\] ✗ buys 5: 10\+5=16 {2}— wins 0 worst/);
  assert.match(text, /Step 2: \\boxed\{15\}/);
});

test('records are found across iteration directories; a missing run is a clear error', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-explain-'));
  try {
    for (const it of [1, 2]) {
      mkdirSync(path.join(dir, `iter-${it}`));
      writeFileSync(path.join(dir, `iter-${it}`, 'samples.jsonl'), JSON.stringify({ ...rec, index: 300000 + it }) + '\n' + JSON.stringify(rec) + '\n');
    }
    assert.deepEqual(findRecords(dir, 300007).map((f) => f.iteration), [1, 2]);
    assert.equal(findRecords(dir, 5).length, 0);
    assert.throws(() => findRecords(path.join(dir, 'nope'), 1), /no run directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('demo --json summary: accuracies per model (M0 from its manifest), judge accuracy and health, srlm null until built', async () => {
  const { demoSummary } = await import('../../src/cli/demo.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-demo-'));
  try {
    writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ models: [
      { model: 'M1', test_accuracy: 0.1, harder_accuracy: 0.02, judge_accuracy: 0.56 },
      { model: 'M2', test_accuracy: 0.2, harder_accuracy: 0.03, judge_accuracy: 0.6 },
    ] }));
    mkdirSync(path.join(dir, 'iter-1'));
    writeFileSync(path.join(dir, 'iter-1', 'health.json'), JSON.stringify({ model: 'M1', label: 'ok', warnings: [], report: { judge_pick: 0.7 } }));
    mkdirSync(path.join(dir, 'm0'));
    writeFileSync(path.join(dir, 'm0', 'manifest.json'), JSON.stringify({ report: { test: { accuracy: 0 }, harder: { accuracy: 0 } } }));
    const s = demoSummary(dir, path.join(dir, 'm0'), 12.34);
    assert.deepEqual(s, {
      psrlm: { M0: 0, M1: 0.1, M2: 0.2 }, srlm: null, judge_accuracy: { M1: 0.56, M2: 0.6 },
      judge_health: { M1: { label: 'ok', warnings: [], judge_pick: 0.7 } }, harder: { M0: 0, M1: 0.02, M2: 0.03 }, wall_s: 12.3,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
