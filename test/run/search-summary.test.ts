// search.json figures from hand-made records: outcomes, verdict rates, and the verifier measure on mixed rounds;
// and the label and collapse warnings of PSRLM's judge health (src/run/psrlm.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthLabel, healthWarnings } from '../../src/run/psrlm.js';
import { summarizeSearch } from '../../src/run/search-summary.js';
import type { RoundRecord, SearchRecord } from '../../src/search/search.js';

const round = (ok: boolean[], chosen: number | null, judgments: RoundRecord['judgments'] = []): RoundRecord => ({
  step: 1,
  attempt: 0,
  candidates: ok.map(String),
  finish: ok.map(() => 'stop'),
  rep: ok.map((_, i) => i),
  judgments,
  wins: ok.map(() => 0),
  best: chosen,
  worst: null,
  tied: chosen === null,
  action: chosen === null ? 'rollback' : 'accept',
  measure: { candidates_ok: ok, chosen_ok: chosen === null ? null : ok[chosen]! },
});

test('search summary', () => {
  const recs: SearchRecord[] = [
    {
      index: 0,
      problem: 'a',
      outcome: 'final',
      steps: ['x', 'y'],
      pairs: [],
      rollbacks: 1,
      judge_prompts: 4,
      judge_prompts_saved: 2,
      rounds: [
        round([true, false, false, false], 0, [
          [0, 1, 'A'],
          [1, 0, 'A'],
          [0, 2, null],
          [2, 0, 'B'],
        ]),
        round([true, true, true, true], null),
        round([false, true, false, false], 0),
      ],
    },
    {
      index: 1,
      problem: 'b',
      outcome: 'gave_up',
      steps: [],
      pairs: [],
      rollbacks: 2,
      judge_prompts: 0,
      judge_prompts_saved: 0,
      rounds: [],
    },
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

test('judge health: label at or below chance, collapse warnings', () => {
  const base = {
    prefixes: 10,
    mixed_share: 0.5,
    judge_pick: 0.4,
    random_pick: 0.5,
    majority_pick: 0.6,
    judge_beats_random: false,
    judge_beats_majority: false,
    candidate_accuracy: 0.5,
    first_position_rate: 0.5,
    order_flip_rate: 0.1,
    decisive_order_flip_rate: 0.1,
    decisive_order_pairs: 20,
    parse_failure_rate: 0,
    tie_rate: 0,
    length_bias: 0,
    judge_prompts: 100,
    merged_duplicates: 0,
  };
  assert.match(healthLabel(base), /^JUDGE AT OR BELOW CHANCE/);
  assert.match(healthLabel({ ...base, judge_pick: 0.5 }), /^JUDGE AT OR BELOW CHANCE/);
  assert.equal(
    healthLabel({ ...base, judge_pick: 0.7, judge_beats_random: true, judge_beats_majority: true }),
    'above chance and above a majority vote',
  );
  assert.match(healthLabel({ ...base, mixed_share: 0 }), /not measurable/);
  assert.deepEqual(healthWarnings(base), []);
  const w = healthWarnings({
    ...base,
    parse_failure_rate: 0.6,
    first_position_rate: 0.39,
    decisive_order_flip_rate: 1,
  });
  assert.equal(w.length, 3);
  assert.match(w[1]!, /collapsed to one position: 97\.5%/);
  assert.match(w[2]!, /order-dependent: 100\.0% of the pairs of a right and a wrong step/);
  // flips between steps the verifier does not tell apart (both right, or both wrong) are no alarm
  assert.deepEqual(healthWarnings({ ...base, order_flip_rate: 0.74, decisive_order_flip_rate: 0.05 }), []);
  assert.deepEqual(
    healthWarnings({ ...base, order_flip_rate: 0.9, decisive_order_flip_rate: 0, decisive_order_pairs: 0 }),
    [],
  );
});
