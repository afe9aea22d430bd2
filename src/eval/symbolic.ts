// Symbolic equivalence: the last stage of the toolkit's cascade, `symbolic_equal` (docs/grading.md §2.5).
// Each side is read the way the toolkit reads it (sympy's parse_latex grammar in latex.ts, then Python
// syntax in pyexpr.ts; a side that neither reads stays a string), then the toolkit's checks run in order:
//   1. structural equality (sympy's `==`, here a canonical print with commutative operands sorted);
//   2. identity, `a.equals(b)` / `simplify(a-b)==0`: decided by evaluating both sides at random COMPLEX
//      points for every free symbol (sympy's symbols are complex, so sqrt(x^2) is not x), relative
//      tolerance 1e-9;
//   3. for two relations, |lhs-rhs| of one identical to |lhs-rhs| of the other ("x=2" equals "2=x";
//      and, as in the toolkit, "x<3" equals "x>3");
//   4. two constant, real values within relative tolerance 1e-4 (`float(N(a))`). `\pi` and e are free
//      symbols for parse_latex, so "2\pi" never equals 6.2832 here, as in the toolkit.
//
// CAS choice. Candidates evaluated: @cortex-js/compute-engine (parses LaTeX itself, but with its own
// grammar: \pi is the constant, "1,2" a tuple, unknown commands are errors — each a verdict the toolkit
// does not give — and about 0.5 ms per parse+evaluate), nerdamer (LaTeX import covers little, unmaintained
// since 2021), algebrite (no LaTeX, no complex special functions), mathjs (no LaTeX, but complete complex
// arithmetic and special functions — gamma, inverse trig/hyperbolic, logs — behind one typed API, about a
// microsecond per operation, actively maintained). The verdict-deciding part is the grammar, which must be
// sympy's and is written here; what is needed from a library is exact complex evaluation, so mathjs.
import {
  add,
  multiply,
  divide,
  pow,
  complex,
  sin,
  cos,
  tan,
  sec,
  csc,
  cot,
  asin,
  acos,
  atan,
  asec,
  acsc,
  acot,
  sinh,
  cosh,
  tanh,
  asinh,
  acosh,
  atanh,
  log,
  exp,
  gamma,
  abs,
  floor,
  ceil,
  conj,
  type Complex,
} from 'mathjs';
import { parseLatex, show, ParseError, type Node } from './latex.js';
import { parsePython } from './pyexpr.js';

type Side = { kind: 'expr'; node: Node } | { kind: 'str'; text: string };

/** The toolkit's `_parse`: parse_latex, parse_expr (each first with "\\\\" -> "\\", then raw), else a string. */
export function readSide(s: string): Side {
  const variants = s.includes('\\\\') ? [s.replaceAll('\\\\', '\\'), s] : [s];
  for (const f of [parseLatex, parsePython]) {
    for (const v of variants) {
      try {
        return { kind: 'expr', node: f(v) };
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
  }
  return { kind: 'str', text: s };
}

class EvalError extends Error {}

const FN: Record<string, (z: Complex) => Complex> = {
  sin,
  cos,
  tan,
  sec,
  csc,
  cot,
  asin,
  acos,
  atan,
  asec,
  acsc,
  acot,
  sinh,
  cosh,
  tanh,
  asinh,
  acosh,
  atanh,
  exp,
  conjugate: conj,
  abs: (z) => complex(abs(z) as unknown as number, 0),
  floor: (z) => floor(z) as Complex,
  ceiling: (z) => ceil(z) as Complex,
  factorial: (z) => C(gamma(C(add(z, 1)))),
};

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

/** An undefined function f(x): sympy keeps f(x) unevaluated, equal only to f applied to equal arguments.
 *  A fixed pseudo-random function of the name and the argument values has exactly that property. */
function opaque(name: string, args: Complex[]): Complex {
  let z = complex(hash(name) + 0.5, hash(name + '#') - 0.5);
  for (const a of args)
    z = add(multiply(sin(add(multiply(a, 0.731), z) as Complex), 1.37), multiply(z, 0.61)) as Complex;
  return z;
}

/** mathjs returns a plain number from some complex functions (gamma of a real, for one): keep Complex. */
const C = (x: unknown): Complex => (typeof x === 'number' ? complex(x, 0) : (x as Complex));

function evaluate(n: Node, env: Map<string, Complex>): Complex {
  return C(evaluateRaw(n, env));
}

function evaluateRaw(n: Node, env: Map<string, Complex>): Complex {
  switch (n.t) {
    case 'num':
      return complex(n.v, 0);
    case 'sym': {
      if (n.name === '#pi') return complex(Math.PI, 0);
      if (n.name === '#E') return complex(Math.E, 0);
      if (n.name === '#I') return complex(0, 1);
      const v = env.get(n.name);
      if (!v) throw new EvalError(`unbound ${n.name}`);
      return v;
    }
    case 'inf':
      throw new EvalError('infinity');
    case 'add':
      return n.a.reduce((s, c) => add(s, evaluate(c, env)) as Complex, complex(0, 0));
    case 'mul':
      return n.a.reduce((s, c) => multiply(s, evaluate(c, env)) as Complex, complex(1, 0));
    case 'pow': {
      const b = evaluate(n.b, env);
      const e = evaluate(n.e, env);
      if (b.re === 0 && b.im === 0 && e.re < 0) throw new EvalError('division by zero');
      return pow(b, e) as Complex;
    }
    case 'fn': {
      const args = n.args.map((a) => evaluate(a, env));
      if (n.name === 'log') {
        const l = log(args[0]) as Complex;
        return args.length > 1 ? (divide(l, log(args[1]) as Complex) as Complex) : l;
      }
      if (n.name === 'sqrt') return pow(args[0], 0.5) as Complex;
      if (n.name === 'binomial') {
        const [m, k] = args;
        const g = (z: Complex) => C(gamma(C(add(z, 1))));
        return divide(g(m), multiply(g(k), g(add(m, multiply(k, -1)) as Complex))) as Complex;
      }
      const f = FN[n.name];
      return f ? C(f(args[0])) : opaque(n.name, args);
    }
    default:
      throw new EvalError(`cannot evaluate ${n.t}`);
  }
}

function symbols(n: Node, out: Set<string>): Set<string> {
  switch (n.t) {
    case 'sym':
      if (!n.name.startsWith('#')) out.add(n.name);
      break;
    case 'add':
    case 'mul':
      n.a.forEach((c) => symbols(c, out));
      break;
    case 'pow':
      symbols(n.b, out);
      symbols(n.e, out);
      break;
    case 'fn':
      n.args.forEach((c) => symbols(c, out));
      break;
    case 'rel':
      symbols(n.l, out);
      symbols(n.r, out);
      break;
    case 'tuple':
    case 'list':
    case 'set':
      n.items.forEach((c) => symbols(c, out));
      break;
    default:
      break;
  }
  return out;
}

const finite = (z: Complex) => Number.isFinite(z.re) && Number.isFinite(z.im);
const mag = (z: Complex) => Math.hypot(z.re, z.im);

/** Deterministic sample points: a small LCG seeded by the pair, so a verdict never changes between runs. */
function points(syms: string[], seed: string, count: number): Map<string, Complex>[] {
  let s = Math.floor(hash(seed) * 2 ** 31) || 1;
  const rnd = () => {
    s = ((Math.imul(s, 48271) % 2147483647) + 2147483647) % 2147483647;
    return s / 2147483647;
  };
  // Real parts of both signs: on the right half-plane alone sqrt(x^2) and x would agree.
  const coord = () => {
    const r = 0.3 + 1.7 * rnd();
    return rnd() < 0.5 ? -r : r;
  };
  return Array.from({ length: count }, () => new Map(syms.map((k) => [k, complex(coord(), 1.4 * rnd() - 0.7)])));
}

/** Numerically identical at every sample point (both sides defined and finite at ≥ 2 of them). */
function identical(a: Node, b: Node, seed: string): boolean {
  const syms = [...symbols(a, symbols(b, new Set()))].sort();
  let agreed = 0;
  for (const env of points(syms, seed, syms.length === 0 ? 1 : 5)) {
    let va: Complex, vb: Complex;
    try {
      va = evaluate(a, env);
      vb = evaluate(b, env);
    } catch (e) {
      if (e instanceof EvalError) continue;
      throw e;
    }
    if (!finite(va) || !finite(vb)) continue;
    const d = mag(add(va, multiply(vb, -1)) as Complex);
    if (d > 1e-9 * Math.max(1, mag(va), mag(vb))) return false;
    agreed++;
  }
  return agreed >= (syms.length === 0 ? 1 : 2);
}

const diffAbs = (r: Node & { t: 'rel' }): Node => ({
  t: 'fn',
  name: 'abs',
  args: [{ t: 'add', a: [r.l, { t: 'mul', a: [{ t: 'num', v: -1, float: false }, r.r] }] }],
});

/** A constant real value (sympy's float(N(x)) succeeds), else undefined. */
function realValue(n: Node): number | undefined {
  if (symbols(n, new Set()).size > 0) return undefined;
  try {
    const v = evaluate(n, new Map());
    if (!finite(v) || Math.abs(v.im) > 1e-12 * Math.max(1, Math.abs(v.re))) return undefined;
    return v.re;
  } catch (e) {
    if (e instanceof EvalError) return undefined;
    throw e;
  }
}

/** Python's math.isclose(a, b, rel_tol). */
export function isClose(a: number, b: number, relTol = 1e-4): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
}

/** sympy evaluates a relation whose truth is decided at construction: Eq(x, x) and Eq(6, 2) become
 *  True/False, as do numeric inequalities, and Eq(relation, number) is False ("z=1+1=2" is False). */
export function settle(n: Node): Node {
  if (n.t !== 'rel') return n;
  const l = settle(n.l);
  const r = settle(n.r);
  if (n.op === '=' && show(l) === show(r)) return { t: 'bool', v: true };
  const boolish = (x: Node) => x.t === 'bool' || x.t === 'rel';
  if (n.op === '=' && boolish(l) !== boolish(r)) return { t: 'bool', v: false };
  const lv = realValue(l);
  const rv = realValue(r);
  if (lv !== undefined && rv !== undefined) {
    const v = { '=': lv === rv, '!=': lv !== rv, '<': lv < rv, '<=': lv <= rv, '>': lv > rv, '>=': lv >= rv }[n.op];
    return { t: 'bool', v };
  }
  return { ...n, l, r };
}

/** `symbolic_equal(a, b)`. Pure and synchronous; grade.ts runs it under a time limit. */
export function symbolicEqual(a: string, b: string): boolean {
  const sa = readSide(a);
  const sb = readSide(b);
  if (sa.kind === 'str' || sb.kind === 'str') return sa.kind === 'str' && sb.kind === 'str' && sa.text === sb.text;
  const na = settle(sa.node);
  const nb = settle(sb.node);
  if (na.t === 'bool' || nb.t === 'bool') return na.t === 'bool' && nb.t === 'bool' && na.v === nb.v;
  if (show(na) === show(nb)) return true;
  const container = (n: Node) => n.t === 'tuple' || n.t === 'list' || n.t === 'set';
  if (container(na) || container(nb)) return containerEqual(na, nb);
  const seed = a + '\u0000' + b;
  if (na.t !== 'rel' && nb.t !== 'rel' && identical(na, nb, seed)) return true;
  if (na.t === 'rel' && nb.t === 'rel') return identical(diffAbs(na), diffAbs(nb), seed);
  const va = realValue(na);
  const vb = realValue(nb);
  return va !== undefined && vb !== undefined && isClose(va, vb);
}

/** Python/sympy `==` on tuples, lists and sets: same kind, elements structurally equal (sets unordered).
 *  A number equals another of the same value whether written as an integer or a float (sympy 1.12). */
function containerEqual(a: Node, b: Node): boolean {
  if (a.t !== b.t) return false;
  if (a.t !== 'tuple' && a.t !== 'list' && a.t !== 'set') return false;
  const bi = (b as typeof a).items;
  const key = (n: Node) => (n.t === 'num' ? `${n.v}` : show(n));
  if (a.t === 'set') {
    const ka = new Set(a.items.map(key));
    const kb = new Set(bi.map(key));
    return ka.size === kb.size && [...ka].every((k) => kb.has(k));
  }
  return a.items.length === bi.length && a.items.every((x, i) => key(x) === key(bi[i]));
}
