// The self-rewarding loop as a resumable run (paper §3, "Iterations": M1 → M2 → M3 → M4 on 400, 800 and
// 1,200 fresh questions, scaled by the config). Per iteration t, from the current model M_t:
//   pairs   the method's pair source (src/run/method.ts): PSRLM's judge health, step-wise search with
//           self-judging and step pairs (src/run/psrlm.ts), or the SRLM baseline's sampling and
//           self-scoring of whole solutions, best vs worst (src/run/srlm.ts)
//   dpo     step-wise DPO from M_t with M_t as reference → M_{t+1}, saved to iter-t/model
//   eval    the new model: greedy solving on test and harder, the method's judge on its held-out
//           benchmark, next-step accuracy at held-out prefixes, steps per solution and step length (runs
//           on the synthetic world), and a Table-1 row on the config's `eval.benchmarks` (when named)
// plus `baseline/eval.json` for the starting model, and at the end summary.json, report.md and report.html
// (src/run/summary.ts, src/run/report.ts). No ground truth enters the loop: the world's verifier only
// measures (stored under `measure` in the methods' records); with questions from a file (config
// `questions`, paper §4: NuminaMath questions) the gold answers only measure, through the grader
// (src/run/outcomes.ts).
//
// Resume: each stage writes its outputs, then its completion marker (iter-t/done/<stage>) last; a stage
// with a marker is skipped. A method's sampling appends one record per finished problem to samples.jsonl
// and on restart skips the problems already recorded; a problem's samples depend only on its coordinates
// (seeds derive from (seed, iteration, problem, step, attempt); the engine's results do not depend on
// batching), so a run killed at any moment and restarted with the same command ends with the same
// artifacts as an uninterrupted one, byte for byte. Wall times and engine tokens, which cannot match, live
// apart in timings.json and engine_tokens.json.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJSONAtomic } from '../util/atomic.js';
import type { Engine } from '../engine/types.js';
import type { GenerateStats } from '../engine/generate.js';
import { deriveSeed } from '../engine/rng.js';
import { dataConfig, type DataConfig } from '../data/build.js';
import { drawQuestions, loadQuestions, type QuestionPool, type QuestionPoolReport } from '../data/questions.js';
import { stepRuleOf } from '../data/steps.js';
import { GradePool } from '../eval/grade.js';
import { loadTemplate, type PromptTemplate } from '../data/templates.js';
import { nextStepReport, solveReport } from '../measure/world.js';
import { heldOutPrefixes } from '../judge/health.js';
import type { PairRecord } from '../search/pairs.js';
import { generateProblems } from '../world/index.js';
import { openBackend, type Backend } from './backend.js';
import type { ReplayPool } from '../train/stepdpo.js';
import { replayPool } from './replay.js';
import { problemsOf, type RunConfig } from './config.js';
import type { JudgeBench, Method } from './method.js';
import { methodOf } from './methods.js';
import { Progress } from '../util/progress.js';
import { writeReport } from './report.js';
import { isDone, mark, questionRange, readJSON, type StageContext } from './stage.js';
import { benchmarkRow, percent as pc, summarize, summaryMarkdown, table1Line } from './summary.js';

export const RUN_VERSION = 2;

export interface LoopHooks {
  log?: (line: string) => void;
  /** Progress bars on stderr (default true). */
  progress?: boolean;
}

interface Ctx extends StageContext {
  out: string;
  backend: Backend;
  method: Method;
  judge: JudgeBench;
  /** The IFT records of dpo.replay (absent: no replay). */
  replay?: ReplayPool;
}

export function runManifest(cfg: RunConfig, data: DataConfig, questions?: QuestionPoolReport): Record<string, unknown> {
  return {
    format: 'psrlm-run',
    version: RUN_VERSION,
    config: cfg,
    // the world and data the run draws its questions, replay and evaluation from (the starting model's own
    // manifest records the data it was trained on)
    data,
    versions: { node: process.version, psrlm: '0.1.0' },
    seeds: {
      run: cfg.seed,
      data: cfg.data_seed,
      derivation: {
        candidates: "deriveSeed(seed, 'search', iteration, problem, step, attempt)",
        tie_break: "deriveSeed(seed, 'tiebreak', iteration, problem, step, attempt)",
        health: "deriveSeed(seed, 'health', iteration)",
        dpo: "deriveSeed(seed, 'dpo', iteration)",
      },
    },
    // a file's questions: what was refused or left out of its pool (contamination with the benchmarks)
    ...(questions ? { questions } : {}),
    iterations: Array.from({ length: cfg.iterations }, (_, k) => {
      const [from, n] = questionRange(cfg, data, k + 1);
      const qs = questions
        ? { file: questions.file, draw: k + 1, count: problemsOf(cfg, k + 1) }
        : { split: 'train', from, count: n };
      return { iteration: k + 1, from: `M${k + 1}`, to: `M${k + 2}`, questions: qs, dir: `iter-${k + 1}` };
    }),
  };
}

/** The question file's pool, checked against the run before anything is written: its template must write
 *  the paper's marked steps, and the file must hold every iteration's questions. */
async function questionPool(
  cfg: RunConfig,
  t: PromptTemplate,
  log: (line: string) => void,
): Promise<QuestionPool | undefined> {
  if (!cfg.questions) return undefined;
  if (stepRuleOf(t) === 'line') {
    throw new Error(
      `template '${cfg.template}' writes the synthetic world's one-line steps (steps: line), which real solutions ` +
        'do not keep to: questions from a file need a template with "steps": "marked", such as template: paper',
    );
  }
  const pool = await loadQuestions(cfg.questions);
  const r = pool.report;
  const by = Object.entries(r.contaminated_by)
    .map(([b, n]) => `${b} ${n}`)
    .join(', ');
  log(
    `questions: ${r.usable} usable of ${r.rows} rows in ${r.file}; refused as benchmark questions: ${r.contaminated}` +
      `${by ? ` (${by})` : ''}; left out: ${r.duplicates} duplicates, ${r.no_answer} without a gold answer`,
  );
  // every iteration's draw must fit the pool: fail before the first search, not in the last iteration
  drawQuestions(
    pool.questions,
    Array.from({ length: cfg.iterations }, (_, k) => problemsOf(cfg, k + 1)),
    cfg.seed,
    1,
  );
  return pool;
}

/** Runs (or resumes) the whole loop into `out`. Returns the final model's directory. */
export async function runLoop(cfg: RunConfig, out: string, hooks: LoopHooks = {}): Promise<string> {
  const log = hooks.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const data = dataConfig({ seed: cfg.data_seed, template: cfg.template });
  if (
    !['model.safetensors', 'model.safetensors.index.json', 'adapter_model.safetensors'].some((f) =>
      existsSync(path.join(cfg.model, f)),
    )
  ) {
    throw new Error(
      `starting model ${cfg.model} not found (no model.safetensors): run \`psrlm pretrain --out DIR\` and point ` +
        `'model' at DIR/m1` +
        (cfg.engine.kind === 'embedded' ? '' : ', or at a Hugging Face checkpoint directory'),
    );
  }
  const t = loadTemplate(cfg.template);
  const questions = await questionPool(cfg, t, log);
  // IFT replay's pool (not the paper's method; off unless the config sets dpo.replay), before any search
  const replay = cfg.dpo.replay ? replayPool(cfg, data) : undefined;
  if (replay) log(`dpo.replay: ${replay.records.length} IFT records (${replay.source})`);
  mkdirSync(out, { recursive: true });
  const backend = openBackend(cfg, out, log);
  const method = methodOf(cfg.method);
  let pool: GradePool | undefined;
  const grader = () => (pool ??= new GradePool({}));
  const stage: StageContext = {
    cfg,
    t,
    data,
    log,
    progress: hooks.progress ?? true,
    ...(questions ? { questions } : {}),
    grader,
  };
  const ctx: Ctx = { ...stage, out, backend, method, judge: method.judgeBench(stage), ...(replay ? { replay } : {}) };
  try {
    return await loop(ctx);
  } finally {
    await backend.close();
    await pool?.close();
  }
}

async function loop(ctx: Ctx): Promise<string> {
  const { cfg, out, data, log } = ctx;
  const manifest = runManifest(cfg, data, ctx.questions?.report);
  const mFile = path.join(out, 'manifest.json');
  if (existsSync(mFile)) {
    if (readFileSync(mFile, 'utf8') !== JSON.stringify(manifest, null, 2) + '\n') {
      throw new Error(
        `${out} holds a run with a different config or version (${mFile}); resume it with its own config, or ` +
          `choose a new output directory`,
      );
    }
    log(`resuming the run in ${out}`);
  } else {
    writeFileAtomic(mFile, JSON.stringify(manifest, null, 2) + '\n');
  }

  const baseDir = path.join(out, 'baseline');
  if (!isDone(baseDir, 'eval')) {
    await ctx.backend.withEngine(cfg.model, 'M1', async (e) =>
      timed(
        ctx,
        'baseline',
        'eval',
        async () => {
          const ev = await evaluate(ctx, e, ctx.cfg.eval.problems);
          writeJSONAtomic(path.join(baseDir, 'eval.json'), { model: 'M1', ...ev });
          if (ev.table1) log(`baseline: M1 ${table1Line(ev.table1)}`);
        },
        e,
      ),
    );
    mark(baseDir, 'eval');
  }
  let model = cfg.model;
  for (let t = 1; t <= cfg.iterations; t++) {
    model = await iteration(ctx, t, model);
  }
  const sum = summarize(out, cfg.iterations, ctx.method);
  writeJSONAtomic(path.join(out, 'summary.json'), sum);
  writeFileAtomic(path.join(out, 'report.md'), summaryMarkdown(cfg, ctx.method, sum, out));
  writeReport(out);
  log(`run finished: final model M${cfg.iterations + 1} in ${model}`);
  return model;
}

async function iteration(ctx: Ctx, t: number, modelIn: string): Promise<string> {
  const { cfg, log } = ctx;
  const dir = path.join(ctx.out, `iter-${t}`);
  const modelOut = path.join(dir, 'model');
  const done = (s: string) => isDone(dir, s);
  const source = ctx.method.pairSource.filter((s) => s.applies?.(ctx) ?? true);
  if ([...source.map((s) => s.name), 'dpo', 'eval'].every(done)) {
    log(`iteration ${t}: done already`);
    return modelOut;
  }
  mkdirSync(dir, { recursive: true });
  log(`iteration ${t}: M${t} -> M${t + 1}`);

  if (!done('dpo')) {
    if (!source.every((s) => done(s.name))) {
      await ctx.backend.withEngine(modelIn, `M${t}`, async (engine) => {
        for (const s of source) {
          if (done(s.name)) continue;
          await timed(ctx, `iter-${t}`, s.name, () => s.run(ctx, t, dir, engine), s.generates ? engine : undefined);
          mark(dir, s.name);
        }
      });
    }
    await timed(ctx, `iter-${t}`, 'dpo', async () => {
      const ps = readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as PairRecord);
      const bar = new Progress(`iter ${t} DPO`, Math.ceil(ps.length / cfg.dpo.batch_size) * Math.ceil(cfg.dpo.epochs), {
        unit: 'steps',
        silent: !ctx.progress,
      });
      const meta = {
        kind: 'psrlm-iterate',
        stage: `M${t + 1}`,
        parent: `M${t}`,
        run_manifest: readJSON(path.join(ctx.out, 'manifest.json')),
      };
      const rep = await ctx.backend.dpo(
        modelIn,
        modelOut,
        ps,
        cfg.dpo,
        deriveSeed(cfg.seed, 'dpo', t),
        (s) => bar.tick(1, `loss ${s.loss.toFixed(3)} acc ${(s.accuracy ?? 0).toFixed(2)}`),
        meta,
        ctx.replay,
      );
      bar.finish();
      writeJSONAtomic(path.join(dir, 'dpo.json'), rep);
      log(`iteration ${t}: DPO on ${rep.pairs} pairs, ${rep.steps} steps, final loss ${rep.final_loss.toFixed(4)}`);
    });
    mark(dir, 'dpo');
  }
  if (!done('eval')) {
    await ctx.backend.withEngine(modelOut, `M${t + 1}`, (engine) =>
      timed(
        ctx,
        `iter-${t}`,
        'eval',
        async () => {
          const last = t === ctx.cfg.iterations;
          const ev = await evaluate(ctx, engine, last ? ctx.cfg.eval.problems : evalCount(ctx.cfg));
          const ps = readJSON<{ stats: { kept: number } }>(path.join(dir, 'pairs.json'));
          writeJSONAtomic(path.join(dir, 'eval.json'), { model: `M${t + 1}`, pairs_kept: ps.stats.kept, ...ev });
          if (ev.test && ev.harder && ev.judge)
            log(
              `iteration ${t}: M${t + 1} test accuracy ${pc(ev.test.accuracy)}, ` +
                `harder ${pc(ev.harder.accuracy)}, judge ${pc(ev.judge.accuracy)}`,
            );
          if (ev.table1) log(`iteration ${t}: M${t + 1} ${table1Line(ev.table1)}`);
        },
        engine,
      ),
    );
    mark(dir, 'eval');
  }
  return modelOut;
}

/** A model's evaluation: on the synthetic world when the run asks its questions, and on the config's
 *  benchmarks (a Table-1 row) when it names them. */
async function evaluate(ctx: Ctx, engine: Engine, problems: number) {
  const world = ctx.questions ? null : await evaluateWorld(ctx, engine, problems);
  const b = ctx.cfg.eval.benchmarks;
  const table1 = b ? await benchmarkRow(engine, b, ctx.grader()) : null;
  return { ...(world ?? {}), ...(table1 ? { table1 } : {}) };
}

/** Problems per split for a model between the first and the last. */
const evalCount = (cfg: RunConfig) => cfg.eval.intermediate_problems ?? cfg.eval.problems;

async function evaluateWorld(ctx: Ctx, engine: Engine, problems: number) {
  const { cfg } = ctx;
  const world = ctx.data.world;
  const test = await solveReport(
    engine,
    generateProblems(world, 'test', Math.max(1, problems)),
    ctx.t,
    cfg.eval.max_tokens,
  );
  const harder = await solveReport(
    engine,
    generateProblems(world, 'harder', Math.max(1, problems)),
    ctx.t,
    cfg.eval.max_tokens,
  );
  // the judge of the method on its own held-out benchmark
  const judge = await ctx.judge(engine);
  // the same held-out prefixes for every model of the run (and of any run on this world)
  const next_step =
    cfg.eval.step_prefixes > 0
      ? await nextStepReport(
          engine,
          heldOutPrefixes(
            generateProblems(world, 'test', cfg.eval.step_prefixes),
            deriveSeed(ctx.data.seed, 'next-step'),
          ),
          ctx.t,
        )
      : null;
  return { test, harder, judge, next_step, steps_per_solution: test.mean_steps, step_length: test.mean_step_chars };
}

/** Wall time per stage, accumulated over resumed attempts, in timings.json (kept out of the artifacts
 *  that must match between runs). */
async function timed<T>(ctx: Ctx, where: string, stage: string, fn: () => Promise<T>, eng?: Engine): Promise<T> {
  const t0 = performance.now();
  // the embedded engine counts its tokens (GenerateStats); other engines do not
  const engine = eng as { stats?: GenerateStats } | undefined;
  const before = engine?.stats ? { ...engine.stats } : null;
  const r = await fn();
  const file = path.join(ctx.out, 'timings.json');
  const all = existsSync(file) ? readJSON<Record<string, Record<string, number>>>(file) : {};
  (all[where] ??= {})[stage] = Math.round(((all[where]![stage] ?? 0) + (performance.now() - t0) / 1000) * 100) / 100;
  writeJSONAtomic(file, all);
  // Engine tokens per stage (prompt tokens asked for, tokens actually prefilled after prefix sharing,
  // tokens decoded), summed over resumed attempts. Like wall time they depend on how a run was batched
  // and resumed, so they live apart from the artifacts that must match, in engine_tokens.json.
  if (before && engine?.stats) {
    const tf = path.join(ctx.out, 'engine_tokens.json');
    const tok = existsSync(tf) ? readJSON<Record<string, Record<string, Record<string, number>>>>(tf) : {};
    const cur = ((tok[where] ??= {})[stage] ??= {});
    for (const k of Object.keys(engine.stats) as Array<keyof GenerateStats>)
      cur[k] = (cur[k] ?? 0) + engine.stats[k] - before[k];
    writeJSONAtomic(tf, tok);
  }
  return r;
}
