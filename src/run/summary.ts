// A run's summary: one row per model (M1, then the model each iteration trained) with its evaluation and
// how the self-judge of its parent did, written as summary.json and as the tables of report.md; report.html
// (src/run/report.ts) and the demo read the same rows. The cell formats here are the ones every report
// uses, so a figure reads the same in report.md and report.html, and a missing one shows as '–'.
// Deterministic: wall times stay in timings.json.
import path from 'node:path';
import type { Engine } from '../engine/types.js';
import { evaluate as evaluateBenchmarks } from '../eval/evaluate.js';
import type { GradePool } from '../eval/grade.js';
import type { BenchmarksConfig, RunConfig } from './config.js';
import type { Method } from './method.js';
import { readJSON } from './stage.js';

/** A model's figures; the world's (test, harder, judge, next step, steps) are null in a run on a file's
 *  questions, which evaluates on benchmarks only (Table1Row). */
export interface ModelRow {
  model: string;
  test_accuracy: number | null;
  harder_accuracy: number | null;
  judge_accuracy: number | null;
  /** Greedy next-step accuracy at held-out test prefixes (null: not measured). */
  next_step_accuracy: number | null;
  steps_per_solution: number | null;
  step_length: number | null;
  /** The rows of trained models: what they were trained on and how their parent's self-judge did. */
  pairs_kept?: number;
  judge_health_of_parent?: string;
  chosen_step_verifier_agreement?: number;
}

/** A model's row of the paper's Table 1: greedy accuracy (percent, one decimal, as the toolkit reports it)
 *  per benchmark of the config's `eval.benchmarks`, and their average. */
export interface Table1Row {
  model: string;
  method: string;
  [bench: string]: string | number;
  avg: number;
}

export interface Summary {
  models: ModelRow[];
  table1?: Table1Row[];
}

/** eval.json's `table1`: what `psrlm eval` reports for the model on the config's benchmarks. */
export interface BenchmarkRow {
  prompt: string;
  limit: number | null;
  benchmarks: Record<string, { n: number; correct: number; acc: number }>;
  /** The mean of the benchmarks' accuracies. */
  avg: number;
}

/** A model's Table-1 figures: greedy, through the benchmark evaluation `psrlm eval` uses (src/eval/evaluate.ts). */
export async function benchmarkRow(engine: Engine, b: BenchmarksConfig, grader?: GradePool): Promise<BenchmarkRow> {
  const { summary, average } = await evaluateBenchmarks(engine, {
    benches: b.names,
    prompt: b.prompt,
    limit: b.limit,
    maxTokens: b.max_tokens,
    ...(grader ? { grader } : {}),
  });
  return {
    prompt: b.prompt,
    limit: b.limit ?? null,
    benchmarks: Object.fromEntries(summary.map((x) => [x.bench, { n: x.n, correct: x.correct, acc: x.acc }])),
    avg: Math.round(average * 10) / 10,
  };
}

/** A log line of a Table-1 row. */
export function table1Line(r: BenchmarkRow): string {
  const cells = Object.entries(r.benchmarks).map(([b, x]) => `${b} ${x.acc.toFixed(1)} (${x.correct}/${x.n})`);
  return (
    `benchmarks (greedy, ${r.prompt}${r.limit === null ? '' : `, first ${r.limit} each`}): ` +
    `${cells.join(', ')}; avg ${r.avg.toFixed(1)}`
  );
}

/** The figures of an eval.json that a row shows (the world's are absent in a run on a file's questions). */
interface EvalFile {
  test?: { accuracy: number };
  harder?: { accuracy: number };
  judge?: { accuracy: number };
  next_step?: { accuracy: number } | null;
  steps_per_solution?: number;
  step_length?: number;
  pairs_kept?: number;
  table1?: BenchmarkRow;
}

const evalFigures = (e: EvalFile) => ({
  test_accuracy: e.test?.accuracy ?? null,
  harder_accuracy: e.harder?.accuracy ?? null,
  judge_accuracy: e.judge?.accuracy ?? null,
  next_step_accuracy: e.next_step?.accuracy ?? null,
  steps_per_solution: e.steps_per_solution ?? null,
  step_length: e.step_length ?? null,
});

const table1Row = (model: string, method: Method, r: BenchmarkRow): Table1Row => ({
  model,
  method: method.name,
  ...Object.fromEntries(Object.entries(r.benchmarks).map(([b, x]) => [b, x.acc])),
  avg: r.avg,
});

/** summary.json of a finished run in `out`. */
export function summarize(out: string, iterations: number, method: Method): Summary {
  const m1 = readJSON<EvalFile>(path.join(out, 'baseline', 'eval.json'));
  const rows: ModelRow[] = [{ model: 'M1', ...evalFigures(m1) }];
  const table1: Table1Row[] = m1.table1 ? [table1Row('M1', method, m1.table1)] : [];
  for (let t = 1; t <= iterations; t++) {
    const d = path.join(out, `iter-${t}`);
    const ev = readJSON<EvalFile>(path.join(d, 'eval.json'));
    rows.push({ model: `M${t + 1}`, ...evalFigures(ev), pairs_kept: ev.pairs_kept, ...method.parentHealth(d) });
    if (ev.table1) table1.push(table1Row(`M${t + 1}`, method, ev.table1));
  }
  return table1.length ? { models: rows, table1 } : { models: rows };
}

/** The Table-1 layout (the paper's): model, method, one column per benchmark, average. Rows of several runs
 *  (PSRLM beside its SRLM baseline) share the columns; a benchmark a run did not evaluate shows '–'. */
export function table1Table(rows: readonly Table1Row[]): Table {
  const benches = [
    ...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => !['model', 'method', 'avg'].includes(k)))),
  ];
  return {
    head: ['model', 'method', ...benches, 'avg'],
    rows: rows.map((r) => [r.model, r.method, ...benches.map((b) => fix(r[b], 1)), fix(r.avg, 1)]),
  };
}

export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** A share as a percent with one decimal. */
export const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
export const pct = (v: unknown): string => (num(v) === null ? '–' : percent(v as number));
export const fix = (v: unknown, d: number): string => (num(v) === null ? '–' : (v as number).toFixed(d));
export const int = (v: unknown): string => (num(v) === null ? '–' : String(v));

/** A table's header and rows as plain text (report.html escapes each cell). */
export interface Table {
  head: string[];
  rows: string[][];
}

/** The models table: report.md's, or report.html's (no next-step column; the verifier column keeps its
 *  name for every method there, with '–' in the cells of a method that chooses no steps). */
export function modelTable(method: Method, models: readonly ModelRow[], form: 'md' | 'html'): Table {
  const md = form === 'md',
    w = method.words;
  const head = [
    'model',
    'test acc',
    'harder acc',
    ...(md ? ['next-step acc (held-out prefixes)'] : []),
    w.judgeColumn,
    'steps/solution',
    'step length',
    'pairs it was trained on',
    md ? w.verifierColumn : 'verifier agrees with chosen steps',
    `${w.judge} health of its parent`,
  ];
  const rows = models.map((m) => [
    m.model,
    pct(m.test_accuracy),
    pct(m.harder_accuracy),
    ...(md ? [pct(m.next_step_accuracy)] : []),
    pct(m.judge_accuracy),
    fix(m.steps_per_solution, 2),
    fix(m.step_length, 2),
    int(m.pairs_kept),
    pct(m.chosen_step_verifier_agreement),
    m.judge_health_of_parent ?? '–',
  ]);
  return { head, rows };
}

/** The method's per-iteration rows of a run (iterations whose files are missing are left out). */
export function iterationRows(method: Method, runDir: string, iterations: number): string[][] {
  const rows: string[][] = [];
  for (let t = 1; t <= iterations; t++) {
    const r = method.iterations.row(path.join(runDir, `iter-${t}`), t);
    if (r) rows.push(r);
  }
  return rows;
}

const mdTable = (head: string[], rows: string[][]) => [
  `| ${head.join(' | ')} |`,
  `|${'---|'.repeat(head.length)}`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

/** report.md: the summary and the method's iteration figures as tables. */
export function summaryMarkdown(cfg: RunConfig, method: Method, sum: Summary, out: string): string {
  const w = method.words;
  const models = modelTable(method, sum.models, 'md');
  return [
    `# ${method.title} run: M1 → M${cfg.iterations + 1}`,
    '',
    `Seed ${cfg.seed}, start model \`${cfg.model}\`${w.modelNote}, template \`${cfg.template}\`; ` +
      `the resolved config is in manifest.json, wall times in timings.json.${w.judgeNote}`,
    '',
    ...mdTable(models.head, models.rows),
    '',
    `## ${method.iterations.heading}`,
    '',
    ...mdTable(method.iterations.columns, iterationRows(method, out, cfg.iterations)),
    '',
    ...outcomeLines(method, out, cfg.iterations),
    ...(sum.table1 ? table1Lines(sum.table1) : []),
    'The verifier columns are measurements only: nothing in the loop reads them.',
    '',
  ].join('\n');
}

/** report.md's section of outcome-graded figures (a run on a file's questions; none otherwise). */
function outcomeLines(method: Method, out: string, iterations: number): string[] {
  const rows = outcomeRows(method, out, iterations);
  if (!rows.length) return [];
  return [
    `## ${method.outcomes.heading}`,
    '',
    ...mdTable(method.outcomes.columns, rows),
    '',
    "Graded against the questions' gold answers with the benchmark grader: measurement only, as the verifier is.",
    '',
  ];
}

function table1Lines(rows: readonly Table1Row[]): string[] {
  const t = table1Table(rows);
  return ['## Table 1: greedy accuracy on the benchmarks', '', ...mdTable(t.head, t.rows), ''];
}

/** The method's per-iteration outcome-graded rows (iterations without graded figures are left out). */
export function outcomeRows(method: Method, runDir: string, iterations: number): string[][] {
  const rows: string[][] = [];
  for (let t = 1; t <= iterations; t++) {
    const r = method.outcomes.row(path.join(runDir, `iter-${t}`), t);
    if (r) rows.push(r);
  }
  return rows;
}
