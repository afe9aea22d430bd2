// strip_string, rule by rule (docs/grading.md §2.3, steps 1–20). Every expected value is
// the output of the toolkit's own strip_string (QwenLM/Qwen2.5-Math@a45202b evaluation/parser.py) on that
// input, recorded by running it; the rule column names the step each case exercises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripString, fixFracs, fixASlashB } from '../../src/eval/normalize.js';
import { convertWordNumber } from '../../src/eval/wordnum.js';

const TOOLKIT: [rule: string, input: string, expected: string][] = [
  ['1: trailing dots and newlines', '  12.\n.. ', '12'],
  ['1: \\! deleted', '3\\!000', '3000'],
  ['2: array to pmatrix', '\\begin{array}{cc}1&2\\end{array}', '\\begin{pmatrix}1&2\\end{pmatrix}'],
  ['2: bmatrix', '\\begin{bmatrix}1\\\\2\\end{bmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}'],
  ['3: dfrac/tfrac', '\\dfrac{1}{2}+\\tfrac{3}{4}', '\\frac{1}{2}+\\frac{3}{4}'],
  ['3: relations', 'x\\geq 2, y\\leq 3, z\\neq 1', 'x\\ge2,y\\le3,z\\ne1'],
  ['4: left/right and \\{', '\\left\\{1,2\\right\\}', '{1,2}'],
  ['5: trailing \\text unit', '10\\text{ cm}', '10'],
  ['5: \\text alone kept', '\\text{Evelyn}', 'Evelyn'],
  ['5: first \\text to end', '5\\text{ cm} + 2\\text{ m}', '5'],
  ['6: unit words', '28 percent', '28'],
  ['6: not a whole word', '28 pct', '28pct'],
  ['6: single-letter unit', '11a+c', '11a+'],
  ['6: degrees', '30 degrees', '30'],
  ['6: dollars in text', '\\$ 5', '5'],
  ['6: unit makes empty: kept', 'm', 'm'],
  ['7: circ', '90^\\circ', '90'],
  ['7: circ braces', '90^{\\circ}', '90'],
  ['7: \\( \\)', '\\(x+1\\)', 'x+1'],
  ['8: word number', 'five', '5'],
  ['8: word number lenient', 'two ways', '2'],
  ['8: digits reprinted', '007', '7'],
  ['8: point', 'point', '0'],
  ['8: one point five', 'one point five', '1.5'],
  ['9: \\text{} unwrap', '\\text{(A)}', '(A)'],
  ['9: x= removed', 'x=5', '5'],
  ['9: x\\in', 'x\\in[1,2]', '[1,2]'],
  ['10: emptyset', '\\emptyset', '{}'],
  ['10: all reals', '(-\\infty,\\infty)', '\\mathbb{R}'],
  ['11: percent', '50\\%', '50'],
  ['11: leading dot in braces', '\\frac{.5}{2}', '\\frac{0.5}{2}'],
  ['11: bracket unwrap never fires', '{5}', '{5}'],
  ['12: infinity', 'infinity', '\\infty'],
  ['12: inf', '(-inf, 3)', '(-\\infty,3)'],
  ['13: and everywhere', '1 and 2', '12'],
  ['13: and inside words', 'candy', 'cy'],
  ['13: mathbf', '\\mathbf{5}', '{5}'],
  ['13: mbox', '5\\mbox{ cm}', '5'],
  ['14: j to i', '3+2j', '3+2i'],
  ['14: j kept when i present', 'i+j', 'i+j'],
  ['15: trailing .0', '27.0', '27'],
  ['15: .0 before letter', '2.0x', '2x'],
  ['15: .50 kept', '2.50', '2.50'],
  ['16: leading dot', '0.5', '0.5'],
  ['17: k= prefix', 'k=7', '7'],
  ['17: long lhs kept', 'abc=7', 'abc=7'],
  ['18: sqrt fix', '\\sqrt3+\\sqrt{2}', '\\sqrt{3}+\\sqrt{2}'],
  ['18: spaces', '1 + 2', '1+2'],
  ['19: frac fix', '\\frac12', '\\frac{1}{2}'],
  ['19: frac1{72}', '\\frac1{72}', '\\frac{1}{72}'],
  ['19: frac too short', '\\frac1', '\\frac1'],
  ['20: a/b', '3/4', '\\frac{3}{4}'],
  ['20: negative a/b', '-3/4', '\\frac{-3}{4}'],
  ['20: not ints', '3/x', '3/x'],
  ['20: sqrt', '\\sqrt{2}/2', '\\frac{\\sqrt{2}}{2}'],
  ['20: leading zero', '03/4', '03/4'],
];

test('strip_string matches the toolkit on every rule', () => {
  for (const [rule, input, expected] of TOOLKIT)
    assert.equal(stripString(input), expected, `${rule}: ${JSON.stringify(input)}`);
});

// MATH golds (hendrycks/math modeling/math_equivalence_test.py inputs): the normalisations it tests.
test('hendrycks is_equiv normalisations hold', () => {
  assert.equal(stripString('\\tfrac83'), stripString('\\frac{8}{3}'));
  assert.equal(stripString('10\\sqrt{3} + \\sqrt4'), stripString('10\\sqrt3 + \\sqrt{4}'));
  assert.equal(stripString('0.1'), stripString('.1'));
  assert.equal(stripString('\\left(x-2\\right)\\left(x+2\\right)'), stripString('(x-2)(x+2)'));
});

test('strict mode fixes the single-letter units and the "and" deletion (docs/grading.md §3)', () => {
  assert.equal(stripString('11a+c', { strict: true }), '11a+c');
  assert.equal(stripString('candy', { strict: true }), 'candy');
  assert.equal(stripString('1 and 2', { strict: true }), '12'); // the word itself still goes
  assert.equal(stripString('28 percent', { strict: true }), '28'); // real units still go
});

test('skipUnit keeps unit words (carp_en, minerva_math)', () => {
  assert.equal(stripString('28 percent', { skipUnit: true }), '28percent');
});

test('_fix_fracs and _fix_a_slash_b edge cases (toolkit parser.py behaviour)', () => {
  assert.equal(fixFracs('\\frac{1}{2}'), '\\frac{1}{2}');
  assert.equal(fixFracs('\\frac1b+\\frac{2}{3}'), '\\frac{1}{b}+\\frac{2}{3}');
  assert.equal(fixFracs('\\frac1'), '\\frac1');
  assert.equal(fixASlashB('1/2/3'), '1/2/3');
  assert.equal(fixASlashB('+3/4'), '+3/4');
});

// word2number's documented leniency, which strip_string inherits (word_to_num on the whole answer).
test('word numbers follow word2number', () => {
  const cases: [string, string][] = [
    ['twenty three', '23'],
    ['one hundred five', '105'],
    ['two thousand twenty four', '2024'],
    ['one and two', '3'],
    ['seventy-five', '75'],
    ['three point one four', '3.14'],
    ['no number here', 'no number here'],
    ['thousand thousand', 'thousand thousand'],
    ['0012', '12'],
    ['²', '²'],
  ];
  for (const [input, expected] of cases) assert.equal(convertWordNumber(input), expected, input);
});
