// Paired comparisons between the models of finished runs on the synthetic world (paper Table 1's columns
// as differences with their uncertainty): every model of a run is evaluated greedily on the first problems
// of the same test and harder splits, so two models' per-problem results (eval.json, `test.correct` and
// `harder.correct`) pair item by item over the problems both saw (a smaller evaluation is a prefix of a
// larger one). Each difference gets a paired bootstrap 95% interval (src/measure/paired.ts) whose draws are
// seeded by what is compared, so the same runs give the same intervals.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { deriveSeed } from '../engine/rng.js';
import { pairedBootstrap, pairedGainDifference, type PairedDiff } from '../measure/paired.js';
import { readJSON } from './stage.js';

export const SPLITS = ['test', 'harder'] as const;
export type EvalSplit = (typeof SPLITS)[number];

/** A model's per-problem results on a split: '1'/'0' per problem, and [right, problems] by steps needed. */
interface SplitResults {
  correct?: string;
  by_steps?: Record<string, [number, number]>;
}

export interface EvalResults {
  model: string;
  test?: SplitResults;
  harder?: SplitResults;
}

/** The eval.json of every model of a run, M1 (baseline/) first, in order; stops at the first iteration
 *  without one. */
export function runEvals(dir: string): EvalResults[] {
  const out: EvalResults[] = [];
  const first = path.join(dir, 'baseline', 'eval.json');
  if (!existsSync(first)) return out;
  out.push(readJSON<EvalResults>(first));
  for (let t = 1; existsSync(path.join(dir, `iter-${t}`, 'eval.json')); t++)
    out.push(readJSON<EvalResults>(path.join(dir, `iter-${t}`, 'eval.json')));
  return out;
}

/** b − a on one split, over the problems both were evaluated on; null when either has no per-problem
 *  results (a run on a file's questions, or one written before they were kept). */
export function comparePaired(a: EvalResults, b: EvalResults, split: EvalSplit, what: string): PairedDiff | null {
  const x = a[split]?.correct,
    y = b[split]?.correct;
  if (!x || !y) return null;
  const n = Math.min(x.length, y.length);
  return pairedBootstrap(x.slice(0, n), y.slice(0, n), deriveSeed('paired', what, split));
}

export type SplitPairs = Record<EvalSplit, PairedDiff | null>;

const bySplit = (a: EvalResults, b: EvalResults, what: string): SplitPairs => ({
  test: comparePaired(a, b, 'test', what),
  harder: comparePaired(a, b, 'harder', what),
});

export interface RunComparisons {
  /** M_t − M1 for every later model of the PSRLM run, by model name. */
  psrlm_gain: Record<string, SplitPairs>;
  /** The same for the baseline run, when there is one. */
  srlm_gain: Record<string, SplitPairs> | null;
  /** The PSRLM run's last model minus the baseline's last model (null: no baseline, or different lengths). */
  psrlm_minus_srlm_last: SplitPairs | null;
  /** PSRLM's gain (last − M1) minus the baseline's, on the same problems: the fair comparison when the two
   *  runs start from different M1s. */
  psrlm_gain_minus_srlm_gain: SplitPairs | null;
}

/** (b_last − b_first) − (a_last − a_first) on one split, over the problems all four saw; null when any lacks
 *  per-problem results. */
function gainDifference(
  aFirst: EvalResults,
  aLast: EvalResults,
  bFirst: EvalResults,
  bLast: EvalResults,
  split: EvalSplit,
): PairedDiff | null {
  const xs = [aFirst, aLast, bFirst, bLast].map((m) => m[split]?.correct);
  if (xs.some((x) => !x)) return null;
  const n = Math.min(...xs.map((x) => x!.length));
  const [a1, a2, b1, b2] = xs.map((x) => x!.slice(0, n)) as [string, string, string, string];
  return pairedGainDifference(a1, a2, b1, b2, deriveSeed('paired', 'gain-difference:last', split));
}

function gains(evals: EvalResults[], method: string): Record<string, SplitPairs> {
  const out: Record<string, SplitPairs> = {};
  for (const m of evals.slice(1)) out[m.model] = bySplit(evals[0]!, m, `${method}:${m.model}-M1`);
  return out;
}

/** Every paired comparison the demo and the report show, from the two runs' directories. */
export function compareRuns(psrlmDir: string, srlmDir: string | null): RunComparisons {
  const p = runEvals(psrlmDir);
  const s = srlmDir ? runEvals(srlmDir) : [];
  const lastP = p[p.length - 1],
    lastS = s[s.length - 1];
  // the last models of two runs of the same length, each with a first model to gain from
  const comparable = lastP && lastS && p.length === s.length && p.length > 1;
  return {
    psrlm_gain: gains(p, 'psrlm'),
    srlm_gain: s.length ? gains(s, 'srlm') : null,
    psrlm_minus_srlm_last: comparable ? bySplit(lastS, lastP, 'psrlm-srlm:last') : null,
    psrlm_gain_minus_srlm_gain: comparable
      ? {
          test: gainDifference(s[0]!, lastS, p[0]!, lastP, 'test'),
          harder: gainDifference(s[0]!, lastS, p[0]!, lastP, 'harder'),
        }
      : null,
  };
}
