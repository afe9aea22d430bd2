// Benchmark loaders (docs/grading.md §1) and the property that grading is reflexive on every gold of
// every benchmark: a gold, given back as a box's content or inside a full model output, grades equal to
// itself. Sources: the benchmark files in data/benchmarks (their own golds) and the toolkit's
// parse_ground_truth rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BENCHMARKS, loadBenchmark, rawGold } from '../../src/eval/benchmarks.js';
import { gradeSync } from '../../src/eval/grade.js';
import { extractPrediction } from '../../src/eval/extract.js';
import { mathEqual } from '../../src/eval/equal.js';

const COUNTS: Record<string, number> = {
  gsm8k: 1319,
  math500: 500,
  gaokao2023en: 385,
  olympiadbench: 675,
  aime24: 30,
  amc23: 40,
  math: 5000,
};

test('each benchmark loads all its rows, sorted by idx, with a question and a gold', () => {
  for (const b of BENCHMARKS) {
    const ps = loadBenchmark(b);
    assert.equal(ps.length, COUNTS[b], b);
    assert.ok(
      ps.every((p, i) => i === 0 || ps[i - 1].idx < p.idx),
      `${b} sorted`,
    );
    assert.ok(
      ps.every((p) => p.question.length > 0),
      `${b} questions`,
    );
  }
});

test('golds are read per benchmark as the toolkit reads them', () => {
  const gsm = loadBenchmark('gsm8k');
  assert.equal(gsm[0].gold, '18'); // "#### 18"
  assert.equal(gsm.filter((p) => p.gold.includes(',')).length, 14); // commas kept (docs/grading.md §1)
  const amc = loadBenchmark('amc23');
  assert.equal(amc[0].raw.answer, 27); // a JSON float
  assert.equal(amc[0].gold, '27');
  const ol = loadBenchmark('olympiadbench');
  assert.ok(
    ol.some((p) => Array.isArray(p.raw.final_answer) && p.gold.includes(',')),
    'multi-answer golds stay joined',
  );
  const gk = loadBenchmark('gaokao2023en');
  assert.ok(gk.every((p) => !p.gold.includes('$')));
  assert.equal(rawGold('gaokao2023en', { answer: ' $\\frac{1}{2}$ ' }), '\\frac{1}{2}');
  assert.equal(rawGold('olympiadbench', { final_answer: ['$x^2$'] }), 'x^2');
  assert.throws(() => loadBenchmark('mmlu'), /unknown benchmark 'mmlu'/);
});

test('grading is reflexive on every gold of every benchmark (box content and full output)', () => {
  for (const b of BENCHMARKS) {
    for (const p of loadBenchmark(b)) {
      const raw = rawGold(p.bench, p.raw);
      assert.ok(gradeSync({ gold: p.gold, goldNormalized: true, pred: raw }), `${b} #${p.idx}: raw gold ${raw}`);
      assert.ok(mathEqual(p.gold, p.gold), `${b} #${p.idx}: gold vs itself`);
      const out = extractPrediction(`Step 1: work.\nSo the answer is $\\boxed{${raw}}$.`, { dataName: b });
      assert.ok(
        gradeSync({ gold: p.gold, goldNormalized: true, pred: out, predNormalized: true }),
        `${b} #${p.idx}: boxed ${raw}`,
      );
    }
  }
});

test('the reference solutions of GSM8K and MATH grade 100% against their golds', () => {
  for (const b of ['gsm8k', 'math500']) {
    const miss = loadBenchmark(b).filter(
      (p) =>
        !gradeSync({
          gold: p.gold,
          goldNormalized: true,
          pred: extractPrediction(p.reference ?? '', { dataName: b }),
          predNormalized: true,
        }),
    );
    assert.deepEqual(
      miss.map((p) => p.idx),
      [],
      b,
    );
  }
});
