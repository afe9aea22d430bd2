// `psrlm pretrain`: builds the initial models of the method (paper §3.2, §4.1) with the embedded engine.
//   M0 (base model)  = SFT on the base corpus (free-layout solutions + practice text), loss on every token;
//   M1 (initial model) = M0 + SFT on IFT (step-format solutions) + EFT (step-wise pairwise judgments),
//                        loss on completions only, the two mixed and shuffled together,
// then measures both (greedy accuracy on test and harder-test, judge accuracy on held-out EFT in both
// orders) and writes each as a checkpoint directory with a manifest (config, seed, data, versions, time,
// figures) and a training curve. A finished stage is kept and reused when the same command runs again
// (resume by stage); everything is seeded, so a rerun with the same config reproduces the same weights.
// Within a stage, training snapshots go to DIR/<stage>.partial every `snapshot_every` steps (and after
// the last step, so a kill during the stage's evaluation does not train again): a stage killed part-way
// resumes at its last snapshot and ends with the weights an uninterrupted run has, byte for byte
// (src/engine/snapshot.ts). The partial directory is removed once the stage's checkpoint is saved.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeJSONAtomic } from '../util/atomic.js';
import { EmbeddedEngine } from '../engine/embedded.js';
import { PRESETS, type Preset } from '../engine/presets.js';
import { Tokenizer } from '../engine/tokenizer.js';
import type { SFTExample, StepInfo, Trainer, TrainOptions } from '../engine/types.js';
import { buildRecords, dataConfig, type DataConfig } from '../data/build.js';
import { loadTemplate } from '../data/templates.js';
import {
  judgeReport,
  scoreReport,
  solveReport,
  type JudgeReport,
  type ScoreReport,
  type SolveReport,
} from '../measure/world.js';
import { SCORE_POOL, scoreRecords, type ScoreExplain } from '../data/score.js';
import { generateProblems } from '../world/index.js';
import { Progress } from '../util/progress.js';

export interface StageConfig {
  epochs: number;
  lr: number;
  batch_size: number;
  warmup_frac: number;
  min_lr_frac: number;
  weight_decay: number;
}

export interface PretrainConfig {
  seed: number;
  model: Preset;
  /** Multiplies the data sizes of the default data config (1 = the full build). */
  data_scale: number;
  data_seed: number;
  /** Prompt template of the data (templates/<name>.json): 'compact', or 'compact-next' where the judge
   *  first copies what the next step must do, then checks both candidates against it. */
  template: string;
  m0: StageConfig;
  m1: StageConfig;
  /** The SRLM baseline's initial model: SFT on solution-scoring examples (src/data/score.ts), with M1's IFT
   *  records when `ift`, from `init` (M0, as M1 is built, or M1 itself), into DIR/m1-srlm (`explain:
   *  whole`, Yuan et al.'s kind of scorer) or DIR/m1-srlm-steps (`explain: steps`, the scorer that writes
   *  the step judge's check lines). `srlmVariant` holds each variant's settings. `examples` is scaled by
   *  data_scale. */
  srlm: {
    enabled: boolean;
    examples: number;
    p_mistake: number;
    explain: ScoreExplain;
    init: 'm0' | 'm1';
    ift: boolean;
    stage: StageConfig;
  };
  /** Problems per split and EFT records used for the figures in the manifests. */
  eval: { problems: number; judge: number };
  /** Optimizer steps between training snapshots (DIR/<stage>.partial); 0 turns them off. Not part of
   *  any stage key: it does not change the weights. */
  snapshot_every: number;
}

export const DEFAULT_PRETRAIN: PretrainConfig = {
  seed: 1,
  model: PRESETS.small!,
  data_scale: 1,
  data_seed: 20250305,
  template: 'compact',
  m0: { epochs: 1, lr: 2e-3, batch_size: 32, warmup_frac: 0.02, min_lr_frac: 0.1, weight_decay: 0.1 },
  // a third epoch lifted the judge (docs/log.md, 2026-12-06); the baseline's `steps` M1 gets the same budget
  m1: { epochs: 3, lr: 2e-3, batch_size: 32, warmup_frac: 0.02, min_lr_frac: 0.1, weight_decay: 0.1 },
  srlm: srlmVariant('whole'),
  eval: { problems: 200, judge: 500 },
  // ~100 s of M1 training on two cores between snapshots; a snapshot of the small model (weights and
  // both Adam moments, 10 MB) takes tens of milliseconds (docs/engine.md, "Training snapshots")
  snapshot_every: 100,
};

export interface StageReport {
  stage: 'm0' | 'm1' | 'm1-srlm';
  steps: number;
  tokens: number;
  wall_s: number;
  tokens_per_s: number;
  final_loss: number;
  test?: SolveReport;
  harder?: SolveReport;
  judge_test?: JudgeReport;
  score_test?: ScoreReport;
}

export interface PretrainHooks {
  log?: (line: string) => void;
  /** Progress bars (default: on stderr). */
  progress?: boolean;
}

function scaled(cfg: PretrainConfig): DataConfig {
  const base = dataConfig({ seed: cfg.data_seed, template: cfg.template });
  const f = cfg.data_scale;
  const n = (x: number) => Math.max(1, Math.round(x * f));
  return dataConfig({
    seed: cfg.data_seed,
    template: cfg.template,
    base: { problems: n(base.base.problems), practice: n(base.base.practice) },
    ift: { problems: n(base.ift.problems) },
    eft: {
      trainPairs: n(base.eft.trainPairs),
      testPairs: n(base.eft.testPairs),
      harderPairs: n(base.eft.harderPairs),
      singles: base.eft.singles > 0 ? n(base.eft.singles) : 0,
    },
  });
}

function stageDone(dir: string, key: string): boolean {
  const m = path.join(dir, 'manifest.json');
  if (!existsSync(m) || !existsSync(path.join(dir, 'model.safetensors'))) return false;
  try {
    return (JSON.parse(readFileSync(m, 'utf8')) as { config_key?: string }).config_key === key;
  } catch {
    return false;
  }
}

/**
 * The SRLM baseline's M1 for each scorer variant (docs/log.md, 2026-12-07, "a scorer in the spirit of Yuan
 * et al.", has the builds that chose these).
 *   whole  M1 plus one epoch of IFT + whole-solution scoring: the paper's SFT on IFT + outcome EFT, from a
 *          model that already solves. Built from M0 like M1 (three epochs), this M1 solved 36.5% of test
 *          problems against M1's 70.5%: in this world M1 learns much of its solving from the step judge's
 *          check lines, which this scorer must not see. Scoring alone from M1 (no IFT) forgot how to solve
 *          (0%). With the IFT epoch it solves 77.5%: it starts ahead of M1, which the comparisons state.
 *   steps  from M0 with IFT and the same budget as M1 (three epochs): the check lines give it M1's skill.
 */
export function srlmVariant(explain: ScoreExplain): PretrainConfig['srlm'] {
  const stage = { epochs: 3, lr: 2e-3, batch_size: 32, warmup_frac: 0.02, min_lr_frac: 0.1, weight_decay: 0.1 };
  const common = { enabled: true, examples: 20000, p_mistake: 0.2, explain, ift: true };
  return explain === 'whole'
    ? { ...common, init: 'm1', stage: { ...stage, epochs: 1, lr: 1e-3 } }
    : { ...common, init: 'm0', stage };
}

/** Where a stage's training snapshots live until its checkpoint is saved (`name`: the stage's directory). */
export function partialDir(outDir: string, name: string): string {
  return path.join(outDir, `${name}.partial`);
}

/** The directory of the SRLM baseline's M1 for a scorer variant: `m1-srlm` for the default (`whole`),
 *  `m1-srlm-<explain>` for the others, so both can sit beside M1. */
export function srlmModelName(explain: ScoreExplain): string {
  return explain === 'whole' ? 'm1-srlm' : `m1-srlm-${explain}`;
}

async function runStage(
  trainer: Trainer,
  stage: 'm0' | 'm1' | 'm1-srlm',
  examples: SFTExample[],
  sc: StageConfig,
  seed: number,
  hooks: PretrainHooks,
  snapshot: { dir: string; every: number } | undefined,
  log: (line: string) => void,
): Promise<{ history: StepInfo[]; tokens: number; wall_s: number; steps: number; final_loss: number }> {
  const steps = Math.ceil(examples.length / sc.batch_size) * Math.ceil(sc.epochs);
  const name = stage === 'm1-srlm' ? 'M1-srlm' : stage.toUpperCase();
  const bar = new Progress(`pretrain ${stage.toUpperCase()}`, steps, {
    unit: 'steps',
    silent: hooks.progress === false,
  });
  let lastTokens = 0;
  const opts: TrainOptions = {
    epochs: sc.epochs,
    lr: sc.lr,
    batch_size: sc.batch_size,
    warmup_frac: sc.warmup_frac,
    min_lr_frac: sc.min_lr_frac,
    weight_decay: sc.weight_decay,
    seed,
    onStep: (s) => {
      bar.tick(1, `loss ${s.loss.toFixed(3)} ${Math.round((s.tokens - lastTokens) / 1)}tok`);
      lastTokens = s.tokens;
    },
    snapshot: snapshot && {
      ...snapshot,
      log,
      onResume: (k, n) => {
        log(`resuming ${name} from step ${k} of ${n} (snapshot in ${snapshot.dir})`);
        bar.resume(k);
      },
    },
  };
  const r = await trainer.trainSFT(examples, opts);
  bar.finish(`loss ${r.final_loss.toFixed(3)}`);
  return { history: r.history, tokens: r.tokens, wall_s: r.wall_s, steps: r.steps, final_loss: r.final_loss };
}

async function measure(
  engine: EmbeddedEngine,
  cfg: PretrainConfig,
  data: DataConfig,
  withJudge: boolean,
): Promise<Pick<StageReport, 'test' | 'harder' | 'judge_test'>> {
  const t = loadTemplate(data.template);
  const test = await solveReport(engine, generateProblems(data.world, 'test', cfg.eval.problems), t);
  const harder = await solveReport(engine, generateProblems(data.world, 'harder', cfg.eval.problems), t);
  if (!withJudge) return { test, harder };
  const built = buildRecords({
    ...data,
    base: { problems: 0, practice: 0 },
    ift: { ...data.ift, problems: 0 },
    eft: { ...data.eft, trainPairs: 0 },
  });
  const judge_test = await judgeReport(engine, built.eftTest.slice(0, cfg.eval.judge));
  return { test, harder, judge_test };
}

/**
 * Stage keys: each stage's key holds exactly what it depends on, so changing the EFT data or the M1
 * settings rebuilds M1 (and what follows) but reuses M0, and the SRLM settings touch only m1-srlm.
 */
export function stageKeys(cfg: PretrainConfig): { m0Key: string; key: string; srlmKey: string } {
  const data = scaled(cfg);
  const { srlm: srlmCfg, snapshot_every: _every, ...mainCfg } = cfg;
  const m0Key = JSON.stringify({
    model: cfg.model,
    seed: cfg.seed,
    data_scale: cfg.data_scale,
    m0: cfg.m0,
    eval: cfg.eval,
    data: { seed: data.seed, world: data.world, base: data.base, pools: data.pools.base, budget: data.budget.base },
  });
  const key = JSON.stringify({ m0Key, cfg: mainCfg, data });
  // M1-srlm reads IFT and solution-scoring data, never the pairwise EFT data: of the EFT settings only the
  // check-line layout, which its scoring explanations share, is in its key.
  const srlmKey = JSON.stringify({
    m0Key,
    // from M1: every setting of M1 is part of it (undefined, so left out, when it starts from M0)
    m1Key: cfg.srlm.init === 'm1' ? key : undefined,
    ift: data.ift,
    pools: data.pools,
    template: data.template,
    budget: data.budget,
    explain: data.eft.explain,
    srlm: srlmCfg,
  });
  return { m0Key, key, srlmKey };
}

/** Builds M0 and M1 under `outDir` (outDir/m0, outDir/m1). Returns both stage reports. */
export async function pretrain(cfg: PretrainConfig, outDir: string, hooks: PretrainHooks = {}): Promise<StageReport[]> {
  const log = hooks.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const data = scaled(cfg);
  const { m0Key, key, srlmKey } = stageKeys(cfg);
  const srlmCfg = cfg.srlm;
  log(`building data (scale ${cfg.data_scale}, seed ${cfg.data_seed})`);
  const built = buildRecords(data);
  const versions = { node: process.version, psrlm: '0.1.0' };
  const reports: StageReport[] = [];
  const m0Dir = path.join(outDir, 'm0'),
    m1Dir = path.join(outDir, 'm1');
  if (!(Number.isInteger(cfg.snapshot_every) && cfg.snapshot_every >= 0)) {
    throw new Error(
      `pretrain: snapshot_every must be a non-negative integer (0: no snapshots), got ${cfg.snapshot_every}`,
    );
  }
  const sName = srlmModelName(srlmCfg.explain);
  const dirName = (stage: 'm0' | 'm1' | 'm1-srlm') => (stage === 'm1-srlm' ? sName : stage);
  const snap = (stage: 'm0' | 'm1' | 'm1-srlm') =>
    cfg.snapshot_every > 0 ? { dir: partialDir(outDir, dirName(stage)), every: cfg.snapshot_every } : undefined;
  // once a stage's checkpoint is saved its snapshots are of no use (and 10s of MB each)
  const done = (stage: 'm0' | 'm1' | 'm1-srlm') =>
    rmSync(partialDir(outDir, dirName(stage)), { recursive: true, force: true });

  // ---- M0: base corpus, loss on every token after the first (no BOS: the first token has no context)
  let engine: EmbeddedEngine;
  if (stageDone(m0Dir, m0Key)) {
    log(`M0 already built in ${m0Dir} (same config): reusing it`);
    done('m0'); // a kill between saving the stage and removing its snapshots leaves them behind
    engine = EmbeddedEngine.load(m0Dir);
    reports.push(
      (JSON.parse(readFileSync(path.join(m0Dir, 'manifest.json'), 'utf8')) as { report: StageReport }).report,
    );
  } else {
    engine = EmbeddedEngine.create(cfg.model, Tokenizer.ascii(), cfg.seed);
    const ex: SFTExample[] = built.base.map((r) => ({
      prompt: r.text.slice(0, 1),
      completion: r.text.slice(1),
      eos: true,
    }));
    log(
      `M0: ${ex.length} base documents, model ${JSON.stringify(cfg.model)} ` +
        `(${engine.model.layout.params.reduce((a, p) => a + p.size, 0)} parameters)`,
    );
    const st = await runStage(engine, 'm0', ex, cfg.m0, cfg.seed, hooks, snap('m0'), log);
    const figures = await measure(engine, cfg, data, false);
    const report: StageReport = {
      stage: 'm0',
      steps: st.steps,
      tokens: st.tokens,
      wall_s: st.wall_s,
      tokens_per_s: st.tokens / st.wall_s,
      final_loss: st.final_loss,
      ...figures,
    };
    writeJSONAtomic(
      path.join(m0Dir, 'curve.json'),
      st.history.map((h) => ({ step: h.step, loss: h.loss, lr: h.lr, tokens: h.tokens })),
    );
    await engine.save(m0Dir, {
      kind: 'psrlm-initial-model',
      stage: 'M0',
      config_key: m0Key,
      config: cfg,
      data: { config: data, counts: { base: built.base.length } },
      versions,
      created: new Date().toISOString(),
      report,
    });
    done('m0');
    reports.push(report);
    log(
      `M0: ${st.tokens} tokens in ${st.wall_s.toFixed(0)} s; test ` +
        `accuracy ${(100 * report.test!.accuracy).toFixed(1)}%`,
    );
  }

  // ---- M1: IFT + EFT (pairwise judgments and single-candidate checks), completion-only loss, mixed
  if (stageDone(m1Dir, key)) {
    log(`M1 already built in ${m1Dir} (same config): reusing it`);
    done('m1'); // a kill between saving the stage and removing its snapshots leaves them behind
    reports.push(
      (JSON.parse(readFileSync(path.join(m1Dir, 'manifest.json'), 'utf8')) as { report: StageReport }).report,
    );
  } else {
    const ex: SFTExample[] = [
      ...built.ift.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: r.eos })),
      ...built.eftTrain.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: r.eos })),
      ...built.eftSingle.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: r.eos })),
    ];
    log(
      `M1: ${built.ift.length} IFT + ${built.eftTrain.length} EFT examples + ${built.eftSingle.length} ` +
        `single-candidate checks`,
    );
    const st = await runStage(engine, 'm1', ex, cfg.m1, cfg.seed + 1, hooks, snap('m1'), log);
    const figures = await measure(engine, cfg, data, true);
    const report: StageReport = {
      stage: 'm1',
      steps: st.steps,
      tokens: st.tokens,
      wall_s: st.wall_s,
      tokens_per_s: st.tokens / st.wall_s,
      final_loss: st.final_loss,
      ...figures,
    };
    writeJSONAtomic(
      path.join(m1Dir, 'curve.json'),
      st.history.map((h) => ({ step: h.step, loss: h.loss, lr: h.lr, tokens: h.tokens })),
    );
    await engine.save(m1Dir, {
      kind: 'psrlm-initial-model',
      stage: 'M1',
      config_key: key,
      config: cfg,
      data: {
        config: data,
        counts: {
          ift: built.ift.length,
          eft_train: built.eftTrain.length,
          eft_single: built.eftSingle.length,
          eft_test: built.eftTest.length,
        },
      },
      versions,
      created: new Date().toISOString(),
      report,
    });
    done('m1');
    reports.push(report);
    const j = report.judge_test!;
    log(
      `M1: ${st.tokens} tokens in ${st.wall_s.toFixed(0)} s; test ` +
        `accuracy ${(100 * report.test!.accuracy).toFixed(1)}%, judge ${(100 * j.accuracy_ab).toFixed(1)}% ` +
        `/ ${(100 * j.accuracy_ba).toFixed(1)}% (AB / BA), order ` +
        `consistency ${(100 * j.order_consistency).toFixed(1)}%`,
    );
  }
  await engine.close();

  // ---- M1-srlm: the SRLM baseline's M1 = M0 or M1 + SFT on IFT + solution-scoring examples
  const sDir = path.join(outDir, sName);
  if (!srlmCfg.enabled) return reports;
  if (stageDone(sDir, srlmKey)) {
    log(`M1-srlm already built in ${sDir} (same config): reusing it`);
    done('m1-srlm'); // a kill between saving the stage and removing its snapshots leaves them behind
    reports.push(
      (JSON.parse(readFileSync(path.join(sDir, 'manifest.json'), 'utf8')) as { report: StageReport }).report,
    );
    return reports;
  }
  const t = loadTemplate(data.template);
  const n = Math.max(1, Math.round(srlmCfg.examples * cfg.data_scale));
  const score = scoreRecords(
    data.world,
    t,
    data.seed,
    'train',
    SCORE_POOL,
    n,
    data.budget.eft,
    srlmCfg.p_mistake,
    data.eft.explain,
    srlmCfg.explain,
  );
  const scoreTest = scoreRecords(
    data.world,
    t,
    data.seed,
    'test',
    0,
    Math.max(1, cfg.eval.judge),
    data.budget.eft,
    srlmCfg.p_mistake,
    data.eft.explain,
    // held-out by the longer target's budget, so that both scorer variants are measured on the same solutions
    'steps',
  );
  const s = EmbeddedEngine.load(srlmCfg.init === 'm1' ? m1Dir : m0Dir);
  const ex: SFTExample[] = [
    ...(srlmCfg.ift ? built.ift : []).map((r) => ({ prompt: r.prompt, completion: r.completion, eos: r.eos })),
    ...score.records.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: r.eos })),
  ];
  log(
    `M1-srlm (${srlmCfg.explain} scorer, from ${srlmCfg.init.toUpperCase()}): ` +
      `${srlmCfg.ift ? built.ift.length : 0} IFT + ${score.records.length} solution-scoring examples ` +
      `(${score.dropped} over budget left out)`,
  );
  const st = await runStage(s, 'm1-srlm', ex, srlmCfg.stage, cfg.seed + 2, hooks, snap('m1-srlm'), log);
  const figures = await measure(s, cfg, data, false);
  const score_test = await scoreReport(s, scoreTest.records);
  const report: StageReport = {
    stage: 'm1-srlm',
    steps: st.steps,
    tokens: st.tokens,
    wall_s: st.wall_s,
    tokens_per_s: st.tokens / st.wall_s,
    final_loss: st.final_loss,
    ...figures,
    score_test,
  };
  writeJSONAtomic(
    path.join(sDir, 'curve.json'),
    st.history.map((h) => ({ step: h.step, loss: h.loss, lr: h.lr, tokens: h.tokens })),
  );
  await s.save(sDir, {
    kind: 'psrlm-initial-model',
    stage: 'M1-srlm',
    config_key: srlmKey,
    config: cfg,
    data: {
      config: data,
      counts: {
        ift: srlmCfg.ift ? built.ift.length : 0,
        score_train: score.records.length,
        score_test: scoreTest.records.length,
        score_dropped_over_budget: score.dropped,
      },
    },
    versions,
    created: new Date().toISOString(),
    report,
  });
  done('m1-srlm');
  reports.push(report);
  log(
    `M1-srlm: ${st.tokens} tokens in ${st.wall_s.toFixed(0)} s; test ` +
      `accuracy ${(100 * report.test!.accuracy).toFixed(1)}%, scoring ` +
      `accuracy ${(100 * score_test.accuracy).toFixed(1)}% (exact ${(100 * score_test.exact).toFixed(1)}%)`,
  );
  await s.close();
  return reports;
}
