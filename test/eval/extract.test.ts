// Answer extraction (docs/grading.md §2.2, "extract_answer"): each expected answer is what the toolkit's
// extract_answer followed by strip_string (its run_execute path; QwenLM/Qwen2.5-Math@a45202b
// evaluation/parser.py) returned for that text, recorded by running it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractPrediction, lastBoxed, rawAnswer } from '../../src/eval/extract.js';

const TOOLKIT: [rule: string, text: string, answer: string][] = [
  ['nested braces', 'so $\\boxed{\\frac{1}{\\sqrt{2}}}$.', '\\frac{1}{\\sqrt{2}}'],
  ['last box wins', '\\boxed{4} and \\boxed{35}', '35'],
  ['nested boxes', '\\boxed{\\boxed{7}}', '7'],
  ['box in box last', '\\boxed{1+\\boxed{2}}', '2'],
  ['empty box', '\\boxed{}', ''],
  ['box without brace', '\\boxed 5$ done', '5'],
  ['unclosed box', '\\boxed{3+4', '3+4'],
  ['fbox counts as boxed', '\\fbox{9}', '9'],
  ['text ends at boxed', 'the boxed', ''],
  ['minerva', 'Final Answer: The final answer is $42$. I hope it is correct.', '42'],
  ['the answer is', 'So the answer is 12 apples.', '12'],
  ['The answer is, untrimmed', 'The answer is: $\\frac{3}{4}$ since x', '\\frac{3}{4}sincex'],
  ['final answer is', 'My final answer is 7.', '7'],
  ['chinese', '所以答案是 5\n\n再见', '5'],
  ['last number', 'We get 3, then 1,234.5 and -7.25 finally', '-7.25'],
  ['no number', 'no digits here', ''],
  ['ki removed', '\\boxed{5кики}', '5'],
  ['leading colon', ':\\boxed{:12}', '12'],
  ['trailing slash', '\\boxed{12/}', '12'],
  ['multiline box', '\\boxed{1,\n   2}', '1,2'],
  ['box then text', '\\boxed{10\\%} of the total', '10'],
  ['dollar box', '$\\boxed{\\$5.00}$', '5'],
  ['units in box', '\\boxed{30\\text{ degrees}}', '30'],
  ['matrix', '\\boxed{\\begin{bmatrix}1 & 2\\\\ 3 & 4\\end{bmatrix}}', '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}'],
];

test('extraction matches the toolkit', () => {
  for (const [rule, text, answer] of TOOLKIT)
    assert.equal(extractPrediction(text), answer, `${rule}: ${JSON.stringify(text)}`);
});

test('nested boxes: the last "boxed" is brace-matched to its own closing brace', () => {
  assert.equal(lastBoxed('\\boxed{a{b{c}}d}e}'), 'a{b{c}}d');
  assert.equal(lastBoxed('\\boxed{\\frac{\\boxed{1}}{2}}'), '1'); // the last "boxed" is the inner one
  assert.equal(lastBoxed('no box'), undefined);
  assert.equal(lastBoxed('boxed'), '');
});

test('use_last_number=false gives an empty answer when nothing else applies', () => {
  assert.equal(rawAnswer('it is 5', false), '');
  assert.equal(rawAnswer('it is 5', true), '5');
});

// MATH golds themselves: every MATH-500 solution's last box is its `answer` field after strip_string
// (docs/grading.md §1: 499 of 500; the exception is test/algebra/101.json).
test('MATH-500 solutions extract to their answer field except algebra/101', async () => {
  const { loadBenchmark } = await import('../../src/eval/benchmarks.js');
  const { stripString } = await import('../../src/eval/normalize.js');
  const diff = loadBenchmark('math500').filter((p) => p.gold !== stripString(p.raw.answer as string));
  assert.deepEqual(
    diff.map((p) => p.raw.unique_id),
    ['test/algebra/101.json'],
  );
  assert.equal(diff[0].gold, '[-2,7]');
});
