// Questions from a file (src/data/questions.ts): the config section is strict; each format reads its
// question and gold; a copy of a benchmark question (other spacing, case, apostrophe) is refused and
// counted per benchmark, a repeated question and a row without gold are left out and counted; the draw on
// the shipped GSM8K train set is deterministic, disjoint across iterations and fails early when too small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  drawQuestions,
  loadQuestions,
  normaliseQuestion,
  parseQuestionsConfig,
  QuestionsSchema,
  type QuestionsConfig,
} from '../../src/data/questions.js';
import { ROOT } from '../reference/env.js';

const FIX = path.join(ROOT, 'test', 'fixtures', 'questions');
const load = (cfg: QuestionsConfig) => loadQuestions(cfg, { relativeTo: FIX });

test('the questions section: unknown keys and wrong types are errors that name the key', () => {
  assert.deepEqual(parseQuestionsConfig({ file: 'q.jsonl', format: 'gsm8k' }), { file: 'q.jsonl', format: 'gsm8k' });
  assert.throws(
    () => parseQuestionsConfig({ file: 'q.jsonl', format: 'gsm8k', answer_feild: 'a' }),
    /questions: unknown key 'answer_feild' \(allowed: file, format, question_field, answer_field\)/,
  );
  assert.throws(() => parseQuestionsConfig({ file: 'q.jsonl', format: 'gsm8k', a: 1, b: 2 }), /unknown keys 'a', 'b'/);
  assert.throws(
    () => parseQuestionsConfig({ file: 3, format: 'gsm8k' }),
    /questions\.file: .*expected string, received number/,
  );
  assert.throws(
    () => parseQuestionsConfig({ file: 'q.jsonl', format: 'csv' }),
    /questions\.format: .*"numina"\|"gsm8k"\|"math"\|"jsonl"/,
  );
  assert.throws(
    () => parseQuestionsConfig({ file: 'q.jsonl', format: 'jsonl', question_field: '' }),
    /questions\.question_field:/,
  );
  assert.throws(() => parseQuestionsConfig({ format: 'math' }), /questions\.file:/);
  assert.throws(() => parseQuestionsConfig('q.jsonl'), /questions: .*expected object/);
  // inside a larger config the same message comes with the section's path
  const r = QuestionsSchema.optional().safeParse({ file: 'x', format: 'math', fiel: 'y' });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0]!.message, /unknown key 'fiel'/);
});

test('normalisation: spacing, case, punctuation and markup spacing; not numbers or words', () => {
  assert.equal(normaliseQuestion('  Janet\u2019s ducks lay 16 eggs.\nHow much?'), 'janet s ducks lay 16 eggs how much');
  assert.equal(
    normaliseQuestion("Janet's ducks  lay 16 eggs. How MUCH?"),
    normaliseQuestion('Janet\u2019s ducks lay 16 eggs.\nHow much?'),
  );
  assert.equal(normaliseQuestion('$f(-2) +f(-1)$'), normaliseQuestion('$f(-2)+f(-1)$'));
  assert.notEqual(normaliseQuestion('lay 16 eggs'), normaliseQuestion('lay 17 eggs'));
  assert.equal(normaliseQuestion('ｘ＝１'), 'x 1'); // NFKC folds full-width forms
});

test(
  'GSM8K: gold after ####; a benchmark copy refused, a repeat and a gold-less row left out, all ' + 'counted',
  async () => {
    const { questions, report } = await load({ file: 'gsm8k.jsonl', format: 'gsm8k' });
    assert.deepEqual(report, {
      file: 'gsm8k.jsonl',
      format: 'gsm8k',
      rows: 6,
      usable: 3,
      contaminated: 1,
      contaminated_by: { gsm8k: 1 },
      contaminated_rows: [{ index: 2, benchmarks: ['gsm8k'] }],
      duplicates: 1,
      no_answer: 1,
    });
    assert.deepEqual(
      questions.map((q) => [q.index, q.id, q.gold]),
      [
        [0, 'row 0', '72'],
        [1, 'row 1', '10'],
        [4, 'row 4', '5'],
      ],
    );
    assert.ok(questions[0]!.question.startsWith('Natalia sold clips to 48 of her friends'));
  },
);

test('MATH, NuminaMath and plain JSONL: their questions and golds; a MATH-500 copy is refused', async () => {
  const m = await load({ file: 'math.jsonl', format: 'math' });
  assert.deepEqual(
    m.questions.map((q) => [q.index, q.id, q.gold]),
    [
      [0, 'a', '2'],
      [1, 'row 1', '\\frac{1}{2}'],
    ],
  );
  assert.deepEqual(
    [m.report.contaminated, m.report.contaminated_by, m.report.no_answer],
    [1, { math500: 1, math: 1 }, 1],
  );
  // answer_field named: that field only, no fall-back to the solution's box
  const only = await load({ file: 'math.jsonl', format: 'math', answer_field: 'answer' });
  assert.deepEqual([only.questions.map((q) => q.index), only.report.no_answer], [[0], 2]);
  const n = await load({ file: 'numina.jsonl', format: 'numina' });
  assert.deepEqual(
    n.questions.map((q) => [q.index, q.gold]),
    [
      [0, '12'],
      [2, '5'],
    ],
  );
  assert.equal(n.report.no_answer, 1); // the proof
  const c = await load({ file: 'custom.jsonl', format: 'jsonl', question_field: 'q', answer_field: 'a' });
  assert.deepEqual(
    c.questions.map((q) => [q.id, q.question, q.gold]),
    [
      ['c1', 'How many legs do 3 cats have?', '12'],
      ['c2', 'What is half of 9?', '4.5'],
    ],
  );
  assert.equal(c.report.no_answer, 1);
});

test('bad files: a clear error naming the file and line', async () => {
  await assert.rejects(
    load({ file: 'custom.jsonl', format: 'jsonl' }),
    /custom\.jsonl:1: no question text in field 'question' \(format jsonl\); set questions\.question_field/,
  );
  await assert.rejects(load({ file: 'missing.jsonl', format: 'gsm8k' }), /questions\.file: .*missing\.jsonl not found/);
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-q-'));
  try {
    writeFileSync(path.join(dir, 'bad.jsonl'), '{"question": "a", "answer": "#### 1"}\n\n{"question": \n');
    await assert.rejects(
      loadQuestions({ file: 'bad.jsonl', format: 'gsm8k' }, { relativeTo: dir }),
      /bad\.jsonl:3: not valid JSON/,
    );
    writeFileSync(path.join(dir, 'arr.jsonl'), '[1, 2]\n');
    await assert.rejects(
      loadQuestions({ file: 'arr.jsonl', format: 'gsm8k' }, { relativeTo: dir }),
      /arr\.jsonl:1: not a JSON object/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the draw on GSM8K train: the paper's counts, deterministic by seed, disjoint across iterations", async () => {
  const { questions: pool, report } = await loadQuestions(
    { file: 'data/train/gsm8k_train.jsonl', format: 'gsm8k' },
    { relativeTo: ROOT },
  );
  assert.deepEqual(
    [report.rows, report.usable, report.contaminated, report.duplicates, report.no_answer],
    [7473, 7473, 0, 0, 0],
  );
  const counts = [400, 800, 1200];
  const draws = [1, 2, 3].map((t) => drawQuestions(pool, counts, 1, t));
  assert.deepEqual(
    draws.map((d) => d.length),
    counts,
  );
  assert.deepEqual(
    [1, 2, 3].map((t) => drawQuestions(pool, counts, 1, t)),
    draws,
    'same seed, same questions',
  );
  const all = draws.flat();
  assert.equal(new Set(all.map((q) => q.index)).size, 2400, 'no question twice');
  assert.equal(new Set(all.map((q) => normaliseQuestion(q.question))).size, 2400);
  for (const d of draws)
    assert.deepEqual(
      d.map((q) => q.index),
      d.map((q) => q.index).sort((a, b) => a - b),
    );
  // a draw, not the file's head: spread over the file
  assert.ok(draws[0]![0]!.index < 100 && draws[0]![399]!.index > 7000);
  // another seed draws other questions; the pool's order in memory does not matter
  assert.notDeepEqual(drawQuestions(pool, counts, 2, 1), draws[0]);
  assert.deepEqual(drawQuestions(pool.slice().reverse(), counts, 1, 2), draws[1]);
  // iteration t depends on the counts up to t only
  assert.deepEqual(drawQuestions(pool, [400, 800, 5], 1, 2), draws[1]);
  assert.throws(
    () => drawQuestions(pool, [4000, 4000], 1, 1),
    /the iterations need 8000 questions \(4000 \+ 4000\) but the file has 7473 usable ones/,
  );
  assert.throws(() => drawQuestions(pool, counts, 1, 4), /iteration 4 is not in 1\.\.3/);
  assert.throws(() => drawQuestions(pool, [400, 0], 1, 1), /counts must be positive integers/);
});
