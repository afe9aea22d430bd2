// PSRLM, the method (paper §3.3–3.4), as the loop runs it (src/run/method.ts). Its pair source, per
// iteration t from M_t:
//   health  judge health on the model's own candidates (src/judge/health.ts), with a loud label when the
//           judge is at or below chance (the run goes on: the paper has no such gate; we only report it)
//   search  step-wise search with self-judging over the iteration's questions (src/search/search.ts),
//           one record per question appended to samples.jsonl (a restarted search skips those recorded)
//   rollouts  (questions from a file only, in place of `health`) judge health after the search: its judged
//           rounds rolled out and graded against the gold answers (src/run/outcomes.ts), into health.json
//   pairs   PPD(M_t): pairs.jsonl, and the TRL and Step-DPO exports (src/search/pairs.ts)
// Its judge is measured on held-out EFT step pairs. No ground truth enters the loop: the world's verifier
// only measures (the chosen step's agreement with it, stored under `measure` in samples and search.json);
// on a file's questions the gold answers only measure (search.json's `graded`, pairs.json's `audit`).
import { appendJsonl } from '../util/resumable-jsonl.js';
import path from 'node:path';
import { writeFileAtomic, writeJSONAtomic } from '../util/atomic.js';
import type { Engine } from '../engine/types.js';
import { deriveSeed } from '../engine/rng.js';
import { buildRecords } from '../data/build.js';
import type { EftRecord } from '../data/schema.js';
import { renderStepPrompt } from '../data/templates.js';
import { judgeReport } from '../measure/world.js';
import { heldOutPrefixes, judgeHealth, type HealthReport } from '../judge/health.js';
import { collectPairs, toStepDPO, toTRL } from '../search/pairs.js';
import { runSearch, type SearchRecord } from '../search/search.js';
import { checkStep, generateProblem, generateProblems } from '../world/index.js';
import { chanceLabel, type Method } from './method.js';
import { Progress } from '../util/progress.js';
import { summarizeSearch, type SearchSummary } from './search-summary.js';
import {
  auditStepPairs,
  gradeSearches,
  goldsOf,
  rolloutHealth,
  type GradedSearch,
  type GradedSummary,
  type PairAudit,
  type RolloutReport,
  type RolloutRound,
} from './outcomes.js';
import { fileQuestions, jsonl, questionRange, readJSON, readJSONIf, readRecords, type StageContext } from './stage.js';
import { int, num, pct, percent as pc } from './summary.js';

async function health(ctx: StageContext, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const problems = generateProblems(ctx.data.world, 'test', cfg.health.prefixes);
  const seed = deriveSeed(cfg.seed, 'health', t);
  const h =
    cfg.health.prefixes > 0
      ? await judgeHealth(engine, ctx.t, heldOutPrefixes(problems, seed), {
          candidates: cfg.search.candidates,
          temperature: cfg.search.temperature,
          top_p: cfg.search.top_p,
          bothOrders: cfg.search.both_orders,
          seed,
          maxStepTokens: cfg.search.max_step_tokens,
          maxJudgeTokens: cfg.search.judge_max_tokens,
        })
      : null;
  const label = healthLabel(h);
  const warnings = healthWarnings(h);
  writeJSONAtomic(path.join(dir, 'health.json'), { model: `M${t}`, label, warnings, report: h });
  for (const w of warnings) ctx.log(`!!! iteration ${t}: judge ${w}`);
  const loud = label.startsWith('JUDGE');
  const figures = h
    ? ` (pick right ${pc(h.judge_pick)} vs random ${pc(h.random_pick)} vs majority ${pc(h.majority_pick)} ` +
      `on ${pc(h.mixed_share)} mixed prefixes)`
    : '';
  const noise = loud ? ' — the run goes on, but its preferences are no better than noise' : '';
  ctx.log(`${loud ? '!!! ' : ''}iteration ${t}: judge health on own candidates: ${label}${figures}${noise}`);
}

/** The label of a health report: loud when the judge's pick is at or below a random pick. */
export function healthLabel(h: HealthReport | null): string {
  if (!h) return 'not measured (health.prefixes = 0)';
  if (h.mixed_share === 0) return 'not measurable: no prefix had both right and wrong candidates';
  const below = 'JUDGE AT OR BELOW CHANCE on its own candidates';
  return chanceLabel(h.judge_pick, h.random_pick, h.judge_beats_majority, below);
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
  if (parsed > 0 && (first > 0.9 || first < 0.1))
    w.push(`collapsed to one position: ${pc(first)} of parsed verdicts name the first-shown step`);
  if (h.decisive_order_pairs > 0 && h.decisive_order_flip_rate > 0.5) {
    w.push(
      `order-dependent: ${pc(h.decisive_order_flip_rate)} of the pairs of a right and a wrong step change ` +
        `winner when the order is swapped`,
    );
  }
  return w;
}

async function search(ctx: StageContext, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const file = path.join(dir, 'samples.jsonl');
  const drawn = fileQuestions(ctx, t);
  const [from, n] = drawn ? [0, drawn.length] : questionRange(cfg, ctx.data, t);
  const have = readRecords<SearchRecord>(file);
  const seen = new Set(have.map((r) => r.index));
  if (have.length) ctx.log(`iteration ${t}: search resumes, ${have.length} of ${n} questions already recorded`);
  const bar = new Progress(`iter ${t} search`, n, { unit: 'questions', silent: !ctx.progress });
  bar.tick(have.length);
  const opts = { ...cfg.search, context_tokens: engine.contextTokens },
    coords = { seed: cfg.seed, iteration: t };
  const onRecord = (r: SearchRecord) => {
    appendJsonl(file, [r]);
    bar.tick(1);
  };
  const fresh = drawn
    ? // a file's questions: a question's coordinate is its row in the file; no verifier to measure with
      await runSearch(
        engine,
        ctx.t,
        drawn.filter((q) => !seen.has(q.index)).map((q) => ({ index: q.index, problem: { text: q.question } })),
        opts,
        coords,
        { onRecord },
      )
    : await runSearch(
        engine,
        ctx.t,
        Array.from({ length: n }, (_, k) => from + k)
          .filter((i) => !seen.has(i))
          .map((index) => ({ index, problem: generateProblem(ctx.data.world, 'train', index) })),
        opts,
        coords,
        {
          // measurement only: the verifier's opinion of each candidate is stored, never read by the search
          measure: (p, prefix, step) => checkStep(p, prefix, step).ok,
          onRecord,
        },
      );
  bar.finish();
  // the finished file holds the records in question order, whatever order they finished in
  const all = [...have, ...fresh].sort((a, b) => a.index - b.index);
  writeFileAtomic(file, jsonl(all));
  const s = summarizeSearch(all);
  const head =
    `iteration ${t}: searched ${n} questions: ${JSON.stringify(s.outcomes)}, ${s.pairs_found} ` +
    `pairs, ${s.judge_prompts} judge prompts (${s.judge_prompts_saved} saved by merging)`;
  if (!drawn) {
    writeJSONAtomic(path.join(dir, 'search.json'), s);
    ctx.log(`${head}; verifier agrees with the chosen step ${pc(s.measure.chosen_ok)}`);
    return;
  }
  // no step verifier for a file's questions: the searched solutions' final answers against the golds
  const g = await gradeSearches(ctx.grader(), ctx.questions!.report.format, all, goldsOf(drawn));
  writeFileAtomic(path.join(dir, 'graded.jsonl'), jsonl(g.rows));
  writeJSONAtomic(path.join(dir, 'search.json'), { ...s, measure: null, graded: g.summary });
  ctx.log(
    `${head}; ${g.summary.label}: ${g.summary.right} right answers ` +
      `(${pc(g.summary.accuracy)}), ${g.summary.finished} finished`,
  );
}

/** Judge health on a file's questions, after the search: its judged rounds rolled out (src/run/outcomes.ts). */
async function rolloutStage(ctx: StageContext, t: number, dir: string, engine: Engine): Promise<void> {
  const { cfg } = ctx;
  const n = cfg.health.rollouts ?? 0;
  if (n === 0) {
    writeJSONAtomic(path.join(dir, 'health.json'), {
      model: `M${t}`,
      label: 'not measured (health.rollouts = 0)',
      warnings: [],
      report: null,
    });
    return;
  }
  const records = readRecords<SearchRecord>(path.join(dir, 'samples.jsonl'));
  const { report, rounds } = await rolloutHealth(engine, ctx.t, records, goldsOf(fileQuestions(ctx, t)!), {
    rounds: n,
    seed: cfg.seed,
    iteration: t,
    maxTokens: cfg.eval.max_tokens,
    format: ctx.questions!.report.format,
    pool: ctx.grader(),
  });
  const verdict =
    report.mixed_rounds === 0
      ? 'not measurable: no rolled-out round had both right and wrong candidates'
      : report.judge_pick <= report.random_pick
        ? 'JUDGE AT OR BELOW CHANCE on its own candidates'
        : 'above chance';
  const label = `${verdict} (${report.label})`;
  writeFileAtomic(path.join(dir, 'rollouts.jsonl'), jsonl(rounds));
  writeJSONAtomic(path.join(dir, 'health.json'), { model: `M${t}`, label, warnings: [], report });
  const loud = verdict.startsWith('JUDGE');
  ctx.log(
    `${loud ? '!!! ' : ''}iteration ${t}: judge health on its own candidates: ${label}: pick leads to a right ` +
      `answer ${pc(report.judge_pick)} vs random ${pc(report.random_pick)} on ${report.mixed_rounds} mixed rounds`,
  );
}

async function pairs(ctx: StageContext, t: number, dir: string): Promise<void> {
  const records = readRecords<SearchRecord>(path.join(dir, 'samples.jsonl'));
  const { pairs: ps, stats } = collectPairs(records, { keep_unfinished: !ctx.cfg.drop_unfinished_pairs });
  writeFileAtomic(path.join(dir, 'pairs.jsonl'), jsonl(ps));
  writeFileAtomic(path.join(dir, 'pairs.trl.jsonl'), jsonl(ps.map(toTRL)));
  const byIndex = new Map(records.map((r) => [r.index, r.problem]));
  writeFileAtomic(
    path.join(dir, 'pairs.stepdpo.jsonl'),
    jsonl(ps.map((p) => toStepDPO(p, renderStepPrompt(ctx.t, byIndex.get(p.problem_index)!)))),
  );
  if (!ctx.questions) {
    writeJSONAtomic(path.join(dir, 'pairs.json'), { stats });
    return;
  }
  const graded = readRecords<GradedSearch>(path.join(dir, 'graded.jsonl'));
  const audit = auditStepPairs(ps, graded, readRecords<RolloutRound>(path.join(dir, 'rollouts.jsonl')));
  writeJSONAtomic(path.join(dir, 'pairs.json'), { stats, audit });
  ctx.log(
    `iteration ${t}: pairs ${audit.label}: chosen side's completion right ${pct(audit.chosen_right_share)} ` +
      `of ${audit.chosen_graded}, rejected side's ${pct(audit.rejected_right_share)} of ${audit.rejected_graded}`,
  );
}

/** Pairwise step judgments of held-out EFT records (built once per run, at the first evaluation). */
function judgeBench(ctx: StageContext) {
  let eft: EftRecord[] | undefined;
  return async (engine: Engine) => {
    const { cfg, data } = ctx;
    eft ??= buildRecords({
      ...data,
      base: { problems: 0, practice: 0 },
      ift: { ...data.ift, problems: 0 },
      eft: { ...data.eft, trainPairs: 0, harderPairs: 0, testPairs: Math.ceil(cfg.eval.judge / 2) },
    }).eftTest;
    return judgeReport(engine, eft.slice(0, Math.max(1, cfg.eval.judge)), cfg.search.judge_max_tokens);
  };
}

export const PSRLM: Method = {
  key: 'psrlm',
  name: 'PSRLM',
  title: 'PSRLM',
  comparedWith: 'srlm',
  pairSource: [
    { name: 'health', generates: true, run: health, applies: (ctx) => !ctx.questions },
    { name: 'search', generates: true, run: search },
    // a file's questions: judge health measured after the search, on its own rounds (also health.json)
    { name: 'rollouts', generates: true, run: rolloutStage, applies: (ctx) => !!ctx.questions },
    { name: 'pairs', generates: false, run: pairs },
  ],
  judgeBench,
  parentHealth(dir) {
    const h = readJSON<{ label: string }>(path.join(dir, 'health.json'));
    const s = readJSON<SearchSummary>(path.join(dir, 'search.json'));
    return { judge_health_of_parent: h.label, chosen_step_verifier_agreement: s.measure?.chosen_ok };
  },
  healthFigures(dir) {
    const h = readJSONIf<{ label?: string; report?: Record<string, unknown> | null }>(path.join(dir, 'health.json'));
    const r = h?.report;
    if (!r) return null;
    return {
      label: h.label ?? '',
      pick: num(r.judge_pick),
      random: num(r.random_pick),
      majority: num(r.majority_pick),
      first: num(r.first_position_rate),
      flip: num(r.decisive_order_flip_rate),
      mixed: num(r.mixed_share),
    };
  },
  iterations: {
    heading: 'Searches',
    columns: [
      'iteration',
      'questions',
      'outcomes',
      'rounds',
      'rollbacks',
      'judge prompts',
      'saved by merging',
      'pairs',
      'on mixed rounds: pick right vs random (rounds)',
    ],
    row(dir, t) {
      const s = readJSONIf<SearchSummary>(path.join(dir, 'search.json'));
      if (!s) return null;
      const outcomes = Object.entries(s.outcomes ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const m = s.measure;
      return [
        String(t),
        int(s.questions),
        outcomes,
        int(s.rounds),
        int(s.rollbacks),
        int(s.judge_prompts),
        int(s.judge_prompts_saved),
        int(s.pairs_found),
        `${pct(m?.mixed_chosen_ok)} vs ${pct(m?.mixed_random_ok)} (${int(m?.mixed_rounds)})`,
      ];
    },
  },
  outcomes: {
    heading: 'Searches graded against the gold answers',
    columns: [
      'iteration',
      'questions',
      'searches finished',
      'right answers',
      'judge health (rollouts)',
      'on mixed rolled-out rounds: pick leads to right vs random (rounds)',
      'pairs: chosen side completes right (graded)',
      'rejected side completes right (graded)',
    ],
    row(dir, t) {
      const g = readJSONIf<{ graded?: GradedSummary }>(path.join(dir, 'search.json'))?.graded;
      if (!g) return null;
      const h = readJSONIf<{ label?: string; report?: RolloutReport | null }>(path.join(dir, 'health.json'));
      const r = h?.report,
        a = readJSONIf<{ audit?: PairAudit }>(path.join(dir, 'pairs.json'))?.audit;
      return [
        String(t),
        int(g.questions),
        int(g.finished),
        `${int(g.right)} (${pct(g.accuracy)})`,
        h?.label ?? '–',
        r ? `${pct(r.judge_pick)} vs ${pct(r.random_pick)} (${int(r.mixed_rounds)})` : '–',
        a ? `${pct(a.chosen_right_share)} (${int(a.chosen_graded)})` : '–',
        a ? `${pct(a.rejected_right_share)} (${int(a.rejected_graded)})` : '–',
      ];
    },
  },
  words: {
    judge: 'judge',
    judgeColumn: 'judge acc (EFT)',
    verifierColumn: 'verifier agrees with chosen steps',
    modelNote: '',
    judgeNote: '',
    noHealth: 'No judge health was measured in this run (health.prefixes = 0).',
    pickTitle: 'Judge on its own candidates, before each iteration (mixed prefixes)',
    pickSeries: 'judge pick right',
    sideTitle: 'Judge biases and held-out judge accuracy',
    sideRefs: [{ value: 0.5, label: '50%: no position bias' }],
    sideSeries: [
      { name: 'first-position wins', of: 'first' },
      { name: 'order flips (right vs wrong)', of: 'flip' },
      { name: 'held-out judge accuracy (EFT)', of: 'judgeAcc' },
    ],
  },
};
