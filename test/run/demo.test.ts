// `psrlm demo` without an initial model fails with a message that says how to build it; its --json line
// has its documented shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoSummary, demoTable, pairedTable, run, waysLines } from '../../src/cli/demo.js';

test('demo without an initial model says to run psrlm pretrain', async () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'psrlm-models-'));
  const errs: string[] = [];
  const orig = console.error;
  console.error = (s: string) => {
    errs.push(s);
  };
  try {
    assert.equal(await run(['--models', empty]), 1);
  } finally {
    console.error = orig;
    rmSync(empty, { recursive: true, force: true });
  }
  assert.match(errs.join('\n'), /no initial model at .*psrlm-models-.*m1.*psrlm pretrain --out/s);
});

test(
  'demo --json summary: accuracies per model (M0 from its manifest), judge accuracy and health, both ' + 'methods',
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-demo-'));
    try {
      writeFileSync(
        path.join(dir, 'summary.json'),
        JSON.stringify({
          models: [
            { model: 'M1', test_accuracy: 0.1, harder_accuracy: 0.02, judge_accuracy: 0.56 },
            { model: 'M2', test_accuracy: 0.2, harder_accuracy: 0.03, judge_accuracy: 0.6, next_step_accuracy: 0.93 },
          ],
        }),
      );
      mkdirSync(path.join(dir, 'iter-1'));
      writeFileSync(
        path.join(dir, 'iter-1', 'health.json'),
        JSON.stringify({ model: 'M1', label: 'ok', warnings: [], report: { judge_pick: 0.7 } }),
      );
      mkdirSync(path.join(dir, 'm0'));
      writeFileSync(
        path.join(dir, 'm0', 'manifest.json'),
        JSON.stringify({ report: { test: { accuracy: 0 }, harder: { accuracy: 0 } } }),
      );
      const s = demoSummary(dir, null, path.join(dir, 'm0'), 12.34);
      assert.deepEqual(s, {
        psrlm: { M0: 0, M1: 0.1, M2: 0.2 },
        srlm: null,
        judge_accuracy: { M1: 0.56, M2: 0.6 },
        srlm_scorer_accuracy: null,
        judge_health: { M1: { label: 'ok', warnings: [], judge_pick: 0.7 } },
        harder: { psrlm: { M0: 0, M1: 0.02, M2: 0.03 }, srlm: null },
        next_step: { psrlm: { M2: 0.93 }, srlm: null },
        pairs: { psrlm: [], srlm: null },
        srlm_sampling: null,
        ci: { psrlm_m4_minus_m1: null, psrlm_minus_srlm_m4: null, psrlm_gain_minus_srlm_gain: null },
        paired: { psrlm: {}, srlm: null, psrlm_minus_srlm_last: null, psrlm_gain_minus_srlm_gain: null },
        ways: { psrlm: {}, srlm: null },
        wall_s: 12.3,
      });
      const sd = path.join(dir, 'srlm');
      mkdirSync(sd);
      writeFileSync(
        path.join(sd, 'summary.json'),
        JSON.stringify({
          models: [
            { model: 'M1', test_accuracy: 0.12, harder_accuracy: 0.01, judge_accuracy: 0.7 },
            { model: 'M2', test_accuracy: 0.15, harder_accuracy: 0.02, judge_accuracy: 0.72, next_step_accuracy: 0.9 },
          ],
        }),
      );
      // pairs per iteration of both methods; SRLM's ties and unparsed self-scores
      writeFileSync(path.join(dir, 'iter-1', 'pairs.json'), JSON.stringify({ stats: { kept: 9 } }));
      mkdirSync(path.join(sd, 'iter-1'));
      writeFileSync(
        path.join(sd, 'iter-1', 'pairs.json'),
        JSON.stringify({ stats: { kept: 3, ties: 5, same_sides: 4 } }),
      );
      writeFileSync(path.join(sd, 'iter-1', 'sample.json'), JSON.stringify({ parse_failure_rate: 0.123456 }));
      const both = demoSummary(dir, sd, path.join(dir, 'm0'), 1);
      assert.deepEqual(both.pairs, { psrlm: [9], srlm: [3] });
      assert.deepEqual(both.srlm_sampling, { ties: [5], same_text: [4], unparsed_scores: [0.1235] });
      assert.ok(
        demoTable(both).includes(
          'pairs per iteration: PSRLM 9; SRLM 3\nSRLM questions without a pair: tied means 5, best and worst the ' +
            'same text 4; self-scores unparsed 12.3%',
        ),
      );
      assert.deepEqual(both.srlm, { M0: 0, M1: 0.12, M2: 0.15 });
      assert.deepEqual(both.srlm_scorer_accuracy, { M1: 0.7, M2: 0.72 });
      assert.deepEqual((both.harder as { srlm: unknown }).srlm, { M0: 0, M1: 0.01, M2: 0.02 });
      const table = demoTable(both);
      assert.deepEqual(both.next_step, { psrlm: { M2: 0.93 }, srlm: { M2: 0.9 } });
      assert.match(table, /\| M2 \| 20\.0 \| 15\.0 \| 3\.0 \| 2\.0 \| 93\.0 \| 90\.0 \| 60\.0 \| 72\.0 \|/);
      assert.match(table, /\| M1 \| 10\.0 \| 12\.0 \| 2\.0 \| 1\.0 \| – \| – \| 56\.0 \| 70\.0 \|/);
      // per-problem results make paired intervals: M2 − M1 and PSRLM − SRLM on the same problems
      const evalFile = (run: string, sub: string, model: string, test: string, harder: string) => {
        mkdirSync(path.join(run, sub), { recursive: true });
        writeFileSync(
          path.join(run, sub, 'eval.json'),
          JSON.stringify({ model, test: { correct: test }, harder: { correct: harder } }),
        );
      };
      evalFile(dir, 'baseline', 'M1', '1100', '0000');
      evalFile(dir, 'iter-1', 'M2', '1110', '0000');
      evalFile(sd, 'baseline', 'M1', '1100', '0000');
      evalFile(sd, 'iter-1', 'M2', '1100', '1000');
      const withCi = demoSummary(dir, sd, path.join(dir, 'm0'), 1);
      // one problem gained of 4: the bootstrap's difference is k/4 with k ~ Binomial(4, 1/4), whose 2.5% and
      // 97.5% points are 0 and 3/4; harder: nothing changed
      // gains: PSRLM test +1, SRLM 0 (gain difference +1/4); harder PSRLM 0, SRLM +1 (−1/4)
      assert.deepEqual(withCi.ci, {
        psrlm_m4_minus_m1: { test: [0, 0.75], harder: [0, 0] },
        psrlm_minus_srlm_m4: { test: [0, 0.75], harder: [-0.75, 0] },
        psrlm_gain_minus_srlm_gain: { test: [0, 0.75], harder: [-0.75, 0] },
      });
      const pr = withCi.paired as { psrlm: Record<string, { test: { diff: number; b_only: number } }> };
      assert.deepEqual([pr.psrlm.M2!.test.diff, pr.psrlm.M2!.test.b_only], [0.25, 1]);
      assert.match(pairedTable(withCi), /\| PSRLM M2 − M1 \| \+25\.0 \[\+0\.0, \+75\.0\] \(n 4; 1 gained, 0 lost\)/);
      // sums and differences by the way each model wrote them ([wrong, written] per way, from eval.json)
      const waysFile = (sub: string, model: string, test: object, harder: object) =>
        writeFileSync(
          path.join(dir, sub, 'eval.json'),
          JSON.stringify({ model, test: { ways: test }, harder: { ways: harder } }),
        );
      waysFile('baseline', 'M1', { one_line: [5, 20], written: [0, 0] }, { one_line: [3, 10], written: [0, 0] });
      waysFile('iter-1', 'M2', { one_line: [2, 8], written: [1, 24] }, { one_line: [0, 0], written: [0, 0] });
      const w = demoSummary(dir, sd, path.join(dir, 'm0'), 1);
      assert.deepEqual((w.ways as { psrlm: unknown }).psrlm, {
        M1: {
          test: { written: 0, error_one_line: 0.25, error_written: null },
          harder: { written: 0, error_one_line: 0.3, error_written: null },
        },
        M2: {
          test: { written: 0.75, error_one_line: 0.25, error_written: 0.0417 },
          harder: { written: 0, error_one_line: null, error_written: null },
        },
      });
      assert.deepEqual(waysLines(w), [
        'PSRLM sums and differences written out in columns (test; error one line / written): M1 0.0% (25.0% / –), ' +
          'M2 75.0% (25.0% / 4.2%)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
