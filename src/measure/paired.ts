// Paired comparisons of two models on the same problems: the difference of their accuracies with a paired
// bootstrap 95% interval (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13, percentile
// interval). Two models that meet the same problems make correlated mistakes (an easy problem is easy for
// both), so resampling problems, not each model's results apart, gives the interval the comparison actually
// has: narrower than two independent intervals whenever the models agree on most problems. The draws come
// from a stream seeded by the caller's coordinates, so a reported interval can be recomputed exactly.
//
// A model's results are a string of '1' (right) and '0' (wrong), one character per problem in a fixed order
// (SolveReport.correct in src/measure/world.ts): compact in eval.json, and two strings are paired when they
// are of the same problems in the same order.
import { Rng } from '../engine/rng.js';

export interface PairedDiff {
  /** Problems compared. */
  n: number;
  /** Accuracy of b minus accuracy of a, on the same problems. */
  diff: number;
  /** The 2.5th and 97.5th percentiles of the bootstrap distribution of `diff`. */
  ci: [number, number];
  /** Problems only b got right, and only a got right (the discordant pairs that make up `diff`). */
  b_only: number;
  a_only: number;
}

export const BOOTSTRAP_SAMPLES = 10_000;

/** '1'/'0' per problem → booleans, refusing anything else (a results string is a contract, not free text). */
export function parseResults(s: string, what = 'results'): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '0' && c !== '1')
      throw new Error(`${what}: character ${i} is ${JSON.stringify(c)}; a results string holds only '0' and '1'`);
    out.push(c === '1');
  }
  return out;
}

export const resultsString = (ok: readonly boolean[]) => ok.map((x) => (x ? '1' : '0')).join('');

/** The value at quantile q of sorted values, interpolated linearly between order statistics (type 7). */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * b − a on the same problems with a paired bootstrap 95% interval: `samples` times, n problems drawn with
 * replacement, the difference of the two accuracies on the draw. Only problems where the models differ move
 * the difference, so each draw counts how many of those it picked.
 */
export function pairedBootstrap(
  a: readonly boolean[] | string,
  b: readonly boolean[] | string,
  seed: number,
  samples = BOOTSTRAP_SAMPLES,
): PairedDiff {
  const A = typeof a === 'string' ? parseResults(a, 'first model') : a;
  const B = typeof b === 'string' ? parseResults(b, 'second model') : b;
  if (A.length !== B.length)
    throw new Error(
      `a paired comparison needs the same problems: ${A.length} results against ${B.length} ` +
        `(evaluate both models on the same split and count)`,
    );
  const n = A.length;
  if (n === 0) throw new Error('a paired comparison of no problems: evaluate on at least one problem');
  if (!Number.isInteger(samples) || samples < 100)
    throw new Error(`bootstrap samples must be an integer ≥ 100 (got ${samples})`);
  // d_i ∈ {-1, 0, +1}; a draw's difference is the mean of n draws of d
  const d = new Int8Array(n);
  let bOnly = 0,
    aOnly = 0;
  for (let i = 0; i < n; i++) {
    d[i] = (B[i] ? 1 : 0) - (A[i] ? 1 : 0);
    if (d[i] === 1) bOnly++;
    else if (d[i] === -1) aOnly++;
  }
  return { n, diff: (bOnly - aOnly) / n, ci: bootstrapMean(d, seed, samples), b_only: bOnly, a_only: aOnly };
}

/** The percentile 95% interval of the mean of per-problem differences, problems resampled `samples` times. */
function bootstrapMean(d: Int8Array, seed: number, samples: number): [number, number] {
  const n = d.length;
  const rng = new Rng(seed);
  const dist = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += d[rng.int(n)]!;
    dist[s] = sum / n;
  }
  dist.sort();
  return [quantile(dist, 0.025), quantile(dist, 0.975)];
}

/**
 * One method's gain minus another's, each over its own first model, on the same problems:
 * (b_last − b_first) − (a_last − a_first), with the paired bootstrap interval of that difference (problems
 * resampled together across all four models). It compares two methods fairly when they start from different
 * models. `b_only` / `a_only` count the problems where b's gain is larger / smaller than a's.
 */
export function pairedGainDifference(
  aFirst: string,
  aLast: string,
  bFirst: string,
  bLast: string,
  seed: number,
  samples = BOOTSTRAP_SAMPLES,
): PairedDiff {
  const r = [aFirst, aLast, bFirst, bLast].map((x, i) =>
    parseResults(x, ['a first', 'a last', 'b first', 'b last'][i]),
  );
  const n = r[0]!.length;
  if (r.some((x) => x.length !== n))
    throw new Error(
      `a gain difference needs the same problems for all four models: ${r.map((x) => x.length).join(', ')} results`,
    );
  if (n === 0) throw new Error('a gain difference of no problems: evaluate on at least one problem');
  const v = (x: boolean[], i: number) => (x[i] ? 1 : 0);
  const d = new Int8Array(n);
  let bMore = 0,
    aMore = 0,
    sum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = v(r[3]!, i) - v(r[2]!, i) - (v(r[1]!, i) - v(r[0]!, i));
    sum += d[i]!;
    if (d[i]! > 0) bMore++;
    else if (d[i]! < 0) aMore++;
  }
  return { n, diff: sum / n, ci: bootstrapMean(d, seed, samples), b_only: bMore, a_only: aMore };
}

/** An interval as the demo's JSON holds it: accuracy fractions like its other figures, to 4 decimals. */
export const ciPair = (p: PairedDiff): [number, number] => [
  Math.round(p.ci[0] * 1e4) / 1e4,
  Math.round(p.ci[1] * 1e4) / 1e4,
];

/** "+3.5 [+1.2, +5.8]" in points. */
export function formatPaired(p: PairedDiff): string {
  const f = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
  return `${f(p.diff)} [${f(p.ci[0])}, ${f(p.ci[1])}]`;
}
