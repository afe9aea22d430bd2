// The shipped initial model (assets/models/m1, issue "[2 of 5, revised]") re-checked on a small sample:
// held-out EFT judge accuracy in both orders and order consistency on the first 100 examples (50 pairs) of
// the EFT test split, and on the model's own six sampled candidates for 40 held-out prefixes, candidate
// accuracy and parse failures. The full figures (500 EFT examples, 200 prefixes) are measured by
// `psrlm judge --model assets/models/m1` and written in docs/world.md ("Judge figures").
//
// The shipped M1 does NOT pass the judge gate (≥ 85% in both orders, ≥ 90% consistency, its pick on
// its own candidates above random): measured 88.8% / 76.8%, consistency 81.6%, own-candidate pick equal to
// random. So the bounds here are regression bounds a few points under this sample's measured values
// (AB 0.88, BA 0.86, consistency 0.86, candidate accuracy 0.88), not the gate: the test fails when the
// shipped model or the judge path regresses, not by chance (greedy decoding is deterministic; the margin
// covers relaxed-SIMD rounding differences between machines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { loadTemplate, templatesDir } from '../../src/data/templates.js';
import { judgeReport } from '../../src/eval/world.js';
import { DEFAULT_HEALTH, heldOutPrefixes, judgeHealth } from '../../src/judge/health.js';
import { generateProblems } from '../../src/world/index.js';

const M1 = path.join(templatesDir(), '..', 'assets', 'models', 'm1');

test('the shipped M1 judges held-out EFT in both orders as measured, and solves its own prefixes', { timeout: 300_000 }, async () => {
  const e = EmbeddedEngine.load(M1);
  try {
    const d = dataConfig({});
    const recs = buildRecords({ ...d, base: { problems: 0, practice: 0 }, ift: { problems: 0 }, eft: { ...d.eft, trainPairs: 0, harderPairs: 0, testPairs: 50 } }).eftTest;
    const j = await judgeReport(e, recs);
    console.log(`shipped M1 on 100 held-out EFT examples: ${JSON.stringify(j)}`);
    assert.equal(j.parse_failures, 0);
    assert.ok(j.accuracy_ab >= 0.8 && j.accuracy_ba >= 0.78, `judge accuracy AB ${j.accuracy_ab}, BA ${j.accuracy_ba}`);
    assert.ok(j.order_consistency >= 0.78, `order consistency ${j.order_consistency}`);
    const h = await judgeHealth(e, loadTemplate('compact'), heldOutPrefixes(generateProblems(d.world, 'test', 40, 1000), 7), { ...DEFAULT_HEALTH, seed: 7 });
    console.log(`shipped M1 on its own candidates (40 prefixes): ${JSON.stringify(h)}`);
    assert.ok(h.candidate_accuracy >= 0.8, `candidate accuracy ${h.candidate_accuracy}`);
    assert.equal(h.parse_failure_rate, 0);
  } finally {
    await e.close();
  }
});
