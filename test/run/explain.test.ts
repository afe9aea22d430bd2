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
  index: 300007,
  problem: 'Ann has 10 pens. She buys 5. How many now?',
  outcome: 'final',
  steps: ['buys 5: 10+5=15', '\\boxed{15}'],
  pairs: [],
  rollbacks: 0,
  judge_prompts: 2,
  judge_prompts_saved: 28,
  rounds: [
    {
      step: 1,
      attempt: 0,
      candidates: ['Step 1: buys 5: 10+5=15\n', 'Step 1: buys 5: 10+5=16\n', 'Step 1: buys 5: 10+5=15\n'],
      finish: ['stop', 'stop', 'stop'],
      rep: [0, 1, 0],
      judgments: [
        [0, 1, 'A'],
        [1, 0, 'B'],
      ],
      wins: [2, 0, 2],
      best: 0,
      worst: 1,
      tied: false,
      action: 'accept',
      measure: { candidates_ok: [true, false, true], chosen_ok: true },
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
      writeFileSync(
        path.join(dir, `iter-${it}`, 'samples.jsonl'),
        JSON.stringify({ ...rec, index: 300000 + it }) + '\n' + JSON.stringify(rec) + '\n',
      );
    }
    assert.deepEqual(
      findRecords(dir, 300007).map((f) => f.iteration),
      [1, 2],
    );
    assert.equal(findRecords(dir, 5).length, 0);
    assert.throws(() => findRecords(path.join(dir, 'nope'), 1), /no run directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
