// report.html: a run's results as one self-contained page (inline SVG charts and CSS, no scripts, nothing
// fetched), for what people would rather see than read (issue "[3 of 5]", Runs): accuracy per model on
// test and harder-test, PSRLM against the SRLM baseline when a baseline run is given, the judge's health
// before each iteration (its pick vs a random pick vs a majority vote on mixed prefixes, first-position
// and order-flip rates, held-out judge accuracy), and the tables of report.md plus wall time and engine
// tokens per stage. It reads only the files a run writes (summary.json, iter-t/*.json, timings.json,
// engine_tokens.json) and works for PSRLM and SRLM runs alike.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../engine/atomic.js';
import { barChart, emptyChart, lineChart } from './charts.js';

interface ModelRow { model: string; test_accuracy: number; harder_accuracy: number; judge_accuracy: number; steps_per_solution?: number; step_length?: number; pairs_kept?: number; judge_health_of_parent?: string }

export interface ReportOptions {
  /** A second run (the SRLM baseline) drawn beside this one. */
  baseline?: string;
  /** The M0 checkpoint directory: its manifest's accuracies start both series. */
  m0?: string;
  /** Output file (default <runDir>/report.html). */
  out?: string;
}

const readJSON = <T>(f: string): T | null => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : null);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const pct = (v: number | undefined | null) => (typeof v === 'number' ? `${(100 * v).toFixed(1)}%` : '–');

interface Run { dir: string; method: string; models: ModelRow[]; iterations: number }

function loadRun(dir: string): Run {
  const sum = readJSON<{ models: ModelRow[] }>(path.join(dir, 'summary.json'));
  if (!sum) throw new Error(`${dir} holds no summary.json: is it a finished run directory (psrlm run / psrlm demo)?`);
  const man = readJSON<{ config?: { method?: string } }>(path.join(dir, 'manifest.json'));
  return { dir, method: man?.config?.method ?? 'psrlm', models: sum.models, iterations: sum.models.length - 1 };
}

function m0Accuracy(m0?: string): { test?: number; harder?: number } {
  const r = m0 ? readJSON<{ report?: { test?: { accuracy: number }; harder?: { accuracy: number } } }>(path.join(m0, 'manifest.json'))?.report : undefined;
  return { test: r?.test?.accuracy, harder: r?.harder?.accuracy };
}

interface HealthRow { model: string; label: string; judge_pick: number; random_pick: number; majority_pick: number; first_position_rate: number; order_flip_rate: number; mixed_share: number }

function healthRows(run: Run): HealthRow[] {
  const rows: HealthRow[] = [];
  for (let t = 1; t <= run.iterations; t++) {
    const h = readJSON<{ model: string; label: string; report: Omit<HealthRow, 'model' | 'label'> | null }>(path.join(run.dir, `iter-${t}`, 'health.json'));
    if (h?.report) rows.push({ model: h.model, label: h.label, ...h.report });
  }
  return rows;
}

function stageTable(run: Run): string {
  const times = readJSON<Record<string, Record<string, number>>>(path.join(run.dir, 'timings.json')) ?? {};
  const toks = readJSON<Record<string, Record<string, Record<string, number>>>>(path.join(run.dir, 'engine_tokens.json')) ?? {};
  const rows: string[] = [];
  for (const [where, stages] of Object.entries(times)) {
    for (const [stage, s] of Object.entries(stages)) {
      const k = toks[where]?.[stage];
      rows.push(`<tr><td>${esc(where)}</td><td>${esc(stage)}</td><td>${s.toFixed(1)}</td><td>${k?.prompt_tokens ?? '–'}</td><td>${k?.prefill_tokens ?? '–'}</td><td>${k?.decode_tokens ?? '–'}</td></tr>`);
    }
  }
  return `<table><thead><tr><th>where</th><th>stage</th><th>wall s</th><th>prompt tokens</th><th>prefilled</th><th>decoded</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function modelTable(run: Run): string {
  const rows = run.models.map((m) => `<tr><td>${m.model}</td><td>${pct(m.test_accuracy)}</td><td>${pct(m.harder_accuracy)}</td><td>${pct(m.judge_accuracy)}</td><td>${m.steps_per_solution?.toFixed(2) ?? '–'}</td><td>${m.step_length?.toFixed(1) ?? '–'}</td><td>${m.pairs_kept ?? '–'}</td><td>${esc(m.judge_health_of_parent ?? '–')}</td></tr>`);
  return `<table><thead><tr><th>model</th><th>test acc</th><th>harder acc</th><th>${run.method === 'srlm' ? 'scorer acc' : 'judge acc (EFT)'}</th><th>steps/solution</th><th>step length</th><th>pairs trained on</th><th>judge health of its parent</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The report's HTML for a run (and optionally its baseline). */
export function renderReport(runDir: string, o: Omit<ReportOptions, 'out'> = {}): string {
  const run = loadRun(runDir);
  const base = o.baseline ? loadRun(o.baseline) : null;
  const m0 = m0Accuracy(o.m0);
  const withM0 = m0.test !== undefined;
  const cats = [...(withM0 ? ['M0'] : []), ...run.models.map((m) => m.model)];
  const lead = (v?: number) => (withM0 ? [v ?? null] : []);
  const name = run.method === 'srlm' ? 'SRLM' : 'PSRLM';
  const charts: string[] = [];
  charts.push(lineChart({
    title: `${name}: greedy accuracy per model`, categories: cats, yLabel: 'accuracy',
    series: [
      { name: 'test', values: [...lead(m0.test), ...run.models.map((m) => m.test_accuracy)] },
      { name: 'harder-test', values: [...lead(m0.harder), ...run.models.map((m) => m.harder_accuracy)] },
    ],
  }));
  if (base) {
    const n = Math.max(run.models.length, base.models.length);
    const c2 = [...(withM0 ? ['M0'] : []), ...Array.from({ length: n }, (_, i) => `M${i + 1}`)];
    const vals = (r: Run) => [...lead(m0.test), ...Array.from({ length: n }, (_, i) => r.models[i]?.test_accuracy ?? null)];
    charts.push(lineChart({
      title: `${name} vs ${base.method === 'srlm' ? 'SRLM' : 'PSRLM'}: test accuracy per iteration`, categories: c2, yLabel: 'test accuracy',
      series: [{ name, values: vals(run) }, { name: base.method === 'srlm' ? 'SRLM' : 'baseline', values: vals(base) }],
    }));
  } else {
    charts.push(emptyChart('PSRLM vs SRLM: test accuracy per iteration', 'The SRLM baseline was not run with this report (psrlm report <run> --baseline <srlm run>).'));
  }
  const h = healthRows(run);
  if (h.length) {
    charts.push(barChart({
      title: 'Judge health on its own candidates, before each iteration (mixed prefixes)', categories: h.map((r) => r.model), yLabel: 'share',
      series: [
        { name: 'judge pick right', values: h.map((r) => r.judge_pick) },
        { name: 'random pick right', values: h.map((r) => r.random_pick) },
        { name: 'majority vote right', values: h.map((r) => r.majority_pick) },
      ],
    }));
    charts.push(barChart({
      title: 'Judge biases and held-out judge accuracy', categories: h.map((r) => r.model), yLabel: 'share',
      series: [
        { name: 'first-position wins', values: h.map((r) => r.first_position_rate) },
        { name: 'order flips', values: h.map((r) => r.order_flip_rate) },
        { name: 'held-out judge accuracy', values: h.map((r) => run.models.find((m) => m.model === r.model)?.judge_accuracy ?? null) },
      ],
    }));
  } else {
    charts.push(emptyChart('Judge health on its own candidates', run.method === 'srlm' ? 'SRLM runs score whole solutions; see the sampling table in report.md.' : 'No health was measured (health.prefixes = 0).'));
  }
  const labels = h.map((r) => `<li><b>${r.model}</b>: ${esc(r.label)} (mixed prefixes ${pct(r.mixed_share)})</li>`).join('');
  const reportMd = existsSync(path.join(runDir, 'report.md')) ? readFileSync(path.join(runDir, 'report.md'), 'utf8') : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${name} run report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fafafa;border:1px solid #e4e4e4}
.chart-title{font-size:13px;font-weight:600}.tick,.legend,.axis-label{font-size:11px;fill:#444}.value{font-size:10px}.small{font-size:9px}.note{font-size:12px;fill:#777}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
</style></head><body>
<h1>${name} run: ${esc(path.basename(path.resolve(runDir)))}</h1>
<p>Greedy accuracy with the world's checker (measurement only: nothing in the loop reads it). ${base ? `Baseline: <code>${esc(base.dir)}</code>.` : ''}</p>
<div class="charts">${charts.join('\n')}</div>
${labels ? `<h2>Judge gate</h2><ul>${labels}</ul>` : ''}
<h2>Models</h2>${modelTable(run)}
${base ? `<h2>Baseline models</h2>${modelTable(base)}` : ''}
<h2>Wall time and engine tokens per stage</h2>${stageTable(run)}
<h2>report.md</h2><pre>${esc(reportMd)}</pre>
</body></html>
`;
}

/** Writes report.html (atomically) and returns its path. */
export function writeReport(runDir: string, o: ReportOptions = {}): string {
  const out = o.out ?? path.join(runDir, 'report.html');
  writeFileAtomic(out, renderReport(runDir, o));
  return out;
}
