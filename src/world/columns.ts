// Written arithmetic for the judge's check of a step's result: column arithmetic (the base corpus's drills
// and the column check layouts) and casting out nines (`ninesCheck`, the default check, because a judge
// trained on column checks copied the claimed result; docs/world.md "How the judge checks a step").
//
// Why this exists (docs/world.md "How the judge checks a step"): measured on the small model's own
// samples (T 0.5), every wrong step it wrote was an arithmetic slip — 82% a carry or borrow slip in a
// leading digit, 18% a wrong last digit — and none was structural. A step is written in one go, most
// significant digit first (`8+33=41`), so the generator must resolve every carry before it writes the
// first digit: mental arithmetic. The judge may write before it decides (its explanation, paper Fig. 5),
// so it checks the way people check a sum on paper: it copies the candidate's arithmetic, adds column by
// column from the units with each carry written down (`8+3=11 0+3+1=4`), reads the true result off the
// columns (`so 41`), and only then compares it with the candidate's result, which sits a few characters
// back on the same line (`ok` / `no`). Every token of that line is one single-digit fact, a copy, or a
// comparison of two short strings side by side — never the whole computation at once — which is what
// makes verifying a step cheaper than producing it in this world (docs/world.md, "Why this world").
//
// Formats (one column per digit of the longer operand, units first, separated by spaces):
//   +  `a+b=s` / `a+b+1=s` (a missing digit is 0):       150+63: `0+3=3 5+6=11 1+0+1=2` so 213
//   -  `a-b=d`, `a-b-1=d`, with a borrow `1a-b=d`:      50-38: `10-8=2 5-3-1=1` so 12
//   *  a multi-digit factor's digits times the one-digit factor, plus the carry: 38*2: `8*2=16 3*2+1=7`
//      so 76; two one-digit factors: one column `9*7=63`
//   /  checked by multiplying back (the result times the divisor must give the dividend):
//      76/2=37: `7*2=14 3*2+1=7` so 74, and 74 is compared with 76.
import type { Op } from './generator.js';

const digits = (n: number): number[] => String(n).split('').reverse().map(Number);

/** Column-by-column product of a (any digits) and a one-digit m: the columns and the value. */
function mulColumns(a: number, m: number): { cols: string[]; value: number } {
  const cols: string[] = [];
  let carry = 0;
  const ds = digits(a);
  ds.forEach((d, i) => {
    const s = d * m + carry;
    cols.push(`${d}*${m}${carry ? `+${carry}` : ''}=${s}`);
    carry = i === ds.length - 1 ? 0 : Math.floor(s / 10);
  });
  return { cols, value: a * m };
}

/**
 * The columns that compute `x op y` and the value they read off (for '/', the product z*y, checked against
 * x). Null when the column method does not apply: a negative difference, a divisor or both factors with
 * more than one digit (the world never asks for those; they arise only after a wrong earlier result).
 */
export function columns(
  x: number,
  op: Op,
  y: number,
  z: number,
): { cols: string[]; value: number; target: number } | null {
  if (op === '+') {
    const a = digits(x),
      b = digits(y),
      n = Math.max(a.length, b.length);
    const cols: string[] = [];
    let carry = 0;
    for (let i = 0; i < n; i++) {
      const s = (a[i] ?? 0) + (b[i] ?? 0) + carry;
      cols.push(`${a[i] ?? 0}+${b[i] ?? 0}${carry ? '+1' : ''}=${s}`);
      carry = s >= 10 ? 1 : 0;
    }
    return { cols, value: x + y, target: z };
  }
  if (op === '-') {
    if (x < y) return null;
    const a = digits(x),
      b = digits(y);
    const cols: string[] = [];
    let borrow = 0;
    for (let i = 0; i < a.length; i++) {
      const ai = a[i]!,
        bi = b[i] ?? 0;
      let d = ai - bi - borrow;
      const lend = d < 0;
      if (lend) d += 10;
      cols.push(`${lend ? '1' : ''}${ai}-${bi}${borrow ? '-1' : ''}=${d}`);
      borrow = lend ? 1 : 0;
    }
    return { cols, value: x - y, target: z };
  }
  if (op === '*') {
    if (x < 10 && y < 10) return { cols: [`${x}*${y}=${x * y}`], value: x * y, target: z };
    if (y < 10) return { ...mulColumns(x, y), target: z };
    if (x < 10) return { ...mulColumns(y, x), target: z };
    return null;
  }
  // '/': multiply back.
  if (y >= 10 || z < 0 || !Number.isInteger(z)) return null;
  if (z < 10) return { cols: [`${z}*${y}=${z * y}`], value: z * y, target: x };
  return { ...mulColumns(z, y), target: x };
}

/**
 * Two numbers compared digit by digit from the units, each pair written side by side and marked `=` or
 * `!`; the first `!` ends the comparison with `no`, all `=` end it with `ok` (a missing digit is 0):
 *   digitCompare(41, 31) -> `1|1= 4|3! no`      digitCompare(26, 26) -> `6|6= 2|2= ok`
 * Why digit by digit: the small model never learned to tell whether two multi-digit numbers are equal
 * (`last 50 vs 50` got `no` as often as `ok`, teacher-forced: docs/world.md), while every single step here
 * is a copy of one digit from a fixed place or the equality of the two digits right before the mark.
 */
export function digitCompare(v: number, t: number): string {
  const a = digits(v),
    b = digits(t),
    n = Math.max(a.length, b.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const same = (a[i] ?? 0) === (b[i] ?? 0);
    out.push(`${a[i] ?? 0}|${b[i] ?? 0}${same ? '=' : '!'}`);
    if (!same) return `${out.join(' ')} no`;
  }
  return `${out.join(' ')} ok`;
}

/**
 * The judge's check of a step's arithmetic `x op y = z`, in one of three layouts (docs/world.md "Judge
 * figures" says why the layout moved from one to the next):
 * - `drill` (this function's default; the judge's default is `ninesCheck`): the line is the base corpus's
 *   column drill of the step's operation (`columnDrill`,
 *   `98-38: 8-8=0 9-3=6 so 60`), then the value read off the columns is put next to the candidate's result
 *   and compared digit by digit (`vs 61: 0|1! no`). The candidate's result is written only after the columns,
 *   so no claimed result sits right before the column digits: the 3-epoch M1 of layout `digits` (shipped before)
 *   copied a claimed result into its columns in 55 of 266 arithmetic pairs, and got each of them wrong.
 *   For '/' the drill is the product of the claimed quotient and the divisor (`38*2: … so 76 vs 76`).
 * - `digits`: the candidate's equation first, then columns, value and digit comparison
 *   (`98-38=61; 8-8=0 9-3=6 so 60 vs 61: 0|1! no`).
 * - `whole`: as `digits`, but `ok`/`no` right after the value (`8+33=31; 8+3=11 0+3+1=4 so 41 no`).
 *   columnCheck(8, '+', 33, 31)            -> `8+33: 8+3=11 0+3+1=4 so 41 vs 31: 1|1= 4|3! no`
 *   columnCheck(76, '/', 2, 38)            -> `38*2: 8*2=16 3*2+1=7 so 76 vs 76: 6|6= 7|7= ok`
 *   columnCheck(8, '+', 33, 31, 'digits')  -> `8+33=31; 8+3=11 0+3+1=4 so 41 vs 31: 1|1= 4|3! no`
 */
export function columnCheck(
  x: number,
  op: Op,
  y: number,
  z: number,
  layout: 'drill' | 'digits' | 'whole' = 'drill',
): string {
  const eq = `${x}${op}${y}=${z}`;
  const c = columns(x, op, y, z);
  if (c === null) {
    // Outside the world's arithmetic: say so in words (no written result can be right).
    const head = layout === 'drill' && op !== '/' ? `${x}${op}${y}:` : `${eq};`;
    if (op === '-') return `${head} ${y} is more than ${x} no`;
    return `${head} ${x}${op}${y} is ${op === '*' ? x * y : x / y} no`;
  }
  if (layout === 'whole') return `${eq}; ${c.cols.join(' ')} so ${c.value} ${c.value === c.target ? 'ok' : 'no'}`;
  if (layout === 'digits')
    return `${eq}; ${c.cols.join(' ')} so ${c.value} vs ${c.target}: ${digitCompare(c.value, c.target)}`;
  const drill = op === '/' ? `${z}*${y}` : `${x}${op}${y}`;
  return `${drill}: ${c.cols.join(' ')} so ${c.value} vs ${c.target}: ${digitCompare(c.value, c.target)}`;
}

/**
 * The columns of a sum or a difference as a step writes them out before its result (`38-12` -> `8-2=6 3-1=2`;
 * src/world/format.ts `formatWritten`), or null for other operations and where the columns do not apply.
 */
export function stepWork(x: number, op: Op, y: number): string | null {
  if (op !== '+' && op !== '-') return null;
  const c = columns(x, op, y, op === '+' ? x + y : x - y);
  return c === null ? null : c.cols.join(' ');
}

/** A drill line for the base corpus: `150+63: 0+3=3 5+6=11 1+0+1=2 so 213` (the true result). */
export function columnDrill(x: number, op: Op, y: number): string | null {
  const z = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
  const c = columns(x, op, y, z);
  return c === null ? null : `${x}${op}${y}: ${c.cols.join(' ')} so ${c.value}`;
}

/**
 * The digit-sum chain of n down to one digit, its digital root (n mod 9, with 9 for a non-zero multiple
 * of 9), one single-digit fact at a time, reducing as soon as a sum reaches two digits:
 *   rootChain(146) -> { steps: ['1+4=5', '5+6=11', '1+1=2'], root: 2 }     rootChain(7) -> { steps: [], root: 7 }
 */
export function rootChain(n: number): { steps: string[]; root: number } {
  const ds = String(n).split('').map(Number);
  const steps: string[] = [];
  let acc = ds[0]!;
  const reduce = () => {
    while (acc >= 10) {
      const [a, b] = String(acc).split('').map(Number) as [number, number];
      steps.push(`${a}+${b}=${a + b}`);
      acc = a + b;
    }
  };
  for (const d of ds.slice(1)) {
    steps.push(`${acc}+${d}=${acc + d}`);
    acc += d;
    reduce();
  }
  return { steps, root: acc };
}

/**
 * The judge's check of `x op y = z` by casting out nines (docs/world.md "How the judge checks a step"): the digital
 * roots of the two inputs, combined by the operation and reduced, then the root of the number they must
 * match, and the two digits side by side. `-` and `/` are checked through their inverse (y + z against x,
 * z * y against x), so only sums and products of single digits are ever computed:
 *   ninesCheck(38, '+', 15, 53)  -> `38+15=53: 3+8=11 1+1=2, 1+5=6, 2+6=8, 5+3=8 so 8|8= ok`
 *   ninesCheck(86, '-', 44, 52)  -> `86-44=52: 4+4=8, 5+2=7, 8+7=15 1+5=6, 8+6=14 1+4=5 so 6|5! no`
 * Why: none of its intermediate numbers is written in the prompt, so none can be copied from it. The column
 * check computes the result's own digits, which a candidate's claimed result (right in most of the judge's
 * training data) spells out, and the small model learned to copy them instead of computing. The target's
 * root comes last, after the value it is compared with.
 * Null when the column method does not apply either (`columns`); `ok` is whether the roots agree, which a
 * wrong result off by a multiple of 9 also passes (the caller checks `ok` against the verifier).
 */
export function ninesCheck(x: number, op: Op, y: number, z: number): { line: string; ok: boolean } | null {
  if (columns(x, op, y, z) === null) return null;
  const [a, b, t] = op === '+' || op === '*' ? [x, y, z] : op === '-' ? [y, z, x] : [z, y, x];
  const part = (n: number) => {
    const c = rootChain(n);
    return { text: c.steps.length ? c.steps.join(' ') : String(n), root: c.root };
  };
  const pa = part(a),
    pb = part(b);
  const mul = op === '*' || op === '/';
  const v = mul ? pa.root * pb.root : pa.root + pb.root;
  const comb = rootChain(v);
  const combText = [`${pa.root}${mul ? '*' : '+'}${pb.root}=${v}`, ...comb.steps].join(' ');
  const pt = part(t);
  const same = comb.root === pt.root;
  return {
    line:
      `${x}${op}${y}=${z}: ${pa.text}, ${pb.text}, ${combText}, ${pt.text} ` +
      `so ${comb.root}|${pt.root}${same ? '= ok' : '! no'}`,
    ok: same,
  };
}
