// A program policy that proposes candidate next steps with realistic mistakes. It stands in for the
// paper's policy model in the MCTS that builds EFT data (§3.2 of arXiv:2503.03746): it proposes w
// candidates per tree layer, some right, some wrong, and the verifier scores them.
//
// The mistakes are the kinds a small character-level model makes when it writes `sells 12: 38-12=26`: a
// slip in the last digit of the result, a carry slip in another digit, a mistyped operand (a number found
// nowhere above), an old running value, another phrase than the next one or another stated number, the
// operation the words do not say, an answer given too early, a boxed number that is not the last result,
// a step too many. Arithmetic is done
// right on the numbers the mistaken step uses (a model that copies a wrong operand still adds correctly),
// so each candidate has one mistake and the verifier's first failing check names it.
import type { Problem } from './generator.js';
import { applyOp, quoteOf } from './generator.js';
import { formatAction, formatBoxed } from './format.js';
import { WorldRng } from './rng.js';
import { nextStep, replay } from './verifier.js';

export type MistakeKind = 'digit' | 'carry' | 'foreign' | 'skip' | 'stale' | 'op' | 'early' | 'answer' | 'late';
export const MISTAKE_KINDS: readonly MistakeKind[] = [
  'digit',
  'carry',
  'foreign',
  'skip',
  'stale',
  'op',
  'early',
  'answer',
  'late',
];

/**
 * Relative frequency of each mistake; kinds that do not apply at a step are left out there. The paper's
 * EFT candidates are the policy model's own samples, so the mix follows what the small model was measured
 * to get wrong in its own samples (docs/world.md "How the judge checks a step": all arithmetic, about
 * 4 carry slips to 1 last-digit slip), with every structural kind kept at a lower weight so the judge
 * still knows them.
 */
export const DEFAULT_MISTAKE_WEIGHTS: Record<MistakeKind, number> = {
  digit: 2.5,
  carry: 5,
  foreign: 0.6,
  skip: 0.6,
  stale: 0.4,
  op: 0.6,
  early: 0.5,
  answer: 1.5,
  late: 0.5,
};

const ANSWER_KINDS: ReadonlySet<MistakeKind> = new Set(['answer', 'late']);

function ok(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 10_000_000;
}

/** A different number a hand could write for n: a swapped pair of digits, one digit changed, ±1. */
function slip(n: number, rng: WorldRng): number {
  const s = String(n);
  const r = rng.next();
  if (r < 0.25 && s.length >= 2) {
    const i = rng.int(0, s.length - 2);
    return Number(s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2));
  }
  if (r < 0.6) {
    const i = rng.int(0, s.length - 1);
    const d = (Number(s[i]) + rng.int(1, 9)) % 10;
    const t = s.slice(0, i) + d + s.slice(i + 1);
    return Number(t);
  }
  return n + (rng.chance(0.5) ? 1 : -1);
}

/**
 * One wrong next-step body of the given kind after `earlier` (the correct steps so far, as text), or null
 * when the kind does not apply there (e.g. `stale` on the first step, `late` before the answer step).
 */
export function makeMistake(
  problem: Problem,
  earlier: readonly string[],
  kind: MistakeKind,
  rng: WorldRng,
): string | null {
  const st = replay(problem, earlier);
  if (st.done) return null;
  const t = problem.plan[st.next];
  const attempt = (f: () => string | null): string | null => {
    for (let i = 0; i < 20; i++) {
      const s = f();
      if (s !== null) return s;
    }
    return null;
  };
  // Templates a step could be mistaken for: any other phrase with a stated number or a word.
  const others = problem.plan.filter((u) => u !== t && u.y !== 'P');
  if (t === undefined) {
    if (kind === 'answer') {
      return attempt(() => {
        const z = slip(st.R, rng);
        return ok(z) && z !== st.R ? formatBoxed(z) : null;
      });
    }
    if (kind === 'late') {
      // One more step: a phrase of the problem applied again to the final value.
      return attempt(() => {
        const u = rng.pick(problem.plan.filter((v) => v.y !== 'P'));
        const x = u.x === 'R' ? st.R : (u.x as number),
          y = u.y as number;
        const z = applyOp(x, u.op, y);
        return ok(z) ? formatAction(quoteOf(u, x, y), x, u.op, y, z) : null;
      });
    }
    return null;
  }
  if (ANSWER_KINDS.has(kind)) return null;
  const val = (o: 'R' | 'P' | number) => (o === 'R' ? st.R : o === 'P' ? st.P : o);
  const x = val(t.x),
    y = val(t.y),
    z = applyOp(x, t.op, y);
  const q = quoteOf(t, x, y);
  switch (kind) {
    case 'digit':
      return attempt(() => {
        const d = rng.chance(0.5) ? (z % 10) + (rng.chance(0.5) ? 1 : -1) : rng.int(0, 9);
        const z2 = z - (z % 10) + d;
        return d >= 0 && d <= 9 && z2 !== z && ok(z2) ? formatAction(q, x, t.op, y, z2) : null;
      });
    case 'carry':
      return attempt(() => {
        const step = z >= 100 && rng.chance(0.3) ? 100 : 10;
        const z2 = z + (rng.chance(0.5) || z < step ? step : -step);
        return ok(z2) && z2 !== z ? formatAction(q, x, t.op, y, z2) : null;
      });
    case 'foreign':
      return attempt(() => {
        // Mistype the stated quantity more often than the running value (it is copied from further away);
        // half the time the quote carries the same typo, half the time only the arithmetic does.
        const which =
          t.form === 'word' ? 'x' : t.form === 'pack' ? rng.pick(['x', 'y'] as const) : rng.chance(0.7) ? 'y' : 'x';
        const n = slip(which === 'y' ? y : x, rng);
        if (n <= 0 || st.above.has(String(n))) return null;
        const [x2, y2] = which === 'y' ? [x, n] : [n, y];
        const z2 = applyOp(x2, t.op, y2);
        const typoInQuote = t.form !== 'word' && !(t.form === 'apply' && which === 'x') && rng.chance(0.5);
        return ok(z2) ? formatAction(typoInQuote ? quoteOf(t, x2, y2) : q, x2, t.op, y2, z2) : null;
      });
    case 'skip':
      return attempt(() => {
        if (rng.chance(0.5) && others.length > 0) {
          // Another phrase of the problem (skipping ahead or going back), done right.
          const u = rng.pick(others);
          const x2 = u.x === 'R' ? st.R : (u.x as number),
            y2 = u.y as number;
          const z2 = applyOp(x2, u.op, y2);
          const q2 = quoteOf(u, x2, y2);
          return ok(z2) && q2 !== q ? formatAction(q2, x2, u.op, y2, z2) : null;
        }
        // The right phrase, but another stated number in the arithmetic.
        const stated = problem.text
          .match(/\d+/g)!
          .map(Number)
          .filter((n) => n !== x && n !== y);
        if (stated.length === 0 || t.form === 'word') return null;
        const n = rng.pick(stated);
        const [x2, y2] = t.form === 'apply' || rng.chance(0.5) ? [x, n] : [n, y];
        const z2 = applyOp(x2, t.op, y2);
        return ok(z2) ? formatAction(q, x2, t.op, y2, z2) : null;
      });
    case 'stale': {
      if (t.x !== 'R') return null;
      const olds = [problem.start, ...problem.actions.slice(0, st.next).map((a) => a.z)].filter(
        (v) => v !== x && v !== y,
      );
      if (olds.length === 0) return null;
      return attempt(() => {
        const r = rng.pick(olds);
        const z2 = applyOp(r, t.op, y);
        return ok(z2) ? formatAction(q, r, t.op, y, z2) : null;
      });
    }
    case 'op': {
      const alts = { '+': ['-', '*'], '-': ['+'], '*': ['+'], '/': ['-', '*'] } as const;
      return attempt(() => {
        const op = rng.pick(alts[t.op]);
        const z2 = applyOp(x, op, y);
        return ok(z2) ? formatAction(q, x, op, y, z2) : null;
      });
    }
    case 'early':
      return formatBoxed(st.next === 0 ? problem.start : rng.chance(0.7) ? st.R : z);
    default:
      return null;
  }
}

export interface PolicyOptions {
  /** Candidates per tree layer (the paper's w = 6). */
  width: number;
  /** Probability that a candidate is the correct next step. */
  pCorrect: number;
  weights: Record<MistakeKind, number>;
}

export const DEFAULT_POLICY: PolicyOptions = { width: 6, pCorrect: 0.5, weights: DEFAULT_MISTAKE_WEIGHTS };

/**
 * `width` candidate next-step bodies after `earlier`: each is the correct step with probability pCorrect,
 * otherwise a mistake of a kind drawn by weight among those that apply here. Duplicates are kept (the
 * search merges identical candidates itself: open choice 8, docs/method.md §3).
 */
export function proposeCandidates(
  problem: Problem,
  earlier: readonly string[],
  opts: PolicyOptions,
  rng: WorldRng,
): string[] {
  const right = nextStep(problem, earlier);
  const out: string[] = [];
  for (let i = 0; i < opts.width; i++) {
    if (rng.chance(opts.pCorrect)) {
      out.push(right);
      continue;
    }
    let body: string | null = null;
    const weights = { ...opts.weights };
    while (body === null && Object.values(weights).some((w) => w > 0)) {
      const kind = rng.weighted(weights);
      body = makeMistake(problem, earlier, kind, rng);
      weights[kind] = 0;
    }
    out.push(body ?? right);
  }
  return out;
}
