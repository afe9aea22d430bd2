// The equivalence cascade: the toolkit's `math_equal(prediction, reference)` (docs/grading.md §2.4,
// rules 1–11). The first rule that fires decides. Both arguments are expected to be
// normalised already (strip_string), as the toolkit grades them.
//
// Reproduced by default (documented bugs, docs/grading.md §3), fixed with `strict: true`:
//   - a bare comma list compares through parse_latex's prefix ("1,-2" equals "1,-3", Qwen2.5-Math#50);
//     strict compares the items as a multiset;
//   - interval brackets are never compared ("(0,9)" equals "[0,9)"); strict requires the same brackets
//     when both sides are two-item intervals;
//   - the numeric branch is final (no symbolic fallback once both sides are numbers) — kept in strict
//     mode too: with rel_tol 1e-4 there is nothing a CAS could add.
import { symbolicEqual, isClose } from './symbolic.js';

export interface EqualOptions {
  strict?: boolean;
  /** Count "0.5" as equal to "50" and "50%" (the toolkit's include_percentage, default true). */
  includePercentage?: boolean;
}

/** Python's float() on a string: decimal literals with optional sign, exponent, underscores between
 *  digits, surrounding whitespace, and inf/infinity/nan; undefined where Python raises. */
export function pyFloat(s: string): number | undefined {
  const t = s.trim();
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/.test(t)) return undefined;
  return Number(t.replaceAll('_', ''));
}

/** The toolkit's parse_digits: commas removed; a trailing "%" (optionally "\%") divides by 100. */
export function parseDigits(s: string): number | undefined {
  const n = s.replaceAll(',', '');
  const v = pyFloat(n);
  if (v !== undefined) return v;
  if (n.endsWith('%')) {
    let m = n.slice(0, -1);
    if (m.endsWith('\\')) m = m.slice(0, -1);
    const w = pyFloat(m);
    if (w !== undefined) return w / 100;
  }
  return undefined;
}

/** The grader's choice_answer_clean (its own copy in grader.py, simpler than parser.py's). */
export function choiceAnswerClean(pred: string): string {
  let p = pred
    .replace(/^\n+|\n+$/g, '')
    .replace(/\.+$/, '')
    .replace(/\/+$/, '')
    .replace(/^ +| +$/g, '')
    .replace(/^:+/, '');
  const letters = p.toUpperCase().match(/\b(A|B|C|D|E)\b/g);
  p = letters ? letters[letters.length - 1] : p.trim().replace(/^\.+|\.+$/g, '');
  return p.replace(/\.+$/, '').replace(/\/+$/, '');
}

/** The toolkit's str_to_pmatrix: "{a,b}" groups become column pmatrices. */
function strToPmatrix(s: string): string {
  const groups = s.trim().match(/\{.*,.*\}/g) ?? [];
  return groups
    .map((m) => '\\begin{pmatrix}' + m.replace(/^[{}]+|[{}]+$/g, '').replaceAll(',', '\\') + '\\end{pmatrix}')
    .join(', ');
}

const stripChars = (s: string, chars: string) => {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a])) a++;
  while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
};

/** Python's str.strip(): whitespace at both ends. */
const pyStrip = (s: string) => s.replace(/^\s+|\s+$/g, '');

function isMatrix(s: string): boolean {
  return (
    (s.startsWith('\\begin{pmatrix}') || s.startsWith('\\begin{bmatrix}')) &&
    (s.endsWith('\\end{pmatrix}') || s.endsWith('\\end{bmatrix}'))
  );
}

/** Top-level comma split (strict mode only: the toolkit splits on every comma). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** `math_equal(prediction, reference)`; synchronous, without a time limit (see grade.ts for that). */
export function mathEqual(
  prediction: string | null | undefined,
  reference: string | null | undefined,
  opts: EqualOptions = {},
): boolean {
  const includePct = opts.includePercentage ?? true;
  if (prediction == null || reference == null) return false;
  // Rule 2.
  if (pyStrip(prediction).toLowerCase() === pyStrip(reference).toLowerCase()) return true;
  // Rule 3.
  if (['A', 'B', 'C', 'D', 'E'].includes(reference) && choiceAnswerClean(prediction) === reference) return true;
  // Rule 4: numbers; final either way.
  const pn = parseDigits(prediction);
  const rn = parseDigits(reference);
  if (pn !== undefined && rn !== undefined) {
    const targets = includePct ? [rn / 100, rn, rn * 100] : [rn];
    return targets.some((t) => isClose(t, pn, 1e-4));
  }
  // Rule 5.
  if (!prediction) return false;
  let ref = pyStrip(reference);
  const pred = pyStrip(prediction);
  // Rule 6.
  if (pred.includes('pmatrix') && !ref.includes('pmatrix')) ref = strToPmatrix(ref);
  // Rule 7: bracket-insensitive comparison.
  let ps = pred;
  let rs = ref;
  if (
    (pred.startsWith('[') && pred.endsWith(']') && !ref.startsWith('(')) ||
    (pred.startsWith('(') && pred.endsWith(')') && !ref.startsWith('['))
  ) {
    ps = stripChars(ps, '[]()');
    rs = stripChars(rs, '[]()');
  }
  ps = ps.replace(/[{}()]/g, '');
  rs = rs.replace(/[{}()]/g, '');
  if (ps.toLowerCase() === rs.toLowerCase()) {
    if (!opts.strict || sameBrackets(pred, ref)) return true;
  }
  // Rule 8: tuples and intervals, part by part; the brackets themselves are not compared (strict: they are).
  const tupleRe = /^[([].+[)\]]/;
  if (tupleRe.test(pred) && tupleRe.test(ref)) {
    const split = opts.strict ? splitTop : (s: string) => s.split(',');
    const pp = split(pred.slice(1, -1));
    const rp = split(ref.slice(1, -1));
    if (pp.length === rp.length && pp.every((p, i) => mathEqual(p, rp[i], opts))) {
      if (!opts.strict || sameBrackets(pred, ref)) return true;
    }
  }
  // Rule 9: matrices cell by cell.
  if (isMatrix(pred) && isMatrix(ref)) {
    const rows = (s: string) =>
      s
        .slice('\\begin{pmatrix}'.length, -'\\end{pmatrix}'.length)
        .split('\\\\')
        .map(pyStrip)
        .filter((l) => l);
    const pr = rows(pred);
    const rr = rows(ref);
    if (
      pr.length === rr.length &&
      pr.every((line, i) => {
        const pc = line.split('&');
        const rc = rr[i].split('&');
        return pc.length === rc.length && pc.every((c, j) => mathEqual(c, rc[j], opts));
      })
    )
      return true;
  }
  // Rule 10: equations.
  const pEq = count(pred, '=');
  const rEq = count(ref, '=');
  if (pEq === 1 && rEq === 1) {
    const [pl, pr] = pred.split('=');
    const [rl, rr] = ref.split('=');
    const p = `${pyStrip(pl)} - (${pyStrip(pr)})`;
    const r = `${pyStrip(rl)} - (${pyStrip(rr)})`;
    if (symbolicEqual(p, r) || symbolicEqual(`-(${p})`, r)) return true;
  } else if (pEq === 1 && pyStrip(pred.split('=')[0]).length <= 2 && rEq === 0) {
    if (mathEqual(pred.split('=')[1], ref, opts)) return true;
  } else if (rEq === 1 && pyStrip(ref.split('=')[0]).length <= 2 && pEq === 0) {
    if (mathEqual(pred, ref.split('=')[1], opts)) return true;
  }
  // Strict: a bare comma list is a set of answers, compared as a multiset instead of by its first item.
  if (opts.strict && !tupleRe.test(pred) && !tupleRe.test(ref)) {
    const pp = splitTop(pred);
    const rp = splitTop(ref);
    if (pp.length > 1 || rp.length > 1) return multisetEqual(pp, rp, opts);
  }
  // Rule 11.
  return symbolicEqual(pred, ref);
}

function count(s: string, c: string): number {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}

/** Strict mode: brackets agree when both sides are bracketed; otherwise there is nothing to compare. */
function sameBrackets(a: string, b: string): boolean {
  const br = (s: string) => (/^[([]/.test(s) && /[)\]]$/.test(s) ? s[0] + s[s.length - 1] : '');
  const x = br(a);
  const y = br(b);
  return x === '' || y === '' || x === y;
}

function multisetEqual(a: string[], b: string[], opts: EqualOptions): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((x) => {
    const j = b.findIndex((y, k) => !used[k] && mathEqual(x, y, opts));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}
