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
import { distillShare, ttsReport, ttsTable, type TtsReport } from '../measure/tts.js';
import { ciPair, formatPaired, type PairedDiff } from '../measure/paired.js';
import { compareRuns, type SplitPairs } from '../run/compare.js';
import { generateProblems } from '../world/index.js';
import { SCORE_EXPLAINS, type ScoreExplain } from '../data/score.js';
import { srlmModelName } from '../train/pretrain.js';
import { command } from './args.js';

export function quickConfig(c: RunConfig): RunConfig {
  return {
    ...c,
    iterations: 2,
    problem_scale: 0.025,
    health: { prefixes: 20 },
    eval: { ...c.eval, problems: 50, intermediate_problems: 50, judge: 100, step_prefixes: 100 },
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

/** A JSON file of an iteration directory, for every iteration that has it (iter-1, iter-2, … in order). */
function perIteration<T>(dir: string, file: string): T[] {
  const out: T[] = [];
  for (let t = 1; existsSync(path.join(dir, `iter-${t}`, file)); t++)
    out.push(JSON.parse(readFileSync(path.join(dir, `iter-${t}`, file), 'utf8')) as T);
  return out;
}

type Ways = { one_line: [number, number]; written: [number, number] };
type EvalWays = { model: string; test?: { ways?: Ways }; harder?: { ways?: Ways } };
type WayFigures = { written: number; error_one_line: number | null; error_written: number | null };

/** Each model's sums and differences by the way it wrote them (greedy, both splits; eval.json `ways`):
 *  the share written out in columns and the error rate of each way, per model name. */
function waysOf(dir: string): Record<string, Record<'test' | 'harder', WayFigures>> {
  const baseline = path.join(dir, 'baseline', 'eval.json');
  const evals = [
    ...(existsSync(baseline) ? [JSON.parse(readFileSync(baseline, 'utf8')) as EvalWays] : []),
    ...perIteration<EvalWays>(dir, 'eval.json'),
  ];
  const rate = ([wrong, n]: [number, number]) => (n ? Math.round((1e4 * wrong) / n) / 1e4 : null);
  const figures = (x: Ways): WayFigures => ({
    written: rate([x.written[1], x.written[1] + x.one_line[1]]) ?? 0,
    error_one_line: rate(x.one_line),
    error_written: rate(x.written),
  });
  const out: ReturnType<typeof waysOf> = {};
  for (const e of evals)
    if (e.test?.ways && e.harder?.ways) out[e.model] = { test: figures(e.test.ways), harder: figures(e.harder.ways) };
  return out;
}

/** The share of sums and differences each model writes out, and each way's error rate, in a line per method. */
export function waysLines(sum: Record<string, unknown>): string[] {
  const ways = sum.ways as Record<string, ReturnType<typeof waysOf> | null> | undefined;
  if (!ways) return [];
  const pc = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
  return Object.entries(ways)
    .filter((e): e is [string, ReturnType<typeof waysOf>] => e[1] !== null && Object.keys(e[1]).length > 0)
    .map(
      ([method, byModel]) =>
        `${method.toUpperCase()} sums and differences written out in columns (test; error one line / written): ` +
        Object.entries(byModel)
          .map(([m, w]) => `${m} ${pc(w.test.written)} (${pc(w.test.error_one_line)} / ${pc(w.test.error_written)})`)
          .join(', '),
    );
}

/**
 * The demo's one-line JSON (a stable contract): test accuracy per model for PSRLM and SRLM (M0 from the
 * shipped M0's manifest: both start from it), harder-test accuracy of both, judge accuracy (PSRLM's
 * pairwise judge on held-out EFT; SRLM's scorer under `srlm_scorer_accuracy`), judge health before each
 * PSRLM iteration, greedy next-step accuracy at held-out prefixes (`next_step`), the pairs each iteration
 * trained on (`pairs`) and, for SRLM, the questions that gave no pair (tied mean scores; best and worst the
 * same text) and the share of self-scores with no parsable `Score:` (`srlm_sampling`), paired intervals
 * (`ci`, `paired`), the share of sums and differences each model writes out in columns with each way's
 * error rate (`ways`), wall time. `srlm` is null when the baseline was not run; the command adds which SRLM
 * scorer ran (`srlm_explain`) and the test-time-scaling figures.
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
  const cmp = compareRuns(psrlmDir, s ? srlmDir : null);
  type PairStats = { stats: { kept: number; ties: number; same_sides: number } };
  const srlmPairs = s && srlmDir ? perIteration<PairStats>(srlmDir, 'pairs.json') : null;
  const gainNames = Object.keys(cmp.psrlm_gain);
  const lastGain = gainNames.length ? cmp.psrlm_gain[gainNames[gainNames.length - 1]!]! : null;
  return {
    psrlm: p.acc,
    srlm: s ? s.acc : null,
    judge_accuracy: p.judge,
    srlm_scorer_accuracy: s ? s.judge : null,
    judge_health: health,
    harder: { psrlm: p.harder, srlm: s ? s.harder : null },
    next_step: { psrlm: p.step, srlm: s ? s.step : null },
    // sums and differences by the way each model wrote them (docs/world.md "Two ways to do a step")
    ways: { psrlm: waysOf(psrlmDir), srlm: s && srlmDir ? waysOf(srlmDir) : null },
    pairs: {
      psrlm: perIteration<PairStats>(psrlmDir, 'pairs.json').map((x) => x.stats.kept),
      srlm: srlmPairs ? srlmPairs.map((x) => x.stats.kept) : null,
    },
    srlm_sampling:
      srlmPairs && srlmDir
        ? {
            ties: srlmPairs.map((x) => x.stats.ties),
            // best and worst by mean score were the same text (copies scored differently): no pair either
            same_text: srlmPairs.map((x) => x.stats.same_sides),
            unparsed_scores: perIteration<{ parse_failure_rate: number }>(srlmDir, 'sample.json').map(
              (x) => Math.round(x.parse_failure_rate * 1e4) / 1e4,
            ),
          }
        : null,
    // paired bootstrap 95% intervals on the same problems; the keys name the full demo's last model (M4)
    ci: {
      psrlm_m4_minus_m1: lastGain ? splitCis(lastGain) : null,
      psrlm_minus_srlm_m4: cmp.psrlm_minus_srlm_last ? splitCis(cmp.psrlm_minus_srlm_last) : null,
      // the two methods' M1s differ: (PSRLM M4 − M1) − (SRLM M4 − its M1) compares what each loop added
      psrlm_gain_minus_srlm_gain: cmp.psrlm_gain_minus_srlm_gain ? splitCis(cmp.psrlm_gain_minus_srlm_gain) : null,
    },
    paired: {
      psrlm: mapValues(cmp.psrlm_gain, splitFigures),
      srlm: cmp.srlm_gain ? mapValues(cmp.srlm_gain, splitFigures) : null,
      psrlm_minus_srlm_last: cmp.psrlm_minus_srlm_last ? splitFigures(cmp.psrlm_minus_srlm_last) : null,
      psrlm_gain_minus_srlm_gain: cmp.psrlm_gain_minus_srlm_gain ? splitFigures(cmp.psrlm_gain_minus_srlm_gain) : null,
    },
    wall_s: Math.round(wallS * 10) / 10,
  };
}

const mapValues = <A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

const splitCis = (x: SplitPairs) => ({
  test: x.test ? ciPair(x.test) : null,
  harder: x.harder ? ciPair(x.harder) : null,
});

/** A paired difference as the summary keeps it: n, the difference and its interval (fractions, 4 decimals),
 *  and the discordant counts behind them. */
const pairedFigures = (d: PairedDiff) => ({
  n: d.n,
  diff: Math.round(d.diff * 1e4) / 1e4,
  ci: ciPair(d),
  b_only: d.b_only,
  a_only: d.a_only,
});

const splitFigures = (x: SplitPairs) => ({
  test: x.test ? pairedFigures(x.test) : null,
  harder: x.harder ? pairedFigures(x.harder) : null,
});

/** The paired differences as a table: M_t − M1 per method and split, and PSRLM − SRLM at the last model. */
export function pairedTable(sum: Record<string, unknown>): string {
  type Fig = ReturnType<typeof pairedFigures> | null;
  type Splits = { test: Fig; harder: Fig };
  const pr = sum.paired as {
    psrlm: Record<string, Splits>;
    srlm: Record<string, Splits> | null;
    psrlm_minus_srlm_last: Splits | null;
    psrlm_gain_minus_srlm_gain?: Splits | null;
  };
  const cell = (f: Fig) => (f ? `${formatPaired(f)} (n ${f.n}; ${f.b_only} gained, ${f.a_only} lost)` : '–');
  const last = pr.psrlm_minus_srlm_last,
    gd = pr.psrlm_gain_minus_srlm_gain;
  const gainCell = (f: Fig) => (f ? `${formatPaired(f)} (n ${f.n})` : '–');
  const rows = [
    ...Object.entries(pr.psrlm).map(([m, x]) => `| PSRLM ${m} − M1 | ${cell(x.test)} | ${cell(x.harder)} |`),
    ...Object.entries(pr.srlm ?? {}).map(([m, x]) => `| SRLM ${m} − M1 | ${cell(x.test)} | ${cell(x.harder)} |`),
    ...(last ? [`| PSRLM − SRLM, last model | ${cell(last.test)} | ${cell(last.harder)} |`] : []),
    ...(gd ? [`| PSRLM gain − SRLM gain (last − M1) | ${gainCell(gd.test)} | ${gainCell(gd.harder)} |`] : []),
  ];
  return [
    'paired differences in points, bootstrap 95% interval on the same problems:',
    '| comparison | test | harder |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

/** What the distillation share says, in a line. */
export const distillLine = (share: number | null) =>
  share === null
    ? "distillation share: M1's search gained nothing over its greedy decoding on these questions"
    : `distillation share: the last model's greedy holds ${(100 * share).toFixed(0)}% of M1's search gain ` +
      '((M4 greedy − M1 greedy) / (M1 best-of-6 − M1 greedy), same questions)';

/** A test-time-scaling report without its per-question answers (those stay in its file). */
export function ttsTableFigures(r: TtsReport): Omit<TtsReport, 'questions'> {
  const { questions: _q, ...rest } = r;
  return rest;
}

/** The pairs each iteration trained on, and what SRLM's sampling lost to ties and unparsed scores. */
function pairLines(sum: Record<string, unknown>): string[] {
  const pairs = sum.pairs as { psrlm: number[]; srlm: number[] | null } | undefined;
  const ss = sum.srlm_sampling as { ties: number[]; same_text: number[]; unparsed_scores: number[] } | null | undefined;
  if (!pairs) return [];
  const lines = [`pairs per iteration: PSRLM ${pairs.psrlm.join(' / ')}`];
  if (pairs.srlm) lines[0] += `; SRLM ${pairs.srlm.join(' / ')}`;
  if (ss) {
    lines.push(
      `SRLM questions without a pair: tied means ${ss.ties.join(' / ')}, best and worst the same text ` +
        `${ss.same_text.join(' / ')}; self-scores unparsed ` +
        ss.unparsed_scores.map((x) => `${(100 * x).toFixed(1)}%`).join(' / '),
    );
  }
  return lines;
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
    ...pairLines(sum),
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
      'srlm-explain': {
        type: 'choice',
        choices: [...SCORE_EXPLAINS],
        metavar: 'NAME',
        default: 'whole',
        help:
          "the SRLM baseline's scorer: whole (Yuan et al.'s kind, one line on the whole solution; m1-srlm) or " +
          "steps (writes the step judge's check lines; m1-srlm-steps)",
      },
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
    const explain = values['srlm-explain'] as ScoreExplain;
    // --models: where M0, M1 and M1-srlm live (default: the shipped assets/models); --from-scratch rebuilds
    // them first with `psrlm pretrain` into <out>/models (resumable by stage, like the rest of the demo)
    let modelsDir = values.models ?? path.join(root, 'assets', 'models');
    if (values['from-scratch']) {
      modelsDir = path.join(out, 'models');
      const { DEFAULT_PRETRAIN, pretrain, srlmVariant } = await import('../train/pretrain.js');
      await pretrain({ ...DEFAULT_PRETRAIN, srlm: srlmVariant(explain) }, modelsDir, {
        progress: !values.json,
      });
    }
    const m1 = path.join(modelsDir, 'm1'),
      m1s = path.join(modelsDir, srlmModelName(explain));
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
          `pretrain --out ${modelsDir} --srlm-explain ${explain}\` (reuses m0 and m1).`,
      );
      noSrlm = true;
    }
    let cfg = { ...loadConfig(path.join(root, 'configs', 'demo.yaml')), model: m1 };
    if (seed !== undefined) cfg = { ...cfg, seed };
    if (values.quick) cfg = quickConfig(cfg);
    const psrlmDir = path.join(out, 'psrlm'),
      // the default scorer's run is <out>/srlm; a variant's sits beside it and shares the PSRLM run
      srlmDir = path.join(out, explain === 'whole' ? 'srlm' : `srlm-${explain}`);
    await runLoop(cfg, psrlmDir, { progress: !values.json });
    if (!noSrlm) await runLoop({ ...cfg, method: 'srlm', model: m1s }, srlmDir, { progress: !values.json });
    // test-time scaling (paper Table 5) with M1 and with the final PSRLM model on the same questions, kept
    // beside the runs (resumable: reused); M1's search against M4's greedy is the distillation share
    const ttsProblems = generateProblems(dataConfig({ seed: cfg.data_seed }).world, 'test', values.quick ? 20 : 100);
    const measureTts = async (modelDir: string, label: string, file: string) => {
      if (existsSync(file)) return;
      const e = EmbeddedEngine.load(modelDir, { threads: cfg.threads });
      try {
        const r = await ttsReport(e, loadTemplate(cfg.template), ttsProblems, {
          width: cfg.search.candidates,
          seed: cfg.seed,
          context_tokens: e.config.n_ctx,
          search: cfg.search,
        });
        writeFileSync(file, JSON.stringify({ model: label, ...r }, null, 2) + '\n');
      } finally {
        await e.close();
      }
    };
    const ttsFile = path.join(out, 'tts.json'),
      ttsM1File = path.join(out, 'tts-m1.json');
    await measureTts(m1, 'M1', ttsM1File);
    await measureTts(path.join(psrlmDir, `iter-${cfg.iterations}`, 'model'), `M${cfg.iterations + 1}`, ttsFile);
    // the per-question answers stay in tts.json; the summary keeps the table's figures
    const ttsOf = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as TtsReport & { model: string };
    const tts = ttsTableFigures(ttsOf(ttsFile));
    const sum = {
      srlm_explain: noSrlm ? null : explain,
      ...demoSummary(psrlmDir, noSrlm ? null : srlmDir, path.join(modelsDir, 'm0'), (performance.now() - t0) / 1000),
      tts,
      tts_m1: ttsTableFigures(ttsOf(ttsM1File)),
      distill_share: distillShare(ttsOf(ttsM1File), ttsOf(ttsFile)),
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
      console.log('\n' + pairedTable(sum));
      console.log('\n' + ttsTable(ttsOf(ttsM1File)));
      console.log('\n' + ttsTable(ttsOf(ttsFile)));
      console.log(`\n${distillLine(sum.distill_share)}`);
      for (const l of waysLines(sum)) console.log(l);
    }
    return 0;
  },
);
