// String normalisation of answers: the toolkit's `strip_string` (docs/grading.md §2.3, steps 1–20, whose
// order matters). Gold answers and extracted predictions both pass through it, so any
// drift here changes verdicts on whole benchmarks; the steps run in the toolkit's order, with its regexes'
// semantics (Python `re`, Unicode-aware \w and \d), including its documented quirks:
//   - single-letter "units" (a, c, s, t, ...) are deleted where they stand alone ("11a+c" -> "11a+");
//   - every substring "and" is deleted, inside words too ("candy" -> "cy");
//   - the bracket-unwrapping check never fires (isalnum on a string that includes the brackets).
// `strict: true` fixes the first two (docs/grading.md §3, which has the full list).
import { convertWordNumber } from './wordnum.js';

export interface NormalizeOptions {
  /** Skip unit-word removal (the toolkit does this for carp_en and minerva_math only). */
  skipUnit?: boolean;
  /** Fix the toolkit's documented bugs instead of reproducing them. */
  strict?: boolean;
}

// Unit words, mainly from MathQA, as the toolkit lists them; each also gets an "s" plural. They are regex
// sources, not literals (" m east", "q ." and "s ." contain spaces and a wildcard dot), exactly as there.
const UNIT_TEXTS_BASE = [
  'east',
  'degree',
  'mph',
  'kmph',
  'ft',
  'm sqaure',
  ' m east',
  'sq m',
  'deg',
  'mile',
  'q .',
  'monkey',
  'prime',
  'ratio',
  'profit of rs',
  'rd',
  'o',
  'gm',
  'p . m',
  'lb',
  'tile',
  'per',
  'dm',
  'lt',
  'gain',
  'ab',
  'way',
  'west',
  'a .',
  'b .',
  'c .',
  'd .',
  'e .',
  'f .',
  'g .',
  'h .',
  't',
  'a',
  'h',
  'no change',
  'men',
  'soldier',
  'pie',
  'bc',
  'excess',
  'st',
  'inches',
  'noon',
  'percent',
  'by',
  'gal',
  'kmh',
  'c',
  'acre',
  'rise',
  'a . m',
  'th',
  'π r 2',
  'sq',
  'mark',
  'l',
  'toy',
  'coin',
  'sq . m',
  'gallon',
  '° f',
  'profit',
  'minw',
  'yr',
  'women',
  'feet',
  'am',
  'pm',
  'hr',
  'cu cm',
  'square',
  'v â € ™',
  'are',
  'rupee',
  'rounds',
  'cubic',
  'cc',
  'mtr',
  's',
  'ohm',
  'number',
  'kmph',
  'day',
  'hour',
  'minute',
  'min',
  'second',
  'man',
  'woman',
  'sec',
  'cube',
  'mt',
  'sq inch',
  'mp',
  '∏ cm ³',
  'hectare',
  'more',
  'sec',
  'unit',
  'cu . m',
  'cm 2',
  'rs .',
  'rs',
  'kg',
  'g',
  'month',
  'km',
  'm',
  'cm',
  'mm',
  'apple',
  'liter',
  'loss',
  'yard',
  'pure',
  'year',
  'increase',
  'decrease',
  'd',
  'less',
  'Surface',
  'litre',
  'pi sq m',
  's .',
  'metre',
  'meter',
  'inch',
];
export const UNIT_TEXTS: readonly string[] = [...UNIT_TEXTS_BASE, ...UNIT_TEXTS_BASE.map((t) => t + 's')];

// Python's \W is "not a Unicode letter, digit or underscore".
const W = '[^\\p{L}\\p{N}_]';
function unitRegex(unit: string): RegExp {
  return new RegExp(`(^|${W})${unit}($|${W})`, 'gu');
}
const UNIT_RES = UNIT_TEXTS.map(unitRegex);
// Strict mode keeps the list but drops the entries that delete single letters (variables) and the
// two-letter ones that are ordinary variable names in answers ("ab", "bc", "am", "pm", ...).
const STRICT_UNIT_RES = UNIT_TEXTS.filter((u) => u.replace(/s$/, '').length > 2 || /\s/.test(u)).map(unitRegex);

/** The toolkit's `_fix_fracs`: `\frac12` -> `\frac{1}{2}`, `\frac1{72}` -> `\frac{1}{72}`. */
export function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0];
  for (const sub of parts.slice(1)) {
    out += '\\frac';
    if (sub.length > 0 && sub[0] === '{') {
      out += sub;
      continue;
    }
    if (sub.length < 2) return s; // the toolkit gives up on the whole string
    const [a, b] = [sub[0], sub[1]];
    if (b !== '{') out += `{${a}}{${b}}` + sub.slice(2);
    else out += `{${a}}${b}` + sub.slice(2);
  }
  return out;
}

/** Python's int() on a string, as far as answers need it: optional sign, digits, surrounding spaces. */
function pyInt(s: string): bigint | undefined {
  const m = /^\s*([+-]?)(\d(?:_?\d)*)\s*$/.exec(s);
  if (!m) return undefined;
  return BigInt(m[1] + m[2].replace(/_/g, ''));
}

/** The toolkit's `_fix_a_slash_b`: "3/4" -> `\frac{3}{4}` when both sides are plain integers (or contain
 *  "sqrt") and print back to exactly the input. */
export function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  let [a, b]: [string, string] = [parts[0], parts[1]];
  if (!a.includes('sqrt')) {
    const v = pyInt(a);
    if (v === undefined) return s;
    a = v.toString();
  }
  if (!b.includes('sqrt')) {
    const v = pyInt(b);
    if (v === undefined) return s;
    b = v.toString();
  }
  if (s !== `${a}/${b}`) return s;
  return `\\frac{${a}}{${b}}`;
}

/** The toolkit's `_fix_sqrt`: `\sqrt3` -> `\sqrt{3}` (Python's \w is Unicode). */
export function fixSqrt(s: string): string {
  return s.replace(/\\sqrt([\p{L}\p{N}_]+)/gu, '\\sqrt{$1}');
}

/** `strip_string(s, skip_unit)` in the toolkit's order. */
export function stripString(input: unknown, opts: NormalizeOptions = {}): string {
  // Step 1.
  let s = pyStr(input).trim();
  s = s.replace(/\n/g, '');
  s = s.replace(/\.+$/, '');
  s = s.replaceAll('\\!', '');
  // Step 2: matrices.
  s = s.replace(/\\begin\{array\}\{.*?\}/g, '\\begin{pmatrix}');
  s = s.replace(/\\end\{array\}/g, '\\end{pmatrix}');
  s = s.replaceAll('bmatrix', 'pmatrix');
  // Step 3.
  s = s.replaceAll('tfrac', 'frac').replaceAll('dfrac', 'frac');
  s = s.replaceAll('\\neq', '\\ne').replaceAll('\\leq', '\\le').replaceAll('\\geq', '\\ge');
  // Step 4.
  s = s.replaceAll('\\left', '').replaceAll('\\right', '');
  s = s.replaceAll('\\{', '{').replaceAll('\\}', '}');
  // Step 5: a trailing \text{...} is a unit, unless it is the whole answer. The regex is non-greedy but
  // anchored at the end, so it deletes from the FIRST \text{ that can reach a final "}".
  const noUnit = s.replace(/\\text\{.*?\}$/, '').trim();
  if (noUnit !== '' && noUnit !== s) s = noUnit;
  // Step 6: unit words, two passes, each kept only if the result is non-empty.
  if (!opts.skipUnit) {
    const res = opts.strict ? STRICT_UNIT_RES : UNIT_RES;
    for (let pass = 0; pass < 2; pass++) {
      for (const re of res) {
        const t = s.replace(re, '$1$2');
        if (t !== '') s = t;
      }
    }
  }
  // Step 7.
  s = s.replaceAll('^{\\circ}', '').replaceAll('^\\circ', '');
  s = s.replaceAll('\\$', '').replaceAll('$', '');
  s = s.replaceAll('\\(', '').replaceAll('\\)', '');
  // Step 8.
  s = convertWordNumber(s);
  // Step 9.
  s = s.replace(/\\text\{(.*?)\}/g, '$1');
  for (const key of ['x=', 'y=', 'z=', 'x\\in', 'y\\in', 'z\\in', 'x\\to', 'y\\to', 'z\\to']) s = s.replaceAll(key, '');
  // Step 10.
  s = s.replaceAll('\\emptyset', '{}');
  s = s.replaceAll('(-\\infty,\\infty)', '\\mathbb{R}');
  // Step 11.
  s = s.replaceAll('\\%', '').replaceAll('%', '');
  s = s.replaceAll(' .', ' 0.').replaceAll('{.', '{0.');
  // (The toolkit's unwrap of "{X}", "(X)", "[X]" sits here and never fires; nothing to do.)
  // Step 12.
  s = s.replaceAll('infinity', '\\infty');
  if (!s.includes('\\infty')) s = s.replaceAll('inf', '\\infty');
  s = s.replaceAll('+\\inity', '\\infty');
  // Step 13. Strict: only the word "and" between items, not "and" inside words.
  s = opts.strict ? s.replace(/(^|[^\p{L}])and(?![\p{L}])/gu, '$1') : s.replaceAll('and', '');
  s = s.replaceAll('\\mathbf', '');
  s = s.replace(/\\mbox\{.*?\}/g, '');
  // Step 14.
  if (s.includes('j') && !s.includes('i')) s = s.replaceAll('j', 'i');
  // Step 15: "27.0" -> "27", "2.0x" -> "2x".
  s = s.replace(/(\p{Nd}+)\.0*([^\p{Nd}])/gu, '$1$2');
  s = s.replace(/(\p{Nd}+)\.0*$/u, '$1');
  // Step 16.
  if (s.length === 0) return s;
  if (s[0] === '.') s = '0' + s;
  // Step 17: "k=5" -> "5" when the left side is at most two characters.
  const eq = s.split('=');
  if (eq.length === 2 && eq[0].length <= 2) s = eq[1];
  // Steps 18–20.
  s = fixSqrt(s);
  s = s.replaceAll(' ', '');
  s = fixFracs(s);
  s = fixASlashB(s);
  return s;
}

/** Python's str() for the values benchmark files hold. A JSON float such as AMC's 27.0 arrives here as 27;
 *  Python would print "27.0", which step 15 turns into "27" anyway, so integers print without ".0". */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return 'None';
  return String(v);
}
