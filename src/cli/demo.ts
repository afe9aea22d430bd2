// `psrlm demo [--quick] [--seed N] [--json] [--out DIR]`: the self-rewarding loop (paper §3) on the
// synthetic math world from the shipped initial model assets/models/m1, with configs/demo.yaml (--quick:
// fewer questions and iterations, smaller evaluations). The run is resumable like `psrlm run`; it ends
// with a table of M1..Mn (report.md in the run directory) or, with --json, the summary as one JSON line.
// The SRLM baseline of the paper is not part of the demo yet.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { templatesDir } from '../data/templates.js';
import { loadConfig, type RunConfig } from '../run/config.js';
import { runLoop } from '../run/loop.js';

const USAGE = 'usage: psrlm demo [--quick] [--seed N] [--json] [--out DIR] [--models DIR]';

export function quickConfig(c: RunConfig): RunConfig {
  return {
    ...c, iterations: 2, problem_scale: 0.025, health: { prefixes: 20 },
    eval: { ...c.eval, problems: 50, judge: 100 },
  };
}

interface ModelRow { model: string; test_accuracy: number; harder_accuracy: number; judge_accuracy: number }

/**
 * The demo's one-line JSON (the issue's contract): accuracy per model (M0 from the shipped M0's manifest),
 * harder-test accuracy, judge accuracy, judge health before each iteration, wall time. The SRLM baseline
 * is not built yet, so `srlm` is null rather than a made-up figure.
 */
export function demoSummary(runDir: string, m0Dir: string, wallS: number): Record<string, unknown> {
  const { models } = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { models: ModelRow[] };
  const psrlm: Record<string, number> = {}, harder: Record<string, number> = {}, judge: Record<string, number> = {};
  const m0 = path.join(m0Dir, 'manifest.json');
  if (existsSync(m0)) {
    const r = (JSON.parse(readFileSync(m0, 'utf8')) as { report?: { test?: { accuracy: number }; harder?: { accuracy: number } } }).report;
    if (r?.test) psrlm.M0 = r.test.accuracy;
    if (r?.harder) harder.M0 = r.harder.accuracy;
  }
  for (const m of models) { psrlm[m.model] = m.test_accuracy; harder[m.model] = m.harder_accuracy; judge[m.model] = m.judge_accuracy; }
  const health: Record<string, unknown> = {};
  for (let t = 1; existsSync(path.join(runDir, `iter-${t}`, 'health.json')); t++) {
    const h = JSON.parse(readFileSync(path.join(runDir, `iter-${t}`, 'health.json'), 'utf8')) as { model: string; label: string; warnings: string[]; report: Record<string, unknown> };
    health[h.model] = { label: h.label, warnings: h.warnings, ...h.report };
  }
  return { psrlm, srlm: null, judge_accuracy: judge, judge_health: health, harder, wall_s: Math.round(wallS * 10) / 10 };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false }, seed: { type: 'string' }, json: { type: 'boolean', default: false },
      out: { type: 'string' }, models: { type: 'string' }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); return 0; }
  const root = path.dirname(templatesDir());
  // --models: where M0 and M1 live (default: the shipped assets/models)
  const models = values.models ?? path.join(root, 'assets', 'models');
  const m1 = path.join(models, 'm1');
  if (!existsSync(path.join(m1, 'model.safetensors'))) {
    console.error(`psrlm demo: no initial model at ${m1}. Build it first with \`psrlm pretrain --out ${models}\` (writes m0 and m1; tens of minutes on two cores), then run the demo again.`);
    return 1;
  }
  let cfg = { ...loadConfig(path.join(root, 'configs', 'demo.yaml')), model: m1 };
  if (values.seed !== undefined) {
    const s = Number(values.seed);
    if (!Number.isInteger(s) || s < 0) { console.error(`psrlm demo: --seed must be a non-negative integer, got '${values.seed}'`); return 2; }
    cfg = { ...cfg, seed: s };
  }
  if (values.quick) cfg = quickConfig(cfg);
  const out = values.out ?? path.join('runs', `demo-seed${cfg.seed}${values.quick ? '-quick' : ''}`);
  const t0 = performance.now();
  await runLoop(cfg, out, { progress: !values.json });
  if (values.json) {
    console.log(JSON.stringify(demoSummary(out, path.join(models, 'm0'), (performance.now() - t0) / 1000)));
  } else {
    console.log(readFileSync(path.join(out, 'report.md'), 'utf8'));
  }
  return 0;
}
