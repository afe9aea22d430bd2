// The parts of report.html built from each model's per-problem results on the synthetic world (eval.json:
// `correct`, one character per problem, and `by_steps`, right and problems by the number of steps a
// problem's solution needs): accuracy by steps needed as a chart (the paper's gains are largest on the hard
// sets; here hardness is length), and the paired differences M_t − M1 and PSRLM − SRLM with their bootstrap
// 95% intervals (src/run/compare.ts). A run on a file's questions has neither, and gets neither.
import { formatPaired, type PairedDiff } from '../measure/paired.js';
import { emptyChart, esc, lineChart } from './charts.js';
import { compareRuns, runEvals, type EvalResults, type SplitPairs } from './compare.js';

type BySteps = Record<string, [number, number]>;

/** A model's [right, problems] by steps needed over both splits (test and harder together). */
function stepsOf(e: EvalResults | undefined): { model: string; steps: BySteps } | null {
  if (!e?.test?.by_steps || !e.harder?.by_steps) return null;
  const steps: BySteps = {};
  for (const part of [e.test.by_steps, e.harder.by_steps])
    for (const [k, [r, n]] of Object.entries(part)) {
      const c = (steps[k] ??= [0, 0]);
      c[0] += r;
      c[1] += n;
    }
  return { model: e.model, steps };
}

/**
 * Greedy accuracy by the number of steps a problem needs (test and harder together): the run's first and
 * last models, and the baseline run's last. The problem counts per step count are in the x labels.
 */
export function stepsChart(runName: string, runDir: string, base?: { name: string; dir: string }): string | null {
  const evals = runEvals(runDir);
  const first = stepsOf(evals[0]);
  if (!first) return null;
  const last = evals.length > 1 ? stepsOf(evals[evals.length - 1]) : null;
  const baseEvals = base ? runEvals(base.dir) : [];
  const baseLast = baseEvals.length > 1 ? stepsOf(baseEvals[baseEvals.length - 1]) : null;
  const lines = [
    { name: `${runName} ${first.model}`, s: first.steps },
    ...(last ? [{ name: `${runName} ${last.model}`, s: last.steps }] : []),
    ...(baseLast && base ? [{ name: `${base.name} ${baseLast.model}`, s: baseLast.steps }] : []),
  ];
  const ks = Object.keys(first.steps).sort((a, b) => Number(a) - Number(b));
  if (!ks.length) return emptyChart(`${runName}: accuracy by steps needed`, ['No problems were evaluated.']);
  return lineChart({
    title: `${runName}: greedy accuracy by steps a problem needs (test and harder)`,
    categories: ks.map((k) => `${k} (n ${first.steps[k]![1]})`),
    yLabel: 'accuracy',
    series: lines.map((l) => ({
      name: l.name,
      values: ks.map((k) => (l.s[k] && l.s[k]![1] ? l.s[k]![0] / l.s[k]![1] : null)),
    })),
  });
}

const cell = (d: PairedDiff | null) =>
  d ? `${esc(formatPaired(d))} <span class="small">(n ${d.n}; +${d.b_only} / −${d.a_only})</span>` : '–';

/** The paired differences as an HTML table, or '' when the runs kept no per-problem results. */
export function pairedSection(runName: string, runDir: string, base?: { name: string; dir: string }): string {
  const c = compareRuns(runDir, base?.dir ?? null);
  const rows: string[] = [];
  const add = (label: string, x: SplitPairs) =>
    rows.push(`<tr><td>${esc(label)}</td><td>${cell(x.test)}</td><td>${cell(x.harder)}</td></tr>`);
  for (const [m, x] of Object.entries(c.psrlm_gain)) add(`${runName} ${m} − M1`, x);
  if (base) for (const [m, x] of Object.entries(c.srlm_gain ?? {})) add(`${base.name} ${m} − M1`, x);
  if (c.psrlm_minus_srlm_last && base) add(`${runName} − ${base.name}, last models`, c.psrlm_minus_srlm_last);
  if (c.psrlm_gain_minus_srlm_gain && base)
    add(`${runName}'s gain − ${base.name}'s gain (last − M1 of each)`, c.psrlm_gain_minus_srlm_gain);
  if (!rows.some((r) => r.includes('['))) return '';
  return (
    `<h2>Paired differences (points, bootstrap 95% interval on the same problems)</h2>` +
    `<table><thead><tr><th>comparison</th><th>test</th><th>harder</th></tr></thead><tbody>${rows.join('')}` +
    `</tbody></table>\n<p class="note">Each difference is over the problems both models were evaluated on ` +
    `(a smaller evaluation is of the first problems of a larger one); +k / −k: problems only the later model, ` +
    `or only the earlier, got right (for a gain difference: problems where the first run gained more, or ` +
    `less). An interval that holds 0 is not a measured difference.</p>\n`
  );
}
