// The SRLM baseline (outcome-based self-rewarding, Yuan et al. 2024; paper §4.1 "Baseline") as the loop
// runs it (src/run/method.ts), in the same harness as PSRLM. Its pair source, per iteration t from M_t
// (a model initialised with solution-scoring EFT data):
//   sample  whole solutions per question, each self-scored 0–5 several times (src/run/srlm-sampling.ts),
//           appended to samples.jsonl one batch of questions at a time (a restarted stage skips those
//           recorded, as the PSRLM search does)
//   pairs   best vs worst solution by mean self-score, ties dropped
// Its judge, the scorer, is measured on held-out scored solutions: accuracy at telling fully right
// solutions from the rest.
import { appendJsonl } from '../util/resumable-jsonl.js';
import path from 'node:path';
import { writeFileAtomic, writeJSONAtomic } from '../util/atomic.js';
import type { Engine } from '../engine/types.js';
import type { Question } from '../data/questions.js';
import { scoreRecords } from '../data/score.js';
import { renderStepPrompt } from '../data/templates.js';
import { scoreReport } from '../measure/world.js';
import { toTRL } from '../search/pairs.js';
import { generateProblem } from '../world/index.js';
import { chanceLabel, type Method } from './method.js';
import { Progress } from '../util/progress.js';
import {
  srlmPairs,
  srlmSample,
  summarizeSrlm,
  worldAnswers,
  type SrlmPairStats,
  type SrlmRecord,
  type SrlmSummary,
} from './srlm-sampling.js';
import { auditPairs, goldsOf, gradedLabel, gradeSolutions, type PairAudit } from './outcomes.js';
import { fileQuestions, jsonl, questionRange, readJSON, readJSONIf, readRecords, type StageContext } from './stage.js';
import { fix, int, num, pct, percent as pc } from './summary.js';

/** N solutions per question, each self-scored K times; appended per batch of questions (resume). */
async function sample(ctx: StageContext, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const file = path.join(dir, 'samples.jsonl');
  const drawn = fileQuestions(ctx, t);
  const [from, n] = drawn ? [0, drawn.length] : questionRange(cfg, ctx.data, t);
  const have = readRecords<SrlmRecord>(file);
  const seen = new Set(have.map((r) => r.index));
  const todo = (drawn ? drawn.map((q) => q.index) : Array.from({ length: n }, (_, k) => from + k)).filter(
    (i) => !seen.has(i),
  );
  const byIndex = new Map(drawn?.map((q) => [q.index, q]));
  if (have.length) ctx.log(`iteration ${t}: sampling resumes, ${have.length} of ${n} questions already recorded`);
  const bar = new Progress(`iter ${t} sample+score`, n, { unit: 'questions', silent: !ctx.progress });
  bar.tick(have.length);
  const batch = Math.max(1, cfg.search.batch_problems);
  const fresh: SrlmRecord[] = [];
  for (let k = 0; k < todo.length; k += batch) {
    const coords = { seed: cfg.seed, iteration: t },
      slice = todo.slice(k, k + batch);
    const recs = drawn
      ? await sampleFile(
          ctx,
          engine,
          slice.map((index) => byIndex.get(index)!),
          coords,
        )
      : await srlmSample(
          engine,
          ctx.t,
          slice.map((index) => ({ index, problem: generateProblem(ctx.data.world, 'train', index) })),
          cfg.srlm,
          coords,
          engine.contextTokens ?? Number.POSITIVE_INFINITY,
          worldAnswers,
        );
    appendJsonl(file, recs);
    fresh.push(...recs);
    bar.tick(recs.length);
  }
  bar.finish();
  const all = [...have, ...fresh].sort((a, b) => a.index - b.index);
  writeFileAtomic(file, jsonl(all));
  const s = summarizeSrlm(all);
  // a file's questions: the answers were graded against the golds, not checked by the world's verifier
  writeJSONAtomic(path.join(dir, 'sample.json'), drawn ? { ...s, graded: gradedLabel(all.length) } : s);
  ctx.log(
    `iteration ${t}: sampled ${s.solutions} solutions of ${n} questions, mean ` +
      `self-score ${s.mean_score.toFixed(2)}; on ${s.measure.mixed_questions} mixed questions the top-scored ` +
      `solution is right ${pc(s.measure.best_ok)} vs random ${pc(s.measure.random_ok)} vs ` +
      `majority ${pc(s.measure.majority_ok)}`,
  );
}

/** A batch of a file's questions: those the engine cannot encode get no solutions (and so no pair); the
 *  others' answers are graded against their golds (measurement only). */
async function sampleFile(
  ctx: StageContext,
  engine: Engine,
  qs: readonly Question[],
  coords: { seed: number; iteration: number },
): Promise<SrlmRecord[]> {
  const golds = goldsOf(qs),
    format = ctx.questions!.report.format;
  const readable = qs.filter((q) => engine.unreadable?.(renderStepPrompt(ctx.t, q.question)) == null);
  const items = readable.map((q) => ({ index: q.index, problem: { text: q.question } }));
  // graded below, all of the batch's solutions in one grading pool
  const recs = await srlmSample(
    engine,
    ctx.t,
    items,
    ctx.cfg.srlm,
    coords,
    engine.contextTokens ?? Number.POSITIVE_INFINITY,
    (_, texts) => texts.map(() => false),
  );
  const graded = await gradeSolutions(
    ctx.grader(),
    format,
    recs.flatMap((r) => r.solutions.map((x) => ({ text: x.text, gold: golds.get(r.index)! }))),
  );
  let g = 0;
  for (const r of recs) for (const x of r.solutions) x.measure.answer_ok = graded[g++]!.right;
  const byIndex = new Map(recs.map((r) => [r.index, r]));
  return qs.map((q) => byIndex.get(q.index) ?? { index: q.index, problem: q.question, solutions: [] });
}

async function pairs(ctx: StageContext, t: number, dir: string): Promise<void> {
  const records = readRecords<SrlmRecord>(path.join(dir, 'samples.jsonl'));
  const { pairs: ps, stats } = srlmPairs(ctx.t, records);
  writeFileAtomic(path.join(dir, 'pairs.jsonl'), jsonl(ps));
  writeFileAtomic(path.join(dir, 'pairs.trl.jsonl'), jsonl(ps.map(toTRL)));
  if (!ctx.questions) {
    writeJSONAtomic(path.join(dir, 'pairs.json'), { stats });
    return;
  }
  // whole solutions: each side's own graded answer
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const rightOf = (index: number, text: string) =>
    byIndex.get(index)?.solutions.find((s) => s.text === text)?.measure.answer_ok ?? null;
  const audit = auditPairs(
    ps.map((p) => ({ chosen: rightOf(p.problem_index, p.chosen), rejected: rightOf(p.problem_index, p.rejected) })),
  );
  writeJSONAtomic(path.join(dir, 'pairs.json'), { stats, audit });
  ctx.log(
    `iteration ${t}: pairs ${audit.label}: chosen solution right ${pct(audit.chosen_right_share)}, ` +
      `rejected ${pct(audit.rejected_right_share)}`,
  );
}

/** Greedy 0–5 scores of held-out scored solutions against the rubric. */
function judgeBench(ctx: StageContext) {
  return async (engine: Engine) => {
    const { cfg, data } = ctx;
    const n = Math.max(1, cfg.eval.judge);
    // the same held-out solutions whichever scorer variant the model was built with (only the score is
    // compared; the longer `steps` target sets which solutions fit the budget)
    const held = scoreRecords(
      data.world,
      ctx.t,
      data.seed,
      'test',
      0,
      n,
      data.budget.eft,
      undefined,
      data.eft.explain,
      'steps',
    );
    return scoreReport(engine, held.records, cfg.srlm.score_max_tokens);
  };
}

export const SRLM: Method = {
  key: 'srlm',
  name: 'SRLM',
  title: 'SRLM baseline',
  comparedWith: 'psrlm',
  pairSource: [
    { name: 'sample', generates: true, run: sample },
    { name: 'pairs', generates: false, run: pairs },
  ],
  judgeBench,
  parentHealth(dir) {
    const s = readJSON<SrlmSummary & { graded?: string }>(path.join(dir, 'sample.json')),
      m = s.measure;
    const label =
      m.mixed_questions === 0
        ? 'not measurable'
        : chanceLabel(m.best_ok, m.random_ok, m.best_ok > m.majority_ok, 'SCORER AT OR BELOW CHANCE');
    const figures =
      `${s.graded ? `${s.graded}: ` : ''}top-scored right ${pc(m.best_ok)} vs ` +
      `random ${pc(m.random_ok)} vs majority ${pc(m.majority_ok)}`;
    return { judge_health_of_parent: `${label} (${figures})` };
  },
  healthFigures(dir) {
    const m = readJSONIf<Partial<SrlmSummary>>(path.join(dir, 'sample.json'))?.measure;
    if (!m) return null;
    return {
      label: `${m.mixed_questions} mixed questions`,
      pick: num(m.best_ok),
      random: num(m.random_ok),
      majority: num(m.majority_ok),
      first: null,
      flip: null,
      mixed: null,
    };
  },
  iterations: {
    heading: 'Sampling and self-scoring',
    columns: [
      'iteration',
      'questions',
      'solutions',
      'mean self-score',
      'unparsable scores',
      'pairs',
      'on mixed questions: top-scored right vs random vs majority (questions)',
    ],
    row(dir, t) {
      const s = readJSONIf<SrlmSummary>(path.join(dir, 'sample.json'));
      if (!s) return null;
      const p = readJSONIf<{ stats?: SrlmPairStats }>(path.join(dir, 'pairs.json'))?.stats;
      const m = s.measure;
      return [
        String(t),
        int(s.questions),
        int(s.solutions),
        fix(s.mean_score, 2),
        pct(s.parse_failure_rate),
        p ? `${p.kept} (${p.ties} ties dropped)` : '–',
        `${pct(m?.best_ok)} vs ${pct(m?.random_ok)} vs ${pct(m?.majority_ok)} (${int(m?.mixed_questions)})`,
      ];
    },
  },
  outcomes: {
    heading: 'Sampled solutions graded against the gold answers',
    columns: [
      'iteration',
      'questions',
      'solutions',
      'solutions right',
      'pairs: chosen solution right (graded)',
      'rejected solution right (graded)',
    ],
    row(dir, t) {
      const s = readJSONIf<SrlmSummary & { graded?: string }>(path.join(dir, 'sample.json'));
      if (!s?.graded) return null;
      const a = readJSONIf<{ audit?: PairAudit }>(path.join(dir, 'pairs.json'))?.audit;
      return [
        String(t),
        int(s.questions),
        int(s.solutions),
        pct(s.measure.solution_ok),
        a ? `${pct(a.chosen_right_share)} (${int(a.chosen_graded)})` : '–',
        a ? `${pct(a.rejected_right_share)} (${int(a.rejected_graded)})` : '–',
      ];
    },
  },
  words: {
    judge: 'scorer',
    judgeColumn: 'scorer acc',
    verifierColumn: '–',
    modelNote: ' (M1 with solution-scoring data)',
    judgeNote:
      " The judge column is the scorer's accuracy at telling fully right solutions from the rest" +
      ' (held-out scored solutions).',
    noHealth: 'No sample.json with a measure in this run.',
    pickTitle: 'SRLM scorer on its own solutions (mixed questions)',
    pickSeries: 'top-scored right',
    sideTitle: 'Held-out scorer accuracy',
    sideRefs: [],
    sideSeries: [{ name: 'held-out scorer accuracy', of: 'judgeAcc' }],
  },
};
