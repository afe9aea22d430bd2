// report.html: a run's results as one self-contained page (inline SVG charts and CSS, no scripts, nothing
// fetched), for what people would rather see than read: accuracy per model on test and harder-test (M0
// first when its checkpoint is given), PSRLM against the SRLM baseline per iteration when a baseline run
// is given (otherwise a panel saying it was not run), the judge's health
// before each iteration (paper §3.3: the step judge is the model itself, so a judge no better than a
// random or majority pick on its own mixed candidates makes the step-wise DPO pairs noise) with its
// first-position and order-flip rates (pairs of a right and a wrong step) and held-out EFT accuracy, and
// the tables of report.md plus wall time and engine tokens per stage. It reads only the files a run
// writes (summary.json, iter-t/*.json, timings.json, engine_tokens.json) and asks the run's method
// (src/run/method.ts) what its files hold and how its figures are named; a missing figure shows as '–' or
// a gap in a line, never as a made-up value.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { barChart, emptyChart, esc, lineChart } from './charts.js';
import type { HealthFigures, Method } from './method.js';
import { methodOf } from './methods.js';
import { pairedSection, stepsChart } from './per-problem.js';
import { readJSONIf } from './stage.js';
import {
  fix,
  int,
  iterationRows,
  modelTable,
  num,
  outcomeRows,
  pct,
  table1Table,
  type ModelRow,
  type Table1Row,
} from './summary.js';

export interface ReportOptions {
  /** A second run (the SRLM baseline) drawn beside this one. */
  baseline?: string;
  /** The M0 checkpoint directory: its manifest's accuracies start the accuracy series. */
  m0?: string;
  /** Output file (default <runDir>/report.html). */
  out?: string;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const table = (head: string[], rows: string[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
  `${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

interface Run {
  dir: string;
  method: Method;
  name: string;
  models: ModelRow[];
  table1: Table1Row[];
  iterations: number;
}

function loadRun(dir: string): Run {
  const sum = readJSONIf<{ models?: ModelRow[]; table1?: Table1Row[] }>(path.join(dir, 'summary.json'));
  if (!sum?.models?.length)
    throw new Error(
      `${dir} holds no summary.json with models: is it a finished run directory (psrlm run / psrlm demo)?`,
    );
  const man = readJSONIf<{ config?: { method?: string } }>(path.join(dir, 'manifest.json'));
  const method = methodOf(man?.config?.method);
  return {
    dir,
    method,
    name: method.name,
    models: sum.models,
    table1: sum.table1 ?? [],
    iterations: sum.models.length - 1,
  };
}

/** M0's accuracies from its checkpoint manifest; without them the page says why M0 is missing (the demo
 *  passes its models directory whether or not it holds an evaluated M0, and a finished run must not fail
 *  at its report for that). */
function m0Accuracy(m0?: string): { acc: { test: number | null; harder: number | null } | null; note: string } {
  if (!m0) return { acc: null, note: '' };
  const f = path.join(m0, 'manifest.json');
  const r = readJSONIf<{ report?: { test?: { accuracy?: number }; harder?: { accuracy?: number } } }>(f)?.report;
  if (!r) return { acc: null, note: ` M0 is not shown: ${f} holds no evaluation report (psrlm pretrain writes it).` };
  return {
    acc: { test: num(r.test?.accuracy), harder: num(r.harder?.accuracy) },
    note: ' M0 is the pretrained base model before instruction tuning.',
  };
}

/** One bar group per iteration: how the self-judge of M_t did on its own candidates. */
interface Health extends HealthFigures {
  model: string;
  judgeAcc: number | null;
}

function healthRows(run: Run): Health[] {
  const rows: Health[] = [];
  for (let t = 1; t <= run.iterations; t++) {
    const model = `M${t}`;
    const h = run.method.healthFigures(path.join(run.dir, `iter-${t}`));
    if (h) rows.push({ model, ...h, judgeAcc: num(run.models.find((m) => m.model === model)?.judge_accuracy) });
  }
  return rows;
}

function healthCharts(run: Run): string[] {
  const h = healthRows(run),
    w = run.method.words;
  if (!h.length) return [emptyChart(`${run.name}: judge health per iteration`, [w.noHealth])];
  const cats = h.map((r) => r.model);
  return [
    barChart({
      title: w.pickTitle,
      categories: cats,
      yLabel: 'share right',
      series: [
        { name: w.pickSeries, values: h.map((r) => r.pick) },
        { name: 'random pick right', values: h.map((r) => r.random) },
        { name: 'majority vote right', values: h.map((r) => r.majority) },
      ],
    }),
    barChart({
      title: w.sideTitle,
      categories: cats,
      yLabel: 'share',
      refs: w.sideRefs,
      series: w.sideSeries.map((s) => ({ name: s.name, values: h.map((r) => r[s.of]) })),
    }),
  ];
}

function modelsTable(run: Run): string {
  const t = modelTable(run.method, run.models, 'html');
  return table(
    t.head,
    t.rows.map((r) => r.map(esc)),
  );
}

/** The per-iteration table of report.md: the method's (searches, or sampling and self-scoring). */
function iterationTable(run: Run): string {
  const rows = iterationRows(run.method, run.dir, run.iterations);
  if (!rows.length) return '<p>No iteration summaries in this run.</p>';
  const it = run.method.iterations;
  return `<h3>${esc(it.heading)}</h3>${table(
    it.columns,
    rows.map((r) => r.map(esc)),
  )}`;
}

/** Wall seconds (timings.json) and engine tokens (engine_tokens.json) per stage, with a total row. */
function stageTable(run: Run): string {
  const times = readJSONIf<Record<string, Record<string, number>>>(path.join(run.dir, 'timings.json')) ?? {};
  const toks =
    readJSONIf<Record<string, Record<string, Record<string, number>>>>(path.join(run.dir, 'engine_tokens.json')) ?? {};
  const keys = ['prompt_tokens', 'prefill_tokens', 'decode_tokens', 'calls'] as const;
  const total = { s: 0, k: {} as Record<string, number> }; // a token column with no figure at all totals '–'
  const rows: string[][] = [];
  const wheres = [...new Set([...Object.keys(times), ...Object.keys(toks)])];
  for (const where of wheres) {
    for (const stage of [...new Set([...Object.keys(times[where] ?? {}), ...Object.keys(toks[where] ?? {})])]) {
      const s = num(times[where]?.[stage]),
        k = toks[where]?.[stage];
      total.s += s ?? 0;
      for (const key of keys) if (num(k?.[key]) !== null) total.k[key] = (total.k[key] ?? 0) + k![key]!;
      rows.push([esc(where), esc(stage), fix(s, 1), ...keys.map((key) => int(k?.[key]))]);
    }
  }
  if (!rows.length) return '<p>No timings.json or engine_tokens.json in this run.</p>';
  rows.push(['<b>total</b>', '', `<b>${total.s.toFixed(1)}</b>`, ...keys.map((key) => `<b>${int(total.k[key])}</b>`)]);
  return table(['where', 'stage', 'wall s', 'prompt tokens', 'prefilled', 'decoded', 'model calls'], rows);
}

/** The graded figures of a run on a file's questions (nothing in a run on the synthetic world). */
function outcomeTable(run: Run): string {
  const rows = outcomeRows(run.method, run.dir, run.iterations);
  if (!rows.length) return '';
  const o = run.method.outcomes;
  return `<h3>${esc(o.heading)}</h3>${table(
    o.columns,
    rows.map((r) => r.map(esc)),
  )}\n`;
}

/** The paper's Table 1: each model's benchmark accuracies, the baseline run's models beside (none when no
 *  run evaluated benchmarks). */
function table1Section(run: Run, base: Run | null): string {
  const rows = [...run.table1, ...(base?.table1 ?? [])];
  if (!rows.length) return '';
  const t = table1Table(rows);
  return (
    `<h2>Table 1: greedy accuracy on the benchmarks</h2>${table(
      t.head,
      t.rows.map((r) => r.map(esc)),
    )}
<p class="note">Each model as <code>psrlm eval</code> evaluates it (greedy, the toolkit's grading); accuracy in ` +
    `percent.</p>\n`
  );
}

function runSection(run: Run, heading: string): string {
  const md = existsSync(path.join(run.dir, 'report.md')) ? readFileSync(path.join(run.dir, 'report.md'), 'utf8') : '';
  return (
    `<h2>${heading}: <code>${esc(run.dir)}</code></h2>
<h3>Models</h3>${modelsTable(run)}
${iterationTable(run)}
${outcomeTable(run)}<h3>Wall time and engine tokens per stage</h3>${stageTable(run)}
<p class="note">Wall times depend on the machine and on what else ran beside the run (2 shared cores); prompt ` +
    `tokens are what the pipeline asked for, prefilled what the engine computed after sharing prefixes.</p>
${md ? `<details><summary>report.md as written</summary><pre>${esc(md)}</pre></details>` : ''}`
  );
}

/** The report's HTML for a run (and optionally its baseline). */
export function renderReport(runDir: string, o: Omit<ReportOptions, 'out'> = {}): string {
  const run = loadRun(runDir);
  const base = o.baseline ? loadRun(o.baseline) : null;
  const { acc: m0, note: m0Note } = m0Accuracy(o.m0);
  const lead = (v: number | null) => (m0 ? [v] : []);
  const cats = [...(m0 ? ['M0'] : []), ...run.models.map((m) => m.model)];
  const charts: string[] = [];
  charts.push(
    lineChart({
      title: `${run.name}: greedy accuracy per model`,
      categories: cats,
      yLabel: 'accuracy',
      series: [
        { name: 'test', values: [...lead(m0?.test ?? null), ...run.models.map((m) => num(m.test_accuracy))] },
        {
          name: 'harder-test',
          values: [...lead(m0?.harder ?? null), ...run.models.map((m) => num(m.harder_accuracy))],
        },
      ],
    }),
  );
  const other = methodOf(run.method.comparedWith).name;
  if (base) {
    const n = Math.max(run.models.length, base.models.length);
    const vals = (r: Run) => [
      ...lead(m0?.test ?? null),
      ...Array.from({ length: n }, (_, i) => num(r.models[i]?.test_accuracy)),
    ];
    const baseName = base.name === run.name ? `${base.name} (baseline)` : base.name;
    charts.push(
      lineChart({
        title: `${run.name} vs ${baseName}: test accuracy per iteration`,
        yLabel: 'test accuracy',
        categories: [...(m0 ? ['M0'] : []), ...Array.from({ length: n }, (_, i) => `M${i + 1}`)],
        series: [
          { name: run.name, values: vals(run) },
          { name: baseName, values: vals(base) },
        ],
      }),
    );
  } else {
    charts.push(
      emptyChart(`${run.name} vs ${other}: test accuracy per iteration`, [
        `The ${other} baseline was not run with this report: nothing to compare.`,
        `psrlm report <run> --baseline <${other.toLowerCase()} run dir>`,
      ]),
    );
  }
  charts.push(...healthCharts(run));
  const baseRef =
    base && o.baseline
      ? { name: base.name === run.name ? `${base.name} (baseline)` : base.name, dir: o.baseline }
      : undefined;
  const steps = stepsChart(run.name, runDir, baseRef);
  if (steps) charts.push(steps);
  const gate = healthRows(run)
    .map(
      (r) =>
        `<li><b>${esc(r.model)}</b>: ${esc(r.label)}` +
        `${r.mixed === null ? '' : ` (mixed prefixes ${pct(r.mixed)})`}</li>`,
    )
    .join('');
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, ` +
    `initial-scale=1"><title>${run.name} run report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:32px}h3{font-size:15px;margin:18px 0 4px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:12px;align-items:start}
.chart{width:100%;height:auto;background:#fafafa;border:1px solid #e4e4e4}
.chart-title{font-size:13px;font-weight:600}.tick,.legend,.axis-label{font-size:11px;fill:#444}` +
    `.value{font-size:10px}.small{font-size:9px}
.note{font-size:12px;fill:#666;color:#666}.ref-label{font-size:10px;fill:#555}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:3px ` +
    `8px;text-align:right;vertical-align:top}th{background:#f3f3f3}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}td:not(:last-child){white-space:nowrap}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}summary{cursor:pointer;color:#555}
</style></head><body>
<h1>${run.name} run: ${esc(path.basename(path.resolve(runDir)))}</h1>
<p>Greedy accuracy with the world's checker (measurement only: nothing in the loop reads it).${esc(m0Note)}</p>
<div class="charts">${charts.join('\n')}</div>
${gate ? `<h2>${capital(run.method.words.judge)} gate before each iteration</h2><ul>${gate}</ul>` : ''}
${pairedSection(run.name, runDir, baseRef)}${table1Section(run, base)}${runSection(run, run.name)}
${base ? runSection(base, `Baseline (${base.name})`) : ''}
</body></html>
`
  );
}

/** Writes report.html (atomically) and returns its path. */
export function writeReport(runDir: string, o: ReportOptions = {}): string {
  const out = o.out ?? path.join(runDir, 'report.html');
  writeFileAtomic(out, renderReport(runDir, o));
  return out;
}
