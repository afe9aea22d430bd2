// What a model gets wrong in the synthetic world, by kind, and how much of it its own step-wise search
// recovers. For the first N test and harder-test questions:
//   greedy      one greedy solution; its first wrong step classified by the world's verifier (the kinds of
//               docs/world.md "Checks": carry, digit, stale, skip, op, foreign, early, answer, …), with the
//               operation of the step it should have written
//   samples     k whole solutions at the search's temperature and top_p (the majority vote's own draws, same
//               seeds as src/measure/tts.ts): pass@k (any of them right) and their first mistakes by kind
//   search      step-wise best-of-w with the model's own judge (the training search run to the end)
// and the overlaps that bound what self-rewarding can teach: greedy wrong but the search right (what the loop
// can distil), pass@k right but the search wrong (what the judge or the step-wise path loses).
// A mistake is "systematic" when the same kind recurs at the same kind of step across questions; the table by
// operation shows whether the arithmetic slips concentrate on one operation (a way of doing a step that fails
// more often than another would); sums and differences are split by the way the model wrote them (in one
// line, or written out in columns: docs/world.md "Two ways to do a step").
//
//   node dist/bench/mistake-mix.js [--model DIR] [--problems N] [--seed S] [--json]
//   (default: the shipped assets/models/m1, 500 questions per split, seed 1)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import { deriveSeed } from '../src/engine/rng.js';
import { dataConfig } from '../src/data/build.js';
import { loadTemplate, renderStepPrompt } from '../src/data/templates.js';
import { DEFAULT_TTS, ttsReport } from '../src/measure/tts.js';
import { checkSolution, generateProblems, nextStep, splitSteps, stepBody, type Problem } from '../src/world/index.js';
import { readBody } from '../src/world/format.js';

interface SplitMix {
  split: string;
  n: number;
  greedy: number;
  pass_at_k: number;
  majority: number;
  search: number;
  /** Greedy wrong, search right / pass@k right, search wrong / greedy wrong, pass@k wrong. */
  search_fixes: number;
  search_loses: number;
  none_right: number;
  /** First wrong step of each wrong greedy solution: kind -> count; and kind/operation -> count. */
  greedy_kinds: Record<string, number>;
  /** Greedy solutions whose answer is right although a step is wrong (counted as right). */
  greedy_right_answer_wrong_step: number;
  greedy_kind_op: Record<string, number>;
  /** The same over all k samples of every question (wrong ones only). */
  sample_kinds: Record<string, number>;
  sample_kind_op: Record<string, number>;
  /** Steps written by the model per operation, right or wrong (greedy), to turn counts into rates; a sum
   *  or difference is split by the way the model wrote it (`- written` out in columns, `- one line`). */
  greedy_steps_by_op: Record<string, { steps: number; wrong: number }>;
  wall_s: number;
}

const bump = (o: Record<string, number>, k: string, by = 1) => (o[k] = (o[k] ?? 0) + by);

/** The operation of the step the solution should have written where it went wrong ('answer' for the boxed
 *  step), from the verifier's own next step on the prefix as written. */
function intendedOp(p: Problem, prefix: readonly string[]): string {
  try {
    const v = readBody(nextStep(p, prefix));
    return v === null ? '?' : v.type === 'answer' ? 'answer' : v.op;
  } catch {
    return 'none';
  }
}

/** First wrong step's kind and intended operation ('ok' when every step is right; 'no answer' when every
 *  written step is right but none is boxed), and whether the boxed answer is right: accuracy counts the
 *  answer, as everywhere else, so a wrong step can sit in a solution whose answer is right. */
function firstMistake(
  p: Problem,
  text: string,
): { kind: string; op: string; checks: { ok: boolean }[]; answerOk: boolean } {
  const c = checkSolution(p, text);
  const bodies = splitSteps(text).steps.map(stepBody);
  const answerOk = c.final && c.answer.ok;
  if (c.firstError >= 0) {
    return {
      kind: c.steps[c.firstError]!.kind,
      op: intendedOp(p, bodies.slice(0, c.firstError)),
      checks: c.steps.slice(0, c.firstError + 1),
      answerOk,
    };
  }
  if (!c.final) return { kind: 'no answer', op: intendedOp(p, bodies), checks: c.steps, answerOk };
  return { kind: c.answer.ok ? 'ok' : 'answer', op: 'answer', checks: c.steps, answerOk };
}

/** Questions per engine call: the KV cache of k samples of every question must fit the engine's heap. */
const CHUNK = 100;

async function measureSplit(
  e: EmbeddedEngine,
  problems: Problem[],
  seed: number,
  split: string,
  log: (s: string) => void,
): Promise<SplitMix> {
  const t0 = performance.now();
  const mix: SplitMix = {
    split,
    n: 0,
    greedy: 0,
    pass_at_k: 0,
    majority: 0,
    search: 0,
    search_fixes: 0,
    search_loses: 0,
    none_right: 0,
    greedy_kinds: {},
    greedy_right_answer_wrong_step: 0,
    greedy_kind_op: {},
    sample_kinds: {},
    sample_kind_op: {},
    greedy_steps_by_op: {},
    wall_s: 0,
  };
  for (let i = 0; i < problems.length; i += CHUNK) {
    await measureChunk(e, problems.slice(i, i + CHUNK), seed, mix);
    log(`${split}: ${mix.n}/${problems.length} questions`);
  }
  mix.wall_s = (performance.now() - t0) / 1000;
  return mix;
}

/** Adds one chunk of questions to the split's counts. */
async function measureChunk(e: EmbeddedEngine, problems: Problem[], seed: number, mix: SplitMix): Promise<void> {
  const t = loadTemplate('compact');
  const o = { ...DEFAULT_TTS, seed, context_tokens: e.config.n_ctx };
  const k = o.width;
  const rep = await ttsReport(e, t, problems, o);
  // the greedy solutions and the majority's k draws again, with the seeds ttsReport used: same texts
  const prompts = problems.map((p) => renderStepPrompt(t, p.text));
  const greedy = await e.generate(prompts, {
    n: 1,
    temperature: 0,
    max_tokens: o.max_tokens,
    seeds: problems.map((p) => deriveSeed(seed, 'tts-greedy', p.split, p.index)),
  });
  const samples = await e.generate(prompts, {
    n: k,
    temperature: o.temperature,
    top_p: o.top_p,
    max_tokens: o.max_tokens,
    seeds: problems.map((p) => deriveSeed(seed, 'tts-majority', p.split, p.index)),
  });
  mix.n += problems.length;
  mix.greedy += rep.greedy.correct;
  mix.majority += rep.majority.correct;
  mix.search += rep.best_of_w.correct;
  problems.forEach((p, i) => {
    const q = rep.questions[i]!;
    const g = firstMistake(p, greedy[i]![0]!.text);
    if (g.answerOk !== q.ok.greedy) throw new Error(`greedy of ${p.id} differs from the report's`);
    if (!g.answerOk) {
      bump(mix.greedy_kinds, g.kind);
      bump(mix.greedy_kind_op, `${g.kind} ${g.op}`);
    } else if (g.kind !== 'ok') mix.greedy_right_answer_wrong_step++;
    // per operation: every step greedy wrote up to and including its first wrong one
    const bodies = splitSteps(greedy[i]![0]!.text).steps.map(stepBody);
    g.checks.forEach((c, j) => {
      const op = intendedOp(p, bodies.slice(0, j));
      const v = readBody(bodies[j] ?? '');
      const way = op === '+' || op === '-' ? (v?.type === 'op' && v.work !== undefined ? ' written' : ' one line') : '';
      const r = (mix.greedy_steps_by_op[op + way] ??= { steps: 0, wrong: 0 });
      r.steps++;
      if (!c.ok) r.wrong++;
    });
    let any = false;
    for (const s of samples[i]!) {
      const m = firstMistake(p, s.text);
      if (m.answerOk) any = true;
      else {
        bump(mix.sample_kinds, m.kind);
        bump(mix.sample_kind_op, `${m.kind} ${m.op}`);
      }
    }
    if (any) mix.pass_at_k++;
    if (!q.ok.greedy && q.ok.best_of_w) mix.search_fixes++;
    if (any && !q.ok.best_of_w) mix.search_loses++;
    if (!any && !q.ok.greedy && !q.ok.best_of_w) mix.none_right++;
  });
}

const pc = (x: number, n: number) => (n ? ((100 * x) / n).toFixed(1) : '-');

function table(title: string, counts: Record<string, number>): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return [
    `| ${title} | count | share |`,
    '|---|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} | ${pc(v, total)}% |`),
    `| all | ${total} | |`,
  ].join('\n');
}

function print(m: SplitMix, k: number): void {
  console.log(`\n## ${m.split}: ${m.n} questions (${m.wall_s.toFixed(0)} s)\n`);
  console.log(`| greedy | pass@${k} | majority of ${k} | step-wise best-of-${k} (own judge) |`);
  console.log('|---|---|---|---|');
  console.log(`| ${pc(m.greedy, m.n)}% | ${pc(m.pass_at_k, m.n)}% | ${pc(m.majority, m.n)}% | ${pc(m.search, m.n)}% |`);
  console.log(
    `\ngreedy wrong, search right: ${m.search_fixes}; pass@${k} right, search wrong: ${m.search_loses}; ` +
      `greedy, search and every sample wrong: ${m.none_right}; greedy right with a wrong step: ` +
      `${m.greedy_right_answer_wrong_step}\n`,
  );
  console.log(table('greedy, wrong answer: first mistake', m.greedy_kinds) + '\n');
  console.log(table('greedy: first mistake, step it should have been', m.greedy_kind_op) + '\n');
  console.log('| greedy: step it should have been | steps written | wrong | rate |\n|---|---|---|---|');
  for (const [op, r] of Object.entries(m.greedy_steps_by_op).sort((a, b) => b[1].steps - a[1].steps))
    console.log(`| ${op} | ${r.steps} | ${r.wrong} | ${pc(r.wrong, r.steps)}% |`);
  console.log('\n' + table(`samples (${k} per question), wrong answer: first mistake`, m.sample_kinds) + '\n');
  console.log(table('samples: first mistake, step it should have been', m.sample_kind_op));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const model = flag('--model') ?? path.join(root, 'assets', 'models', 'm1');
  const n = Number(flag('--problems') ?? 500);
  const seed = Number(flag('--seed') ?? 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--problems must be a positive integer, got ${n}`);
  const log = (s: string) => process.stderr.write(s + '\n');
  const world = dataConfig({}).world;
  const e = EmbeddedEngine.load(model);
  const out: SplitMix[] = [];
  try {
    for (const split of ['test', 'harder'] as const)
      out.push(await measureSplit(e, generateProblems(world, split, n), seed, split, log));
  } finally {
    await e.close();
  }
  if (args.includes('--json')) console.log(JSON.stringify({ model, n, seed, k: DEFAULT_TTS.width, splits: out }));
  else {
    console.log(`# mistake mix of ${model}, seed ${seed}`);
    for (const m of out) print(m, DEFAULT_TTS.width);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
