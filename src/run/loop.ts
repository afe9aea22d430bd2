// The self-rewarding loop as a resumable run (paper §3, "Iterations": M1 → M2 → M3 → M4 on 400, 800 and
// 1,200 fresh questions, scaled by the config). Per iteration t, from the current model M_t:
//   health  judge health on the model's own candidates (src/judge/health.ts), with a loud label when the
//           judge is at or below chance (the run goes on: the paper has no such gate; we only report it)
//   search  step-wise search with self-judging over the iteration's questions (src/search/search.ts)
//   pairs   PPD(M_t): pairs.jsonl, and the TRL and Step-DPO exports (src/search/pairs.ts)
//   dpo     step-wise DPO from M_t with M_t as reference → M_{t+1}, saved to iter-t/model
//   eval    the new model: greedy solving on test and harder, judge accuracy on held-out EFT, steps per
//           solution and step length
// plus `baseline/eval.json` for the starting model. With `method: srlm` the health, search and pairs stages
// are the SRLM baseline's (src/run/srlm.ts: sample + self-score whole solutions, best vs worst). No ground truth enters the loop: the world's verifier
// only measures (the chosen step's agreement with it, stored under `measure` in samples and search.json).
//
// Resume: each stage writes its outputs, then its completion marker (iter-t/done/<stage>) last; a stage
// with a marker is skipped. The search appends one record per finished problem to samples.jsonl and on
// restart skips the problems already recorded; a problem's search depends only on its coordinates (seeds
// derive from (seed, iteration, problem, step, attempt); the engine's results do not depend on batching),
// so a run killed at any moment and restarted with the same command ends with the same artifacts as an
// uninterrupted one, byte for byte. Wall times, which cannot match, live apart in timings.json.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJSONAtomic } from '../util/atomic.js';
import type { Engine } from '../engine/types.js';
import type { GenerateStats } from '../engine/generate.js';
import { deriveSeed } from '../engine/rng.js';
import { buildRecords, dataConfig, type DataConfig } from '../data/build.js';
import type { EftRecord } from '../data/schema.js';
import { loadTemplate, renderStepPrompt, type PromptTemplate } from '../data/templates.js';
import { judgeReport, nextStepReport, scoreReport, solveReport } from '../measure/world.js';
import { heldOutPrefixes, judgeHealth, type HealthReport } from '../judge/health.js';
import { collectPairs, toStepDPO, toTRL, type PairRecord } from '../search/pairs.js';
import { runSearch, type SearchRecord } from '../search/search.js';
import { checkStep, generateProblem, generateProblems } from '../world/index.js';
import { openBackend, type Backend } from './backend.js';
import { problemsOf, type RunConfig } from './config.js';
import { Progress } from '../util/progress.js';
import { summarizeSearch, type SearchSummary } from './summary.js';
import { writeReport } from './report.js';
import { srlmPairs, srlmSample, summarizeSrlm, type SrlmPairStats, type SrlmRecord, type SrlmSummary } from './srlm.js';
import { scoreRecords } from '../data/score.js';

export const RUN_VERSION = 1;
const STAGES = ['health', 'search', 'sample', 'pairs', 'dpo', 'eval'] as const;
type Stage = (typeof STAGES)[number];
/** The stages of an iteration: PSRLM's, or the SRLM baseline's (sampling and self-scoring in one). */
const stagesOf = (cfg: RunConfig): readonly Stage[] => (cfg.method === 'srlm' ? ['sample', 'pairs', 'dpo', 'eval'] : ['health', 'search', 'pairs', 'dpo', 'eval']);

export interface LoopHooks {
  log?: (line: string) => void;
  /** Progress bars on stderr (default true). */
  progress?: boolean;
}

interface Ctx {
  cfg: RunConfig;
  out: string;
  t: PromptTemplate;
  data: DataConfig;
  log: (line: string) => void;
  progress: boolean;
  backend: Backend;
  eftTest?: EftRecord[];
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
const readJSON = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The first train-split index and the count of iteration t's questions (fresh questions each iteration). */
export function questionRange(cfg: RunConfig, data: DataConfig, t: number): [number, number] {
  let from = data.pools.loop;
  for (let k = 1; k < t; k++) from += problemsOf(cfg, k);
  return [from, problemsOf(cfg, t)];
}

export function runManifest(cfg: RunConfig, data: DataConfig): Record<string, unknown> {
  return {
    format: 'psrlm-run', version: RUN_VERSION,
    config: cfg,
    versions: { node: process.version, psrlm: '0.1.0' },
    seeds: {
      run: cfg.seed, data: cfg.data_seed,
      derivation: {
        candidates: "deriveSeed(seed, 'search', iteration, problem, step, attempt)",
        tie_break: "deriveSeed(seed, 'tiebreak', iteration, problem, step, attempt)",
        health: "deriveSeed(seed, 'health', iteration)",
        dpo: "deriveSeed(seed, 'dpo', iteration)",
      },
    },
    iterations: Array.from({ length: cfg.iterations }, (_, k) => {
      const [from, n] = questionRange(cfg, data, k + 1);
      return { iteration: k + 1, from: `M${k + 1}`, to: `M${k + 2}`, questions: { split: 'train', from, count: n }, dir: `iter-${k + 1}` };
    }),
  };
}

/** Runs (or resumes) the whole loop into `out`. Returns the final model's directory. */
export async function runLoop(cfg: RunConfig, out: string, hooks: LoopHooks = {}): Promise<string> {
  const log = hooks.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const data = dataConfig({ seed: cfg.data_seed, template: cfg.template });
  if (!['model.safetensors', 'model.safetensors.index.json', 'adapter_model.safetensors'].some((f) => existsSync(path.join(cfg.model, f)))) {
    throw new Error(`starting model ${cfg.model} not found (no model.safetensors): run \`psrlm pretrain --out DIR\` and point 'model' at DIR/m1` +
      (cfg.engine.kind === 'embedded' ? '' : ', or at a Hugging Face checkpoint directory'));
  }
  mkdirSync(out, { recursive: true });
  const backend = openBackend(cfg, out, log);
  const ctx: Ctx = { cfg, out, t: loadTemplate(cfg.template), data, log, progress: hooks.progress ?? true, backend };
  try {
    return await loop(ctx);
  } finally {
    await backend.close();
  }
}

async function loop(ctx: Ctx): Promise<string> {
  const { cfg, out, data, log } = ctx;
  const manifest = runManifest(cfg, data);
  const mFile = path.join(out, 'manifest.json');
  if (existsSync(mFile)) {
    if (readFileSync(mFile, 'utf8') !== JSON.stringify(manifest, null, 2) + '\n') {
      throw new Error(`${out} holds a run with a different config or version (${mFile}); resume it with its own config, or choose a new output directory`);
    }
    log(`resuming the run in ${out}`);
  } else {
    writeFileAtomic(mFile, JSON.stringify(manifest, null, 2) + '\n');
  }

  const baseDir = path.join(out, 'baseline');
  if (!existsSync(path.join(baseDir, 'done', 'eval'))) {
    await ctx.backend.withEngine(cfg.model, 'M1', async (e) => timed(ctx, 'baseline', 'eval', async () => {
      writeJSONAtomic(path.join(baseDir, 'eval.json'), { model: 'M1', ...(await evaluate(ctx, e)) });
    }, e));
    mark(baseDir, 'eval');
  }
  let model = cfg.model;
  for (let t = 1; t <= cfg.iterations; t++) {
    model = await iteration(ctx, t, model);
  }
  const sum = summary(ctx);
  writeJSONAtomic(path.join(out, 'summary.json'), sum);
  writeFileAtomic(path.join(out, 'report.md'), reportMarkdown(ctx, sum));
  writeReport(out);
  log(`run finished: final model M${cfg.iterations + 1} in ${model}`);
  return model;
}

async function iteration(ctx: Ctx, t: number, modelIn: string): Promise<string> {
  const { cfg, log } = ctx;
  const dir = path.join(ctx.out, `iter-${t}`);
  const modelOut = path.join(dir, 'model');
  const done = (s: Stage) => existsSync(path.join(dir, 'done', s));
  if (stagesOf(cfg).every(done)) { log(`iteration ${t}: done already`); return modelOut; }
  mkdirSync(dir, { recursive: true });
  log(`iteration ${t}: M${t} -> M${t + 1}`);

  if (!done('dpo')) {
    const pre: Stage[] = cfg.method === 'srlm' ? ['sample', 'pairs'] : ['health', 'search', 'pairs'];
    if (!pre.every(done)) {
      await ctx.backend.withEngine(modelIn, `M${t}`, async (engine) => {
        if (cfg.method === 'srlm') {
          if (!done('sample')) await timed(ctx, `iter-${t}`, 'sample', () => sampleSrlm(ctx, t, dir, engine), engine);
          if (!done('pairs')) await timed(ctx, `iter-${t}`, 'pairs', async () => { pairsSrlm(ctx, dir); });
          return;
        }
        if (!done('health')) await timed(ctx, `iter-${t}`, 'health', () => health(ctx, t, dir, engine), engine);
        if (!done('search')) await timed(ctx, `iter-${t}`, 'search', () => search(ctx, t, dir, engine), engine);
        if (!done('pairs')) await timed(ctx, `iter-${t}`, 'pairs', async () => { pairs(ctx, dir); });
      });
    }
    await timed(ctx, `iter-${t}`, 'dpo', async () => {
      const ps = readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as PairRecord);
      const bar = new Progress(`iter ${t} DPO`, Math.ceil(ps.length / cfg.dpo.batch_size) * Math.ceil(cfg.dpo.epochs), { unit: 'steps', silent: !ctx.progress });
      const meta = { kind: 'psrlm-iterate', stage: `M${t + 1}`, parent: `M${t}`, run_manifest: readJSON(path.join(ctx.out, 'manifest.json')) };
      const rep = await ctx.backend.dpo(modelIn, modelOut, ps, cfg.dpo, deriveSeed(cfg.seed, 'dpo', t), (s) => bar.tick(1, `loss ${s.loss.toFixed(3)} acc ${(s.accuracy ?? 0).toFixed(2)}`), meta);
      bar.finish();
      writeJSONAtomic(path.join(dir, 'dpo.json'), rep);
      log(`iteration ${t}: DPO on ${rep.pairs} pairs, ${rep.steps} steps, final loss ${rep.final_loss.toFixed(4)}`);
    });
    mark(dir, 'dpo');
  }
  if (!done('eval')) {
    await ctx.backend.withEngine(modelOut, `M${t + 1}`, (engine) => timed(ctx, `iter-${t}`, 'eval', async () => {
      const ev = await evaluate(ctx, engine);
      const ps = readJSON<{ stats: { kept: number } }>(path.join(dir, 'pairs.json'));
      writeJSONAtomic(path.join(dir, 'eval.json'), { model: `M${t + 1}`, pairs_kept: ps.stats.kept, ...ev });
      log(`iteration ${t}: M${t + 1} test accuracy ${pc(ev.test.accuracy)}, harder ${pc(ev.harder.accuracy)}, judge ${pc(ev.judge.accuracy)}`);
    }, engine));
    mark(dir, 'eval');
  }
  return modelOut;
}

async function health(ctx: Ctx, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const problems = generateProblems(ctx.data.world, 'test', cfg.health.prefixes);
  const seed = deriveSeed(cfg.seed, 'health', t);
  const h = cfg.health.prefixes > 0
    ? await judgeHealth(engine, ctx.t, heldOutPrefixes(problems, seed), {
      candidates: cfg.search.candidates, temperature: cfg.search.temperature, top_p: cfg.search.top_p, bothOrders: cfg.search.both_orders,
      seed, maxStepTokens: cfg.search.max_step_tokens, maxJudgeTokens: cfg.search.judge_max_tokens,
    })
    : null;
  const label = healthLabel(h);
  const warnings = healthWarnings(h);
  writeJSONAtomic(path.join(dir, 'health.json'), { model: `M${t}`, label, warnings, report: h });
  for (const w of warnings) ctx.log(`!!! iteration ${t}: judge ${w}`);
  const loud = label.startsWith('JUDGE');
  ctx.log(`${loud ? '!!! ' : ''}iteration ${t}: judge health on own candidates: ${label}${h ? ` (pick right ${pc(h.judge_pick)} vs random ${pc(h.random_pick)} vs majority ${pc(h.majority_pick)} on ${pc(h.mixed_share)} mixed prefixes)` : ''}${loud ? ' — the run goes on, but its preferences are no better than noise' : ''}`);
  mark(dir, 'health');
}

/** The label of a health report: loud when the judge's pick is at or below a random pick. */
export function healthLabel(h: HealthReport | null): string {
  if (!h) return 'not measured (health.prefixes = 0)';
  if (h.mixed_share === 0) return 'not measurable: no prefix had both right and wrong candidates';
  if (h.judge_pick <= h.random_pick) return 'JUDGE AT OR BELOW CHANCE on its own candidates';
  return h.judge_beats_majority ? 'above chance and above a majority vote' : 'above chance, not above a majority vote';
}

/** Collapse alarms (docs/method.md §10: self-judges drift to one verdict): most verdicts unparsable, nearly
 *  all parsed verdicts naming one position, or most pairs of a right and a wrong step changing their winner
 *  when the order flips (between two right steps written differently either verdict is right, so those
 *  pairs do not count). */
export function healthWarnings(h: HealthReport | null): string[] {
  if (!h || h.judge_prompts === 0) return [];
  const w: string[] = [];
  if (h.parse_failure_rate > 0.5) w.push(`verdicts unparsable: ${pc(h.parse_failure_rate)} of judgments`);
  const parsed = 1 - h.parse_failure_rate;
  const first = parsed > 0 ? h.first_position_rate / parsed : 0;
  if (parsed > 0 && (first > 0.9 || first < 0.1)) w.push(`collapsed to one position: ${pc(first)} of parsed verdicts name the first-shown step`);
  if (h.decisive_order_pairs > 0 && h.decisive_order_flip_rate > 0.5) {
    w.push(`order-dependent: ${pc(h.decisive_order_flip_rate)} of the pairs of a right and a wrong step change winner when the order is swapped`);
  }
  return w;
}

/** Reads the records of a partly written samples file, dropping a torn last line (a kill mid-append). */
export function readRecords(file: string): SearchRecord[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
  return text.slice(0, end).split('\n').filter(Boolean).map((l) => JSON.parse(l) as SearchRecord);
}

async function search(ctx: Ctx, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const file = path.join(dir, 'samples.jsonl');
  const [from, n] = questionRange(cfg, ctx.data, t);
  const have = readRecords(file);
  const seen = new Set(have.map((r) => r.index));
  const items = Array.from({ length: n }, (_, k) => from + k).filter((i) => !seen.has(i))
    .map((index) => ({ index, problem: generateProblem(ctx.data.world, 'train', index) }));
  if (have.length) ctx.log(`iteration ${t}: search resumes, ${have.length} of ${n} questions already recorded`);
  const bar = new Progress(`iter ${t} search`, n, { unit: 'questions', silent: !ctx.progress });
  bar.tick(have.length);
  const fresh = await runSearch(engine, ctx.t, items, { ...cfg.search, context_tokens: engine.contextTokens }, { seed: cfg.seed, iteration: t }, {
    // measurement only: the verifier's opinion of each candidate is stored, never read by the search
    measure: (p, prefix, step) => checkStep(p, prefix, step).ok,
    onRecord: (r) => { appendFileSync(file, JSON.stringify(r) + '\n'); bar.tick(1); },
  });
  bar.finish();
  // the finished file holds the records in question order, whatever order they finished in
  const all = [...have, ...fresh].sort((a, b) => a.index - b.index);
  writeFileAtomic(file, jsonl(all));
  const s = summarizeSearch(all);
  writeJSONAtomic(path.join(dir, 'search.json'), s);
  ctx.log(`iteration ${t}: searched ${n} questions: ${JSON.stringify(s.outcomes)}, ${s.pairs_found} pairs, ${s.judge_prompts} judge prompts (${s.judge_prompts_saved} saved by merging); verifier agrees with the chosen step ${pc(s.measure.chosen_ok)}`);
  mark(dir, 'search');
}

/** SRLM: N solutions per question, each self-scored K times; appended per batch of questions (resume). */
async function sampleSrlm(ctx: Ctx, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const file = path.join(dir, 'samples.jsonl');
  const [from, n] = questionRange(cfg, ctx.data, t);
  const have = readLines<SrlmRecord>(file);
  const seen = new Set(have.map((r) => r.index));
  const todo = Array.from({ length: n }, (_, k) => from + k).filter((i) => !seen.has(i));
  if (have.length) ctx.log(`iteration ${t}: sampling resumes, ${have.length} of ${n} questions already recorded`);
  const bar = new Progress(`iter ${t} sample+score`, n, { unit: 'questions', silent: !ctx.progress });
  bar.tick(have.length);
  const batch = Math.max(1, cfg.search.batch_problems);
  const fresh: SrlmRecord[] = [];
  for (let k = 0; k < todo.length; k += batch) {
    const items = todo.slice(k, k + batch).map((index) => ({ index, problem: generateProblem(ctx.data.world, 'train', index) }));
    const recs = await srlmSample(engine, ctx.t, items, cfg.srlm, { seed: cfg.seed, iteration: t }, engine.contextTokens);
    appendFileSync(file, jsonl(recs));
    fresh.push(...recs);
    bar.tick(recs.length);
  }
  bar.finish();
  const all = [...have, ...fresh].sort((a, b) => a.index - b.index);
  writeFileAtomic(file, jsonl(all));
  const s = summarizeSrlm(all);
  writeJSONAtomic(path.join(dir, 'sample.json'), s);
  ctx.log(`iteration ${t}: sampled ${s.solutions} solutions of ${n} questions, mean self-score ${s.mean_score.toFixed(2)}; on ${s.measure.mixed_questions} mixed questions the top-scored solution is right ${pc(s.measure.best_ok)} vs random ${pc(s.measure.random_ok)} vs majority ${pc(s.measure.majority_ok)}`);
  mark(dir, 'sample');
}

function pairsSrlm(ctx: Ctx, dir: string): void {
  const records = readLines<SrlmRecord>(path.join(dir, 'samples.jsonl'));
  const { pairs: ps, stats } = srlmPairs(ctx.t, records);
  writeFileAtomic(path.join(dir, 'pairs.jsonl'), jsonl(ps));
  writeFileAtomic(path.join(dir, 'pairs.trl.jsonl'), jsonl(ps.map(toTRL)));
  writeJSONAtomic(path.join(dir, 'pairs.json'), { stats });
  mark(dir, 'pairs');
}

/** JSON lines of a partly written file, dropping a torn last line (a kill mid-append). */
function readLines<T>(file: string): T[] {
  return readRecords(file) as unknown as T[];
}

function pairs(ctx: Ctx, dir: string): void {
  const records = readRecords(path.join(dir, 'samples.jsonl'));
  const { pairs: ps, stats } = collectPairs(records, { keep_unfinished: !ctx.cfg.drop_unfinished_pairs });
  writeFileAtomic(path.join(dir, 'pairs.jsonl'), jsonl(ps));
  writeFileAtomic(path.join(dir, 'pairs.trl.jsonl'), jsonl(ps.map(toTRL)));
  const byIndex = new Map(records.map((r) => [r.index, r.problem]));
  writeFileAtomic(path.join(dir, 'pairs.stepdpo.jsonl'), jsonl(ps.map((p) => toStepDPO(p, renderStepPrompt(ctx.t, byIndex.get(p.problem_index)!)))));
  writeJSONAtomic(path.join(dir, 'pairs.json'), { stats });
  mark(dir, 'pairs');
}

async function evaluate(ctx: Ctx, engine: Engine) {
  const { cfg } = ctx;
  const world = ctx.data.world;
  ctx.eftTest ??= buildRecords({ ...ctx.data, base: { problems: 0, practice: 0 }, ift: { problems: 0 }, eft: { ...ctx.data.eft, trainPairs: 0, harderPairs: 0, testPairs: Math.ceil(cfg.eval.judge / 2) } }).eftTest;
  const test = await solveReport(engine, generateProblems(world, 'test', Math.max(1, cfg.eval.problems)), ctx.t, cfg.eval.max_tokens);
  const harder = await solveReport(engine, generateProblems(world, 'harder', Math.max(1, cfg.eval.problems)), ctx.t, cfg.eval.max_tokens);
  // the judge of each method on its own held-out benchmark: pairwise step judgments (PSRLM) or 0–5 scores
  // of whole solutions (SRLM: accuracy = telling fully right solutions from the rest)
  const judge = cfg.method === 'srlm'
    ? await scoreReport(engine, scoreRecords(world, ctx.t, ctx.data.seed, 'test', 0, Math.max(1, cfg.eval.judge), ctx.data.budget.eft, undefined, ctx.data.eft.explain).records, cfg.srlm.score_max_tokens)
    : await judgeReport(engine, ctx.eftTest.slice(0, Math.max(1, cfg.eval.judge)), cfg.search.judge_max_tokens);
  // the same held-out prefixes for every model of the run (and of any run on this world)
  const next_step = cfg.eval.step_prefixes > 0
    ? await nextStepReport(engine, heldOutPrefixes(generateProblems(world, 'test', cfg.eval.step_prefixes), deriveSeed(ctx.data.seed, 'next-step')), ctx.t)
    : null;
  return { test, harder, judge, next_step, steps_per_solution: test.mean_steps, step_length: test.mean_step_chars };
}

interface ModelRow {
  model: string; test_accuracy: number; harder_accuracy: number; judge_accuracy: number; steps_per_solution: number; step_length: number;
  /** Greedy next-step accuracy at held-out test prefixes (null: not measured). */
  next_step_accuracy: number | null;
  pairs_kept?: number; judge_health_of_parent?: string; chosen_step_verifier_agreement?: number;
}

function summary(ctx: Ctx): { models: ModelRow[] } {
  const rows: ModelRow[] = [];
  const b = readJSON<Record<string, unknown>>(path.join(ctx.out, 'baseline', 'eval.json'));
  rows.push({ model: 'M1', ...pick(b) });
  for (let t = 1; t <= ctx.cfg.iterations; t++) {
    const d = path.join(ctx.out, `iter-${t}`);
    const ev = readJSON<Record<string, unknown>>(path.join(d, 'eval.json'));
    if (ctx.cfg.method === 'srlm') {
      const s = readJSON<SrlmSummary>(path.join(d, 'sample.json'));
      const m = s.measure;
      const label = m.mixed_questions === 0 ? 'not measurable' : m.best_ok <= m.random_ok ? 'SCORER AT OR BELOW CHANCE' : m.best_ok > m.majority_ok ? 'above chance and above a majority vote' : 'above chance, not above a majority vote';
      rows.push({ model: `M${t + 1}`, ...pick(ev), pairs_kept: ev.pairs_kept as number, judge_health_of_parent: `${label} (top-scored right ${pc(m.best_ok)} vs random ${pc(m.random_ok)} vs majority ${pc(m.majority_ok)})` });
      continue;
    }
    const h = readJSON<{ label: string }>(path.join(d, 'health.json'));
    const s = readJSON<SearchSummary>(path.join(d, 'search.json'));
    rows.push({ model: `M${t + 1}`, ...pick(ev), pairs_kept: ev.pairs_kept as number, judge_health_of_parent: h.label, chosen_step_verifier_agreement: s.measure.chosen_ok });
  }
  return { models: rows };
}

/** report.md: the summary as tables (deterministic: wall times stay in timings.json). */
function reportMarkdown(ctx: Ctx, sum: ReturnType<typeof summary>): string {
  const f = (x: unknown, pct = true) => (typeof x === 'number' ? (pct ? `${(100 * x).toFixed(1)}%` : x.toFixed(2)) : String(x ?? '–'));
  const rows = sum.models.map((m) => `| ${m.model} | ${f(m.test_accuracy)} | ${f(m.harder_accuracy)} | ${f(m.next_step_accuracy)} | ${f(m.judge_accuracy)} | ${f(m.steps_per_solution, false)} | ${f(m.step_length, false)} | ${m.pairs_kept ?? '–'} | ${m.chosen_step_verifier_agreement === undefined ? '–' : f(m.chosen_step_verifier_agreement)} | ${m.judge_health_of_parent ?? '–'} |`);
  const it: string[] = [];
  if (ctx.cfg.method === 'srlm') return reportSrlm(ctx, rows, f);
  for (let t = 1; t <= ctx.cfg.iterations; t++) {
    const s = readJSON<SearchSummary>(path.join(ctx.out, `iter-${t}`, 'search.json'));
    it.push(`| ${t} | ${s.questions} | ${Object.entries(s.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')} | ${s.rounds} | ${s.rollbacks} | ${s.judge_prompts} | ${s.judge_prompts_saved} | ${s.pairs_found} | ${f(s.measure.mixed_chosen_ok)} vs ${f(s.measure.mixed_random_ok)} (${s.measure.mixed_rounds}) |`);
  }
  return [
    `# PSRLM run: M1 → M${ctx.cfg.iterations + 1}`,
    '',
    `Seed ${ctx.cfg.seed}, start model \`${ctx.cfg.model}\`, template \`${ctx.cfg.template}\`; the resolved config is in manifest.json, wall times in timings.json.`,
    '',
    '| model | test acc | harder acc | next-step acc (held-out prefixes) | judge acc (EFT) | steps/solution | step length | pairs it was trained on | verifier agrees with chosen steps | judge health of its parent |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '## Searches',
    '',
    '| iteration | questions | outcomes | rounds | rollbacks | judge prompts | saved by merging | pairs | on mixed rounds: pick right vs random (rounds) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...it,
    '',
    'The verifier columns are measurements only: nothing in the loop reads them.',
    '',
  ].join('\n');
}

function reportSrlm(ctx: Ctx, rows: string[], f: (x: unknown, pct?: boolean) => string): string {
  const it: string[] = [];
  for (let t = 1; t <= ctx.cfg.iterations; t++) {
    const s = readJSON<SrlmSummary>(path.join(ctx.out, `iter-${t}`, 'sample.json'));
    const p = readJSON<{ stats: SrlmPairStats }>(path.join(ctx.out, `iter-${t}`, 'pairs.json')).stats;
    it.push(`| ${t} | ${s.questions} | ${s.solutions} | ${s.mean_score.toFixed(2)} | ${f(s.parse_failure_rate)} | ${p.kept} (${p.ties} ties dropped) | ${f(s.measure.best_ok)} vs ${f(s.measure.random_ok)} vs ${f(s.measure.majority_ok)} (${s.measure.mixed_questions}) |`);
  }
  return [
    `# SRLM baseline run: M1 → M${ctx.cfg.iterations + 1}`,
    '',
    `Seed ${ctx.cfg.seed}, start model \`${ctx.cfg.model}\` (M1 with solution-scoring data), template \`${ctx.cfg.template}\`; the resolved config is in manifest.json, wall times in timings.json. The judge column is the scorer's accuracy at telling fully right solutions from the rest (held-out scored solutions).`,
    '',
    '| model | test acc | harder acc | next-step acc (held-out prefixes) | scorer acc | steps/solution | step length | pairs it was trained on | – | scorer health of its parent |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '## Sampling and self-scoring',
    '',
    '| iteration | questions | solutions | mean self-score | unparsable scores | pairs | on mixed questions: top-scored right vs random vs majority (questions) |',
    '|---|---|---|---|---|---|---|',
    ...it,
    '',
    'The verifier columns are measurements only: nothing in the loop reads them.',
    '',
  ].join('\n');
}

function pick(ev: Record<string, unknown>) {
  const e = ev as { test: { accuracy: number }; harder: { accuracy: number }; judge: { accuracy: number }; next_step?: { accuracy: number } | null; steps_per_solution: number; step_length: number };
  return {
    test_accuracy: e.test.accuracy, harder_accuracy: e.harder.accuracy, judge_accuracy: e.judge.accuracy, next_step_accuracy: e.next_step?.accuracy ?? null,
    steps_per_solution: e.steps_per_solution, step_length: e.step_length,
  };
}

function mark(dir: string, stage: string): void {
  mkdirSync(path.join(dir, 'done'), { recursive: true });
  writeFileAtomic(path.join(dir, 'done', stage), '');
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
    for (const k of Object.keys(engine.stats) as Array<keyof GenerateStats>) cur[k] = (cur[k] ?? 0) + engine.stats[k] - before[k];
    writeJSONAtomic(tf, tok);
  }
  return r;
}

const pc = (x: number) => `${(100 * x).toFixed(1)}%`;
