// `psrlm demo [--quick] [--from-scratch] [--seed N] [--json] [--out DIR]`: the self-rewarding loop (paper
// §3) on the synthetic math world from the shipped initial models (assets/models: M0, M1, and M1-srlm for
// the baseline), with configs/demo.yaml (--quick: fewer questions and iterations, smaller evaluations):
// PSRLM into <out>/psrlm, then the SRLM baseline in the same harness into <out>/srlm. Both runs resume
// like `psrlm run`; the demo ends with the paper-style table of both methods, or with --json the summary as
// one JSON line (also written to <out>/demo.json). --from-scratch first rebuilds the initial models.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { templatesDir } from '../data/templates.js';
import { loadConfig, type RunConfig } from '../run/config.js';
import { runLoop } from '../run/loop.js';
import { writeReport } from '../run/report.js';
import type { ModelRow } from '../run/summary.js';
import { EmbeddedEngine } from '../engine/embedded.js';
import { dataConfig } from '../data/build.js';
import { loadTemplate } from '../data/templates.js';
import { ttsReport, ttsTable, type TtsReport } from '../measure/tts.js';
import { generateProblems } from '../world/index.js';
import { command } from './args.js';

export function quickConfig(c: RunConfig): RunConfig {
  return {
    ...c,
    iterations: 2,
    problem_scale: 0.025,
    health: { prefixes: 20 },
    eval: { ...c.eval, problems: 50, judge: 100, step_prefixes: 100 },
  };
}

function models(runDir: string): ModelRow[] {
  const f = path.join(runDir, 'summary.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { models: ModelRow[] }).models : [];
}

function m0Report(m0Dir: string): { test?: number; harder?: number } {
  const m0 = path.join(m0Dir, 'manifest.json');
  if (!existsSync(m0)) return {};
  const r = (
    JSON.parse(readFileSync(m0, 'utf8')) as { report?: { test?: { accuracy: number }; harder?: { accuracy: number } } }
  ).report;
  return { test: r?.test?.accuracy, harder: r?.harder?.accuracy };
}

/**
 * The demo's one-line JSON (a stable contract): test accuracy per model for PSRLM and SRLM (M0 from the
 * shipped M0's manifest: both start from it), harder-test accuracy of both, judge accuracy (PSRLM's
 * pairwise judge on held-out EFT; SRLM's scorer under `srlm_scorer_accuracy`), judge health before each
 * PSRLM iteration, greedy next-step accuracy at held-out prefixes (`next_step`), wall time. `srlm` is null
 * when the baseline was not run.
 */
export function demoSummary(
  psrlmDir: string,
  srlmDir: string | null,
  m0Dir: string,
  wallS: number,
): Record<string, unknown> {
  const m0 = m0Report(m0Dir);
  const series = (dir: string) => {
    const acc: Record<string, number> = {},
      harder: Record<string, number> = {},
      judge: Record<string, number> = {},
      step: Record<string, number> = {};
    if (m0.test !== undefined) acc.M0 = m0.test;
    if (m0.harder !== undefined) harder.M0 = m0.harder;
    for (const m of models(dir)) {
      if (m.test_accuracy !== null) acc[m.model] = m.test_accuracy;
      if (m.harder_accuracy !== null) harder[m.model] = m.harder_accuracy;
      if (m.judge_accuracy !== null) judge[m.model] = m.judge_accuracy;
      if (typeof m.next_step_accuracy === 'number') step[m.model] = m.next_step_accuracy;
    }
    return { acc, harder, judge, step };
  };
  const p = series(psrlmDir);
  const s = srlmDir && existsSync(path.join(srlmDir, 'summary.json')) ? series(srlmDir) : null;
  const health: Record<string, unknown> = {};
  for (let t = 1; existsSync(path.join(psrlmDir, `iter-${t}`, 'health.json')); t++) {
    const h = JSON.parse(readFileSync(path.join(psrlmDir, `iter-${t}`, 'health.json'), 'utf8')) as {
      model: string;
      label: string;
      warnings: string[];
      report: Record<string, unknown>;
    };
    health[h.model] = { label: h.label, warnings: h.warnings, ...h.report };
  }
  return {
    psrlm: p.acc,
    srlm: s ? s.acc : null,
    judge_accuracy: p.judge,
    srlm_scorer_accuracy: s ? s.judge : null,
    judge_health: health,
    harder: { psrlm: p.harder, srlm: s ? s.harder : null },
    next_step: { psrlm: p.step, srlm: s ? s.step : null },
    wall_s: Math.round(wallS * 10) / 10,
  };
}

/** The paper-style table (paper Table 1 in miniature): accuracy per model for both methods. */
export function demoTable(sum: Record<string, unknown>): string {
  const p = sum.psrlm as Record<string, number>,
    s = (sum.srlm ?? {}) as Record<string, number>;
  const h = sum.harder as { psrlm: Record<string, number>; srlm: Record<string, number> | null };
  const ns = (sum.next_step ?? { psrlm: {}, srlm: null }) as {
    psrlm: Record<string, number>;
    srlm: Record<string, number> | null;
  };
  const j = sum.judge_accuracy as Record<string, number>,
    js = (sum.srlm_scorer_accuracy ?? {}) as Record<string, number>;
  const f = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}`);
  const names = [...new Set([...Object.keys(p), ...Object.keys(s)])];
  return [
    '| model | PSRLM test | SRLM test | PSRLM harder | SRLM harder | PSRLM next step | SRLM next step | PSRLM ' +
      'judge acc | SRLM scorer acc |',
    '|---|---|---|---|---|---|---|---|---|',
    ...names.map(
      (m) =>
        `| ${m} | ${f(p[m])} | ${f(s[m])} | ${f(h.psrlm[m])} | ${f(h.srlm?.[m])} | ${f(ns.psrlm[m])} ` +
        `| ${f(ns.srlm?.[m])} | ${f(j[m])} | ${f(js[m])} |`,
    ),
    '',
    `wall time ${sum.wall_s} s`,
  ].join('\n');
}

export const run = command(
  {
    name: 'demo',
    summary: 'run the whole method on the synthetic math world',
    description:
      `PSRLM, then the SRLM baseline in the same harness, from the initial models with ` +
      `configs/demo.yaml; both
runs resume. Ends with the paper-style table of both methods and test-time scaling with the final model.`,
    flags: {
      quick: { type: 'boolean', help: 'fewer questions and iterations, smaller evaluations' },
      'from-scratch': { type: 'boolean', help: 'first rebuild the initial models into <out>/models' },
      seed: { type: 'int', min: 0, defaultHelp: "the config's", help: 'seed of the run' },
      json: { type: 'boolean', help: 'the summary as one JSON line (also written to <out>/demo.json)' },
      out: {
        type: 'path',
        metavar: 'DIR',
        defaultHelp: 'runs/demo-seed<N>[-quick][-scratch]',
        help: 'where both runs go',
      },
      models: {
        type: 'path',
        metavar: 'DIR',
        defaultHelp: 'the shipped assets/models',
        help: 'where m0, m1 and m1-srlm live',
      },
      'no-srlm': { type: 'boolean', help: 'skip the SRLM baseline' },
    },
  },
  async ({ values }) => {
    const root = path.dirname(templatesDir());
    const seed = values.seed;
    const out =
      values.out ??
      path.join(
        'runs',
        `demo-seed${seed ?? 1}${values.quick ? '-quick' : ''}${values['from-scratch'] ? '-scratch' : ''}`,
      );
    const t0 = performance.now();
    // --models: where M0, M1 and M1-srlm live (default: the shipped assets/models); --from-scratch rebuilds
    // them first with `psrlm pretrain` into <out>/models (resumable by stage, like the rest of the demo)
    let modelsDir = values.models ?? path.join(root, 'assets', 'models');
    if (values['from-scratch']) {
      modelsDir = path.join(out, 'models');
      const { DEFAULT_PRETRAIN, pretrain } = await import('../train/pretrain.js');
      await pretrain(DEFAULT_PRETRAIN, modelsDir, { progress: !values.json });
    }
    const m1 = path.join(modelsDir, 'm1'),
      m1s = path.join(modelsDir, 'm1-srlm');
    if (!existsSync(path.join(m1, 'model.safetensors'))) {
      console.error(
        `psrlm demo: no initial model at ${m1} (m1). Build it first with \`psrlm pretrain --out ${modelsDir}\` ` +
          `(writes m0, m1 and m1-srlm; tens of minutes on two cores), or run \`psrlm demo --from-scratch\`.`,
      );
      return 1;
    }
    let noSrlm = values['no-srlm'];
    if (!noSrlm && !existsSync(path.join(m1s, 'model.safetensors'))) {
      // the baseline needs its own M1 (built with solution-scoring data); without it the demo runs PSRLM
      // alone and says so, and `srlm` is null in the summary
      console.error(
        `psrlm demo: !!! no SRLM initial model at ${m1s}: the SRLM baseline is skipped. Build it with \`psrlm ` +
          `pretrain --out ${modelsDir}\` (reuses m0 and m1).`,
      );
      noSrlm = true;
    }
    let cfg = { ...loadConfig(path.join(root, 'configs', 'demo.yaml')), model: m1 };
    if (seed !== undefined) cfg = { ...cfg, seed };
    if (values.quick) cfg = quickConfig(cfg);
    const psrlmDir = path.join(out, 'psrlm'),
      srlmDir = path.join(out, 'srlm');
    await runLoop(cfg, psrlmDir, { progress: !values.json });
    if (!noSrlm) await runLoop({ ...cfg, method: 'srlm', model: m1s }, srlmDir, { progress: !values.json });
    // test-time scaling with the final PSRLM model (paper Table 5), kept beside the runs (resumable: reused)
    const ttsFile = path.join(out, 'tts.json');
    if (!existsSync(ttsFile)) {
      const final = path.join(psrlmDir, `iter-${cfg.iterations}`, 'model');
      const e = EmbeddedEngine.load(final, { threads: cfg.threads });
      try {
        const problems = generateProblems(dataConfig({ seed: cfg.data_seed }).world, 'test', values.quick ? 20 : 100);
        const r = await ttsReport(e, loadTemplate(cfg.template), problems, {
          width: cfg.search.candidates,
          seed: cfg.seed,
          context_tokens: e.config.n_ctx,
          search: cfg.search,
        });
        writeFileSync(ttsFile, JSON.stringify({ model: `M${cfg.iterations + 1}`, ...r }, null, 2) + '\n');
      } finally {
        await e.close();
      }
    }
    // the per-question answers stay in tts.json; the summary keeps the table's figures
    const { questions: _q, ...tts } = JSON.parse(readFileSync(ttsFile, 'utf8')) as Record<string, unknown>;
    const sum = {
      ...demoSummary(psrlmDir, noSrlm ? null : srlmDir, path.join(modelsDir, 'm0'), (performance.now() - t0) / 1000),
      tts,
    };
    writeFileSync(path.join(out, 'demo.json'), JSON.stringify(sum, null, 2) + '\n');
    const html = writeReport(psrlmDir, {
      baseline: noSrlm ? undefined : srlmDir,
      m0: path.join(modelsDir, 'm0'),
      out: path.join(out, 'report.html'),
    });
    if (!values.json) console.log(`report: ${html}`);
    if (values.json) {
      console.log(JSON.stringify(sum));
    } else {
      console.log(readFileSync(path.join(psrlmDir, 'report.md'), 'utf8'));
      if (!noSrlm) console.log(readFileSync(path.join(srlmDir, 'report.md'), 'utf8'));
      console.log(demoTable(sum));
      console.log('\n' + ttsTable(JSON.parse(readFileSync(ttsFile, 'utf8')) as TtsReport));
    }
    return 0;
  },
);
