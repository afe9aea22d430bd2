// The shipped initial model (assets/models/m1) re-checked against the judge gate (docs/world.md, "The judge
// gate"): held-out EFT judge accuracy ≥ 85% in both orders and order consistency ≥ 90% on the first 200
// examples (100 pairs) of the EFT test split, and on the model's own six sampled candidates for 200 held-out
// prefixes, the judge's win-count pick right more often than a random pick and than a majority vote. Also
// held-out single-candidate checks of a wrong result (the check that casting out nines made possible). The
// full figures (500 EFT examples, 200 prefixes, 200 single checks) come from
// `psrlm judge --model assets/models/m1 --json` and are written in docs/world.md ("Judge figures").
//
// Measured on this sample when shipped: AB 0.99, BA 0.95, consistency 0.94 (the 500-example figures are
// 0.964 / 0.952 / 0.932); own candidates as in the 200-prefix figures (judge 0.975, random 0.508, majority
// 0.545; decisive order flips 4 of 55); single checks of a wrong result 1.0. Greedy decoding is
// deterministic; the margin between these and the gate covers relaxed-SIMD rounding differences between
// machines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { collectSingles } from '../../src/data/single.js';
import { loadTemplate, templatesDir } from '../../src/data/templates.js';
import { judgeReport, singleReport } from '../../src/measure/world.js';
import { DEFAULT_HEALTH, heldOutPrefixes, judgeHealth } from '../../src/judge/health.js';
import { generateProblems } from '../../src/world/index.js';

const M1 = path.join(templatesDir(), '..', 'assets', 'models', 'm1');

test(
  'the shipped M1 passes the judge gate on a sample: both orders, consistency, its own candidates',
  { timeout: 300_000 },
  async () => {
    const e = EmbeddedEngine.load(M1);
    try {
      const d = dataConfig({});
      const t = loadTemplate('compact');
      const recs = buildRecords({
        ...d,
        base: { problems: 0, practice: 0 },
        ift: { ...d.ift, problems: 0 },
        eft: { ...d.eft, trainPairs: 0, harderPairs: 0, singles: 0, testPairs: 100 },
      }).eftTest;
      const j = await judgeReport(e, recs);
      console.log(`shipped M1 on 200 held-out EFT examples: ${JSON.stringify(j)}`);
      assert.equal(j.parse_failures, 0);
      assert.ok(
        j.accuracy_ab >= 0.85 && j.accuracy_ba >= 0.85,
        `judge accuracy AB ${j.accuracy_ab}, BA ${j.accuracy_ba} (gate: 0.85 each)`,
      );
      assert.ok(j.order_consistency >= 0.9, `order consistency ${j.order_consistency} (gate: 0.90)`);
      const h = await judgeHealth(e, t, heldOutPrefixes(generateProblems(d.world, 'test', 200), 7), DEFAULT_HEALTH);
      console.log(`shipped M1 on its own candidates (200 prefixes): ${JSON.stringify(h)}`);
      assert.ok(h.mixed_share > 0.05, `mixed prefixes ${h.mixed_share}: too few to compare picks`);
      assert.ok(
        h.judge_beats_random && h.judge_beats_majority,
        `judge ${h.judge_pick} vs random ${h.random_pick} vs majority ${h.majority_pick}`,
      );
      assert.equal(h.parse_failure_rate, 0);
      // order flips between a right and a wrong step are judging errors (0 of 26 when measured)
      assert.ok(
        h.decisive_order_pairs >= 10 && h.decisive_order_flip_rate <= 0.1,
        `order flips on right-vs-wrong pairs: ${h.decisive_order_flip_rate} of ${h.decisive_order_pairs}`,
      );
      assert.ok(h.candidate_accuracy >= 0.8, `candidate accuracy ${h.candidate_accuracy}`);
      const singles = collectSingles(d.world, t, d.seed, 'test', 0, 100, d.budget.eft, {
        policy: d.eft.policy,
        explain: d.eft.explain,
      }).records;
      const s = await singleReport(e, singles);
      console.log(`shipped M1 on 100 held-out single checks: ${JSON.stringify(s)}`);
      assert.ok(s.accuracy_arithmetic >= 0.9, `single checks of a wrong result: ${s.accuracy_arithmetic}`);
    } finally {
      await e.close();
    }
  },
);
