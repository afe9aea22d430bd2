// Pair collection and export: same-sided and duplicate pairs dropped, unfinished searches optional,
// the trainer's PreferencePair with per-side final flags, TRL and Step-DPO layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTemplate, renderStepPrompt } from '../../src/data/templates.js';
import { collectPairs, toPreference, toStepDPO, toTRL } from '../../src/search/pairs.js';
import { searchPrompt, type SearchPair, type SearchRecord } from '../../src/search/search.js';

const t = loadTemplate('compact');
const q = 'Ann has 10. She wins 5. How many now?';
const pair = (prefix: string[], chosen: string, rejected: string, cf = false): SearchPair => ({
  prompt: searchPrompt(t, q, prefix),
  chosen,
  rejected,
  chosen_final: cf,
  rejected_final: false,
  prefix,
  step: prefix.length + 1,
  chosen_wins: 2,
  rejected_wins: 0,
});
const rec = (index: number, outcome: SearchRecord['outcome'], pairs: SearchPair[]): SearchRecord => ({
  index,
  problem: q,
  outcome,
  steps: [],
  pairs,
  rollbacks: 0,
  rounds: [],
  judge_prompts: 0,
  judge_prompts_saved: 0,
});

test('duplicates and same-sided pairs are dropped; unfinished searches kept unless asked', () => {
  const a = pair([], 'Step 1: wins 5: 10+5=15\n', 'Step 1: wins 5: 10+5=16\n');
  const b = pair(['wins 5: 10+5=15'], 'Step 2: \\boxed{15}\n', 'Step 2: \\boxed{16}\n', true);
  const same = pair([], 'Step 1: x\n', 'x');
  const recs = [
    rec(1, 'final', [a, b]),
    rec(2, 'final', [a, same]),
    rec(3, 'max_steps', [pair([], 'Step 1: y\n', 'Step 1: z\n')]),
  ];
  const r = collectPairs(recs);
  assert.deepEqual(
    r.pairs.map((p) => p.id),
    ['1:1', '1:2', '3:1'],
  );
  assert.deepEqual(r.stats, { found: 5, kept: 3, same_sides: 1, duplicates: 1, unfinished_dropped: 0 });
  const r2 = collectPairs(recs, { keep_unfinished: false });
  assert.deepEqual(
    r2.pairs.map((p) => p.id),
    ['1:1', '1:2'],
  );
  assert.equal(r2.stats.unfinished_dropped, 1);
  assert.deepEqual(toPreference(b), {
    prompt: b.prompt,
    chosen: b.chosen,
    rejected: b.rejected,
    chosen_final: true,
    rejected_final: false,
  });
  assert.deepEqual(Object.keys(toTRL(b)), ['prompt', 'chosen', 'rejected']);
});

test('Step-DPO layout: initial steps end with the next label; full_* = initial + side', () => {
  const b = pair(['wins 5: 10+5=15'], 'Step 2: \\boxed{15}\n', 'Step 2: \\boxed{16}\n', true);
  const s = toStepDPO(b, renderStepPrompt(t, q));
  assert.deepEqual(s, {
    prompt: renderStepPrompt(t, q),
    initial_reason_steps: 'Step 1: wins 5: 10+5=15\nStep 2: ',
    chosen: '\\boxed{15}\n',
    rejected: '\\boxed{16}\n',
    full_chosen: 'Step 1: wins 5: 10+5=15\nStep 2: \\boxed{15}\n',
    full_rejected: 'Step 1: wins 5: 10+5=15\nStep 2: \\boxed{16}\n',
  });
  // prompt + initial + chosen is exactly what DPO trains on
  assert.equal(s.prompt + s.full_chosen, b.prompt + b.chosen);
  // a misnumbered step keeps its own label
  const m = toStepDPO(pair([], 'Step 3: x\n', 'Step 1: y\n'), renderStepPrompt(t, q));
  assert.deepEqual([m.initial_reason_steps, m.chosen], ['', 'Step 3: x\n']);
});
