// A run's summary: one row per model (M1, then the model each iteration trained) with its evaluation and
// how the self-judge of its parent did, written as summary.json and as the tables of report.md; report.html
// (src/run/report.ts) and the demo read the same rows. The cell formats here are the ones every report
// uses, so a figure reads the same in report.md and report.html, and a missing one shows as '–'.
// Deterministic: wall times stay in timings.json.
import path from 'node:path';
import type { RunConfig } from './config.js';
import type { Method } from './method.js';
import { readJSON } from './stage.js';

export interface ModelRow {
  model: string;
  test_accuracy: number;
  harder_accuracy: number;
  judge_accuracy: number;
  /** Greedy next-step accuracy at held-out test prefixes (null: not measured). */
  next_step_accuracy: number | null;
  steps_per_solution: number;
  step_length: number;
  /** The rows of trained models: what they were trained on and how their parent's self-judge did. */
  pairs_kept?: number;
  judge_health_of_parent?: string;
  chosen_step_verifier_agreement?: number;
}

export interface Summary { models: ModelRow[] }

/** The figures of an eval.json that a row shows. */
interface EvalFile {
  test: { accuracy: number };
  harder: { accuracy: number };
  judge: { accuracy: number };
  next_step?: { accuracy: number } | null;
  steps_per_solution: number;
  step_length: number;
  pairs_kept?: number;
}

const evalFigures = (e: EvalFile) => ({
  test_accuracy: e.test.accuracy, harder_accuracy: e.harder.accuracy, judge_accuracy: e.judge.accuracy,
  next_step_accuracy: e.next_step?.accuracy ?? null,
  steps_per_solution: e.steps_per_solution, step_length: e.step_length,
});

/** summary.json of a finished run in `out`. */
export function summarize(out: string, iterations: number, method: Method): Summary {
  const m1 = readJSON<EvalFile>(path.join(out, 'baseline', 'eval.json'));
  const rows: ModelRow[] = [{ model: 'M1', ...evalFigures(m1) }];
  for (let t = 1; t <= iterations; t++) {
    const d = path.join(out, `iter-${t}`);
    const ev = readJSON<EvalFile>(path.join(d, 'eval.json'));
    rows.push({ model: `M${t + 1}`, ...evalFigures(ev), pairs_kept: ev.pairs_kept, ...method.parentHealth(d) });
  }
  return { models: rows };
}

export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** A share as a percent with one decimal. */
export const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
export const pct = (v: unknown): string => (num(v) === null ? '–' : percent(v as number));
export const fix = (v: unknown, d: number): string => (num(v) === null ? '–' : (v as number).toFixed(d));
export const int = (v: unknown): string => (num(v) === null ? '–' : String(v));

/** A table's header and rows as plain text (report.html escapes each cell). */
export interface Table { head: string[]; rows: string[][] }

/** The models table: report.md's, or report.html's (no next-step column; the verifier column keeps its
 *  name for every method there, with '–' in the cells of a method that chooses no steps). */
export function modelTable(method: Method, models: readonly ModelRow[], form: 'md' | 'html'): Table {
  const md = form === 'md', w = method.words;
  const head = [
    'model', 'test acc', 'harder acc', ...(md ? ['next-step acc (held-out prefixes)'] : []), w.judgeColumn,
    'steps/solution', 'step length', 'pairs it was trained on',
    md ? w.verifierColumn : 'verifier agrees with chosen steps',
    `${w.judge} health of its parent`,
  ];
  const rows = models.map((m) => [
    m.model, pct(m.test_accuracy), pct(m.harder_accuracy), ...(md ? [pct(m.next_step_accuracy)] : []),
    pct(m.judge_accuracy),
    fix(m.steps_per_solution, 2), fix(m.step_length, 2), int(m.pairs_kept), pct(m.chosen_step_verifier_agreement),
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

const mdTable = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${'---|'.repeat(head.length)}`, ...rows.map((r) => `| ${r.join(' | ')} |`)];

/** report.md: the summary and the method's iteration figures as tables. */
export function summaryMarkdown(cfg: RunConfig, method: Method, sum: Summary, out: string): string {
  const w = method.words;
  const models = modelTable(method, sum.models, 'md');
  return [
    `# ${method.title} run: M1 → M${cfg.iterations + 1}`,
    '',
    `Seed ${cfg.seed}, start model \`${cfg.model}\`${w.modelNote}, template \`${cfg.template}\`; `
      + `the resolved config is in manifest.json, wall times in timings.json.${w.judgeNote}`,
    '',
    ...mdTable(models.head, models.rows),
    '',
    `## ${method.iterations.heading}`,
    '',
    ...mdTable(method.iterations.columns, iterationRows(method, out, cfg.iterations)),
    '',
    'The verifier columns are measurements only: nothing in the loop reads them.',
    '',
  ].join('\n');
}
