// The SRLM baseline (src/run/srlm-sampling.ts, src/run/srlm.ts): best vs worst by mean self-score with
// ties dropped, the measurement summary against hand-computed figures, and a tiny run through the loop's
// stages that writes every artifact, trains on whole-solution pairs with EOS on both sides, and resumes
// from a torn samples file to the same artifacts as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTemplate, renderStepPrompt } from '../../src/data/templates.js';
import { resolveConfig } from '../../src/run/config.js';
import { runLoop } from '../../src/run/loop.js';
import { srlmPairs, srlmSample, summarizeSrlm, worldAnswers, type SrlmRecord } from '../../src/run/srlm-sampling.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { generateProblem, worldConfig } from '../../src/world/index.js';
import { tinySrlmM1 } from './tiny.js';
import { files, measuredOnly } from './artifacts.js';

const t = loadTemplate('compact');
const sol = (text: string, scores: Array<number | null>, ok: boolean) => {
  const v = scores.filter((x): x is number => x !== null);
  return {
    text,
    finish_reason: 'eos',
    scores,
    mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null,
    measure: { answer_ok: ok },
  };
};

test('pairs: best vs worst by mean score, ties and unscorable questions dropped', () => {
  const recs: SrlmRecord[] = [
    {
      index: 1,
      problem: 'P1',
      solutions: [
        sol('a \\boxed{1}', [5, 4, 5], true),
        sol('b \\boxed{2}', [1, 2, 0], false),
        sol('c \\boxed{1}', [3, 3, 3], true),
      ],
    },
    // tie (means 2 and 2)
    { index: 2, problem: 'P2', solutions: [sol('a', [2, 2, 2], false), sol('b', [1, 3, 2], false)] },
    // one scorable
    { index: 3, problem: 'P3', solutions: [sol('a', [null, null, null], false), sol('b', [4, 4, 4], true)] },
  ];
  const { pairs, stats } = srlmPairs(t, recs);
  assert.deepEqual(stats, { questions: 3, found: 2, kept: 1, ties: 1, unscored: 1, same_sides: 0 });
  assert.equal(pairs[0]!.chosen, 'a \\boxed{1}');
  assert.equal(pairs[0]!.rejected, 'b \\boxed{2}');
  assert.equal(pairs[0]!.prompt, renderStepPrompt(t, 'P1'));
  assert.ok(pairs[0]!.chosen_final && pairs[0]!.rejected_final, 'whole solutions: EOS on both sides');
  const s = summarizeSrlm(recs);
  // P1 is the only mixed question: top-scored (a) right; random 2/3; majority: answer 1 twice (right)
  assert.equal(s.measure.mixed_questions, 2); // P1 and P3 are mixed
  // P3: top-scored b (right); random 1/2; majority: '' once and '' once -> first ('a', wrong)
  assert.equal(s.measure.best_ok, 1);
  assert.ok(Math.abs(s.measure.random_ok - (2 / 3 + 1 / 2) / 2) < 1e-12);
  assert.equal(s.measure.majority_ok, 0.5);
  assert.equal(s.parse_failure_rate, 3 / 21);
});

test(
  'a tiny SRLM run writes every artifact, and resumes from a torn samples file to the same artifacts',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-srlm-'));
    try {
      const m1 = path.join(dir, 'm1-srlm');
      await tinySrlmM1(m1);
      const cfg = resolveConfig({
        method: 'srlm',
        seed: 5,
        model: m1,
        iterations: 1,
        problems: [6],
        srlm: { samples: 3, score_samples: 2, max_tokens: 96, score_max_tokens: 12 },
        search: { batch_problems: 2 },
        dpo: { batch_size: 4, lr: 0.001 },
        eval: { problems: 2, judge: 2, max_tokens: 24 },
        threads: 1,
      });
      const quiet = { log: () => {}, progress: false };
      const A = path.join(dir, 'A'),
        B = path.join(dir, 'B');
      await runLoop(cfg, A, quiet);
      for (const f of [
        'manifest.json',
        'baseline/eval.json',
        'iter-1/samples.jsonl',
        'iter-1/sample.json',
        'iter-1/pairs.jsonl',
        'iter-1/pairs.trl.jsonl',
        'iter-1/dpo.json',
        'iter-1/eval.json',
        'iter-1/model/model.safetensors',
        'summary.json',
        'report.md',
      ]) {
        assert.ok(existsSync(path.join(A, f)), `${f} missing`);
      }
      const pairs = readFileSync(path.join(A, 'iter-1', 'pairs.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      assert.ok(pairs.length > 0, 'the run made pairs (not vacuous)');
      for (const p of pairs) assert.ok(p.chosen_final && p.rejected_final);
      assert.ok(JSON.parse(readFileSync(path.join(A, 'iter-1', 'dpo.json'), 'utf8')).steps > 0);
      assert.match(readFileSync(path.join(A, 'report.md'), 'utf8'), /# SRLM baseline run/);

      // interrupted: B runs until samples exist, then loses its later stages and gets a torn last line
      await runLoop(cfg, B, quiet);
      const samples = path.join(B, 'iter-1', 'samples.jsonl');
      const first = readFileSync(samples, 'utf8').split('\n')[0]!;
      writeFileSync(samples, first + '\n' + '{"index": 3, "probl');
      for (const d of [
        'iter-1/done',
        'iter-1/model',
        'iter-1/pairs.jsonl',
        'iter-1/sample.json',
        'summary.json',
        'report.md',
      ])
        rmSync(path.join(B, d), { recursive: true, force: true });
      await runLoop(cfg, B, quiet);
      // a scoring prompt longer than the context is not asked: its scores are null, the run goes on
      const e = EmbeddedEngine.load(m1, { threads: 1 });
      try {
        const items = [{ index: 9, problem: generateProblem(worldConfig(), 'train', 300_009) }];
        const r = await srlmSample(e, t, items, { ...cfg.srlm }, { seed: 1, iteration: 1 }, 64, worldAnswers);
        assert.equal(r[0]!.solutions.length, 3);
        for (const x of r[0]!.solutions) assert.deepEqual(x.scores, [null, null]);
      } finally {
        await e.close();
      }
      const fa = files(A).filter(measuredOnly),
        fb = files(B).filter(measuredOnly);
      assert.deepEqual(fb, fa);
      for (const f of fa)
        assert.ok(readFileSync(path.join(A, f)).equals(readFileSync(path.join(B, f))), `${f} differs`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
