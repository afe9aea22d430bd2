// The paired bootstrap (src/measure/paired.ts) and the comparisons of runs built on it (src/run/compare.ts):
// hand-computed differences and discordant counts, an interval that agrees with the normal approximation
// of the same paired differences (mean ± 1.96 · sd/√n), identical models give [0, 0], the same seed the
// same interval, and a paired interval narrower than an unpaired one when the two models agree on most
// problems. Run directories are written by hand, with a shorter evaluation paired on its prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '../../src/engine/rng.js';
import {
  formatPaired,
  pairedBootstrap,
  pairedGainDifference,
  parseResults,
  resultsString,
} from '../../src/measure/paired.js';
import { compareRuns } from '../../src/run/compare.js';

/** n results: the first `both` right for a and b, then `bOnly` right for b only, `aOnly` for a only. */
function results(n: number, both: number, bOnly: number, aOnly: number): [string, string] {
  const a: boolean[] = [],
    b: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const k = i < both ? 'both' : i < both + bOnly ? 'b' : i < both + bOnly + aOnly ? 'a' : 'none';
    a.push(k === 'both' || k === 'a');
    b.push(k === 'both' || k === 'b');
  }
  return [resultsString(a), resultsString(b)];
}

test('difference and discordant counts by hand; the interval matches the normal approximation', () => {
  const [a, b] = results(1000, 600, 100, 40);
  const p = pairedBootstrap(a, b, 7);
  assert.equal(p.n, 1000);
  assert.equal(p.b_only, 100);
  assert.equal(p.a_only, 40);
  assert.equal(p.diff, 0.06);
  // d ∈ {+1: 100, −1: 40, 0: 860}: var = 0.14 − 0.06² = 0.1364, sd of the mean √(0.1364 / 1000) = 0.011679
  const half = 1.96 * Math.sqrt(0.1364 / 1000);
  assert.ok(Math.abs(p.ci[0] - (0.06 - half)) < 0.003, `lo ${p.ci[0]} vs ${0.06 - half}`);
  assert.ok(Math.abs(p.ci[1] - (0.06 + half)) < 0.003, `hi ${p.ci[1]} vs ${0.06 + half}`);
  assert.deepEqual(pairedBootstrap(a, b, 7), p, 'the same seed draws the same interval');
  assert.notDeepEqual(pairedBootstrap(a, b, 8).ci, p.ci, 'another seed draws another');
  assert.equal(formatPaired(p).slice(0, 5), '+6.0 ');
});

test('identical models: difference 0 and interval [0, 0]; a model against itself reversed is negated', () => {
  const [a] = results(300, 120, 0, 0);
  assert.deepEqual(pairedBootstrap(a, a, 1).ci, [0, 0]);
  const [x, y] = results(300, 100, 30, 10);
  const fwd = pairedBootstrap(x, y, 3),
    back = pairedBootstrap(y, x, 3);
  assert.equal(back.diff, -fwd.diff);
  assert.deepEqual([back.b_only, back.a_only], [fwd.a_only, fwd.b_only]);
});

test('pairing narrows the interval when the models agree on most problems', () => {
  // b is a with 30 wrong answers turned right and 10 right turned wrong: accuracies 0.50 and 0.52
  const [a, b] = results(1000, 480, 40, 20);
  const paired = pairedBootstrap(a, b, 5);
  // unpaired: resample each model's results on its own
  const A = parseResults(a),
    B = parseResults(b),
    rng = new Rng(5),
    diffs: number[] = [];
  for (let s = 0; s < 4000; s++) {
    let sa = 0,
      sb = 0;
    for (let k = 0; k < 1000; k++) sa += A[rng.int(1000)] ? 1 : 0;
    for (let k = 0; k < 1000; k++) sb += B[rng.int(1000)] ? 1 : 0;
    diffs.push((sb - sa) / 1000);
  }
  diffs.sort((x, y) => x - y);
  const unpairedWidth = diffs[Math.floor(0.975 * 4000)]! - diffs[Math.floor(0.025 * 4000)]!;
  const pairedWidth = paired.ci[1] - paired.ci[0];
  assert.ok(pairedWidth < 0.5 * unpairedWidth, `paired ${pairedWidth} vs unpaired ${unpairedWidth}`);
  assert.ok(paired.ci[0] > 0, 'a 2-point gain on 60 discordant problems of 1,000 is above 0 when paired');
});

test('bad input is refused with what to do', () => {
  assert.throws(() => pairedBootstrap('0101', '010', 1), /same problems: 4 results against 3/);
  assert.throws(() => pairedBootstrap('01x', '010', 1), /character 2 is "x"/);
  assert.throws(() => pairedBootstrap('', '', 1), /no problems/);
  assert.throws(() => pairedBootstrap('01', '10', 1, 10), /samples must be an integer ≥ 100/);
});

test('runs compare M_t − M1 and PSRLM − SRLM at the last model, a shorter evaluation on its prefix', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'psrlm-paired-'));
  const write = (run: string, dir: string, model: string, test: string, harder: string) => {
    mkdirSync(path.join(root, run, dir), { recursive: true });
    writeFileSync(
      path.join(root, run, dir, 'eval.json'),
      JSON.stringify({ model, test: { correct: test }, harder: { correct: harder } }),
    );
  };
  write('p', 'baseline', 'M1', '11110000', '10000000');
  write('p', 'iter-1', 'M2', '1111', '1100'); // an intermediate model on the first 4 problems
  write('p', 'iter-2', 'M3', '11111100', '11100000');
  write('s', 'baseline', 'M1', '11100000', '10000000');
  write('s', 'iter-1', 'M2', '1110', '1000');
  write('s', 'iter-2', 'M3', '11110000', '10000001');
  const c = compareRuns(path.join(root, 'p'), path.join(root, 's'));
  assert.deepEqual(Object.keys(c.psrlm_gain), ['M2', 'M3']);
  assert.equal(c.psrlm_gain.M2!.test!.n, 4);
  assert.equal(c.psrlm_gain.M2!.test!.diff, 0);
  assert.equal(c.psrlm_gain.M2!.harder!.diff, 0.25);
  assert.equal(c.psrlm_gain.M3!.test!.diff, 0.25);
  assert.equal(c.psrlm_gain.M3!.harder!.diff, 0.25);
  assert.equal(c.srlm_gain!.M3!.harder!.diff, 0.125);
  // PSRLM's M3 − SRLM's M3: test 6 vs 4 right, harder 3 vs 2 (different problems: 2 gained, 1 lost)
  assert.equal(c.psrlm_minus_srlm_last!.test!.diff, 0.25);
  assert.deepEqual([c.psrlm_minus_srlm_last!.harder!.b_only, c.psrlm_minus_srlm_last!.harder!.a_only], [2, 1]);
  assert.equal(compareRuns(path.join(root, 'p'), null).psrlm_minus_srlm_last, null);
  // gains: PSRLM test +2 of 8 (M1 4 → M3 6), SRLM test +1 (3 → 4): +1/8; harder PSRLM +2, SRLM +1: +1/8
  assert.equal(c.psrlm_gain_minus_srlm_gain!.test!.diff, 0.125);
  assert.equal(c.psrlm_gain_minus_srlm_gain!.harder!.diff, 0.125);
  assert.equal(compareRuns(path.join(root, 'p'), null).psrlm_gain_minus_srlm_gain, null);
});

test('gain difference by hand; from one shared start it is the paired difference of the last models', () => {
  // per problem (b_last − b_first) − (a_last − a_first): +1, 0, 0, 0 → 1/4; the bootstrap mean of four draws
  // of that is k/4 with k ~ Binomial(4, 1/4), whose 2.5% and 97.5% points are 0 and 3/4
  const g = pairedGainDifference('0011', '0111', '0001', '1101', 3);
  assert.deepEqual({ ...g, ci: [g.ci[0], g.ci[1]] }, { n: 4, diff: 0.25, ci: [0, 0.75], b_only: 1, a_only: 0 });
  // a d of −2 and +2: one problem both gained (0), one only a gained and b lost (−2), one b gained, a lost (+2)
  const h = pairedGainDifference('001', '110', '010', '101', 3);
  assert.equal(h.diff, 0);
  assert.deepEqual([h.b_only, h.a_only], [1, 1]);
  const rng = new Rng(5);
  const first = resultsString(Array.from({ length: 300 }, () => rng.next() < 0.6));
  const a = resultsString(Array.from({ length: 300 }, () => rng.next() < 0.65));
  const b = resultsString(Array.from({ length: 300 }, () => rng.next() < 0.7));
  const same = pairedGainDifference(first, a, first, b, 9);
  const direct = pairedBootstrap(a, b, 9);
  assert.deepEqual([same.diff, same.ci], [direct.diff, direct.ci]);
  assert.throws(
    () => pairedGainDifference('01', '011', '01', '01', 1),
    /same problems for all four models: 2, 3, 2, 2/,
  );
});
