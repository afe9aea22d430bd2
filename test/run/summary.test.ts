// search.json figures from hand-made records: outcomes, verdict rates, and the verifier measure on mixed rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeSearch } from '../../src/run/summary.js';
import type { RoundRecord, SearchRecord } from '../../src/search/search.js';

const round = (ok: boolean[], chosen: number | null, judgments: RoundRecord['judgments'] = []): RoundRecord => ({
  step: 1, attempt: 0, candidates: ok.map(String), finish: ok.map(() => 'stop'), rep: ok.map((_, i) => i), judgments,
  wins: ok.map(() => 0), best: chosen, worst: null, tied: chosen === null, action: chosen === null ? 'rollback' : 'accept',
  measure: { candidates_ok: ok, chosen_ok: chosen === null ? null : ok[chosen]! },
});

test('search summary', () => {
  const recs: SearchRecord[] = [
    { index: 0, problem: 'a', outcome: 'final', steps: ['x', 'y'], pairs: [], rollbacks: 1, judge_prompts: 4, judge_prompts_saved: 2,
      rounds: [round([true, false, false, false], 0, [[0, 1, 'A'], [1, 0, 'A'], [0, 2, null], [2, 0, 'B']]), round([true, true, true, true], null), round([false, true, false, false], 0)] },
    { index: 1, problem: 'b', outcome: 'gave_up', steps: [], pairs: [], rollbacks: 2, judge_prompts: 0, judge_prompts_saved: 0, rounds: [] },
  ];
  const s = summarizeSearch(recs);
  assert.deepEqual(s.outcomes, { final: 1, gave_up: 1 });
  assert.equal(s.rounds, 3);
  assert.equal(s.rollbacks, 3);
  assert.equal(s.first_position_rate, 2 / 4);
  assert.equal(s.parse_failure_rate, 1 / 4);
  assert.equal(s.mean_steps, 1);
  assert.equal(s.mean_steps_finished, 2);
  assert.equal(s.measure.chosen_ok, 1 / 2);
  assert.equal(s.measure.candidate_ok, 6 / 12);
  assert.equal(s.measure.mixed_rounds, 2);
  assert.equal(s.measure.mixed_chosen_ok, 1 / 2);
  assert.equal(s.measure.mixed_random_ok, 1 / 4);
});
