// math_equal, rule by rule (docs/grading.md §2.4, rules 1–11, and §3 for the documented bugs). Every
// `toolkit` verdict is what the toolkit's own math_equal (QwenLM/Qwen2.5-Math@a45202b
// evaluation/grader.py, sympy 1.12) returned for that pair, recorded by running it; `strict` is this
// project's fixed verdict where strict mode differs (docs/grading.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mathEqual, parseDigits, pyFloat } from '../../src/eval/equal.js';
import { symbolicEqual } from '../../src/eval/symbolic.js';

const TOOLKIT: [rule: string, pred: string, ref: string, toolkit: boolean][] = [
  ['2: case-insensitive', 'Evelyn', 'evelyn', true],
  ['3: choice', 'The answer is (B).', 'B', true],
  ['4: rel_tol 1e-4', '3.14159', '3.1416', true],
  ['4: outside tol', '3.14', '3.1416', false],
  ['4: percent variants', '0.5', '50', true],
  ['4: percent x100', '50', '0.5', true],
  ['4: percent sign', '50%', '0.5', true],
  ['4: commas', '1,000', '1000', true],
  ['11: \\\\frac is no number: symbolic, rel_tol 1e-4', '0.3333', '\\frac{1}{3}', true],
  ['4: inf floats', 'inf', 'infinity', true],
  ['5: empty pred', '', '0', false],
  ['6: pmatrix vs braces', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', '{1,2}', false],
  ['7: brackets ignored', '(1,2)', '[1,2]', true],
  ['7: braces removed', '{1,2}', '1,2', true],
  ['7: interval types', '(0,9)', '[0,9)', true],
  ['8: tuple parts', '(1,\\frac{1}{2})', '(1,0.5)', true],
  ['8: tuple length', '(1,2,3)', '(1,2)', false],
  ['8: tuple wrong part', '(1,2)', '(1,3)', false],
  [
    '9: matrix cells',
    '\\begin{pmatrix}0.5&1\\\\2&3\\end{pmatrix}',
    '\\begin{pmatrix}\\frac{1}{2}&1\\\\2&3\\end{pmatrix}',
    true,
  ],
  ['10: equation sides swapped', 'y=2x+1', '2x+1=y', true],
  ['10: equation scaled', '2y=4x+2', 'y=2x+1', false],
  ['10: lhs short', 'k=5', '5', true],
  ['10: ref lhs short', '5', 'k=5', true],
  ['11: fraction forms', '\\frac{\\sqrt{2}}{2}', '\\frac{1}{\\sqrt{2}}', true],
  ['11: expansion', 'x^2+2x+1', '(x+1)^2', true],
  ['11: constant vs decimal', '\\frac{\\sqrt{3}}{2}', '0.8660', true],
  ['11: pi is a symbol', '2\\pi', '6.2832', false],
  ['11: pi symbolic', '\\frac{\\pi}{2}', '\\frac{1}{2}\\pi', true],
  ['11: sqrt of square', '\\sqrt{x^2}', 'x', false],
  ['11: implicit function', 'x(x+1)', 'x^2+x', false],
  ['11: 2(x+1)', '2(x+1)', '2x+2', true],
  ['bug #50: bare list prefix', '1,-2', '1,-3', true],
  ['bug: list order', '1,2', '2,1', false],
  ['bug: set literal', '{1,2}', '{2,1}', true],
  ['11: inequality abs', 'x<3', 'x>3', true],
  ['11: log base', '\\log_2 8', '3', true],
  ['11: binomial', '\\binom{5}{2}', '10', true],
  ['11: factorial', '5!', '120', true],
  ['11: trig identity', '\\sin^2x+\\cos^2x', '1', true],
  ['11: unknown command', '\\cdotx', 'x', false],
  ['11: different', 'x+1', 'x+2', false],
];

test('math_equal matches the toolkit on every rule', () => {
  for (const [rule, pred, ref, expected] of TOOLKIT)
    assert.equal(mathEqual(pred, ref), expected, `${rule}: ${pred} vs ${ref}`);
});

// Strict mode: the documented bugs fixed; everything else unchanged.
const STRICT: [rule: string, pred: string, ref: string, strict: boolean][] = [
  ['Qwen2.5-Math#50: bare lists compared item by item', '1,-2', '1,-3', false],
  ['bare lists are unordered answer sets', '1,-2', '-2,1', true],
  ['bare lists of different length', '1,2', '1,2,3', false],
  ['interval brackets compared', '(0,9)', '[0,9)', false],
  ['same interval', '[0,9)', '[0,9)', true],
  ['tuple vs list brackets compared', '(1,2)', '[1,2]', false],
  ['tuple with equal parts', '(1,\\frac{1}{2})', '(1,0.5)', true],
  ['unchanged: numeric branch', '0.5', '50', true],
];

test('strict mode fixes the documented bugs and keeps the rest', () => {
  for (const [rule, pred, ref, expected] of STRICT)
    assert.equal(mathEqual(pred, ref, { strict: true }), expected, rule);
  for (const [rule, pred, ref, expected] of TOOLKIT) {
    if (rule.startsWith('bug') || rule.startsWith('7: interval') || rule.startsWith('7: brackets')) continue;
    assert.equal(mathEqual(pred, ref, { strict: true }), expected, `strict changed ${rule}`);
  }
});

test("parse_digits follows Python's float()", () => {
  assert.equal(pyFloat(' 12 '), 12);
  assert.equal(pyFloat('1_000'), 1000);
  assert.equal(pyFloat('.5'), 0.5);
  assert.equal(pyFloat('5.'), 5);
  assert.equal(pyFloat('1e3'), 1000);
  assert.equal(pyFloat(''), undefined);
  assert.equal(pyFloat('0x10'), undefined); // JS Number() would say 16
  assert.equal(pyFloat('1__0'), undefined);
  assert.equal(parseDigits('12\\%'), 0.12);
  assert.equal(parseDigits('1,234.5'), 1234.5);
});

test('GSM8K golds with thousands commas equal their plain forms (docs/grading.md §1)', () => {
  assert.equal(mathEqual('118000', '118,000'), true);
  assert.equal(mathEqual('1,600', '1600'), true);
});

test('symbolic stage: readings of sympy parse_latex', () => {
  assert.equal(symbolicEqual('x+', 'x'), true); // prefix parse
  assert.equal(symbolicEqual('2^-1', '2'), true); // exponent needs braces
  assert.equal(symbolicEqual('3+3=2', 'z=1+1=2'), true); // both evaluate to False
  assert.equal(symbolicEqual('\\sqrt[3]{8}', '2'), true);
  assert.equal(symbolicEqual('e^{i\\pi}', '-1'), false); // e and pi are symbols
  assert.equal(symbolicEqual('a,b', 'a'), true);
  assert.equal(symbolicEqual('\\frac{1}{0}', '\\frac{1}{0}'), true); // structural, before evaluation
});
