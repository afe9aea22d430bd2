// The shipped initial model's judge (assets/models/m1, issue "[2 of 5, revised]": prove the judge before
// the loop uses it), re-checked on a small sample: held-out EFT accuracy in both orders and order
// consistency on the first 100 examples (50 pairs) of the EFT test split, and on the model's own six
// sampled candidates for 40 held-out prefixes, a judge pick that is right more often than a random pick.
// The full figures (500 EFT examples, 200 prefixes) are measured by `psrlm judge --model assets/models/m1`
// and written in the model's manifest; the thresholds here sit below them by the sampling error of the
// smaller sample, so this test fails when the shipped model or the judge path regresses, not by chance.
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

test('the shipped M1 judges held-out EFT in both orders and beats a random pick on its own candidates', { timeout: 300_000 }, async () => {
  const e = EmbeddedEngine.load(M1);
  try {
    const d = dataConfig({});
    const recs = buildRecords({ ...d, base: { problems: 0, practice: 0 }, ift: { problems: 0 }, eft: { ...d.eft, trainPairs: 0, harderPairs: 0, testPairs: 50 } }).eftTest;
    const j = await judgeReport(e, recs);
    assert.ok(j.accuracy_ab >= 0.8 && j.accuracy_ba >= 0.8, `judge accuracy AB ${j.accuracy_ab}, BA ${j.accuracy_ba}`);
    assert.ok(j.order_consistency >= 0.8, `order consistency ${j.order_consistency}`);
    const h = await judgeHealth(e, loadTemplate('compact'), heldOutPrefixes(generateProblems(d.world, 'test', 40, 1000), 7), { ...DEFAULT_HEALTH, seed: 7 });
    assert.ok(h.mixed_share > 0, 'some prefixes have mixed candidates');
    assert.ok(h.judge_pick > h.random_pick, `judge pick ${h.judge_pick} vs random ${h.random_pick}`);
  } finally {
    await e.close();
  }
});
