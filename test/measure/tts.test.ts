// Test-time scaling (src/measure/tts.ts), as oracles:
// - majority vote: counts and a seeded tie-break (not first-seen) by hand;
// - a scripted engine whose whole solutions, candidate steps and judge verdicts the test writes: each
//   method's answer per question known by hand (best-of-w answers with the search's path, even where greedy
//   was right), accuracy by the checker, and tokens counted by hand from the prompts and completions;
// - a tiny embedded model: the report's and the CLI's shape, determinism for a seed, greedy equal to the
//   loop's greedy evaluation, and best-of-w equal to the training search run with the same settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Completion, GenerateOptions } from '../../src/engine/types.js';
import { loadTemplate, renderStepPrompt } from '../../src/data/templates.js';
import {
  CountingEngine,
  distillShare,
  majorityVote,
  ttsReport,
  ttsTable,
  type TtsReport,
} from '../../src/measure/tts.js';
import { solveReport } from '../../src/measure/world.js';
import { DEFAULT_SEARCH, runSearch, searchPrompt } from '../../src/search/search.js';
import { deriveSeed } from '../../src/engine/rng.js';
import { checkAnswer, generateProblems, renderSteps, worldConfig, type Problem } from '../../src/world/index.js';
import { main } from '../../src/cli/main.js';
import { FakeEngine } from '../search/fake.js';
import { tinyM1 } from '../run/tiny.js';

const t = loadTemplate('compact');

test(
  'majority vote: the most frequent boxed answer; no answer never wins; the first sample with it is the ' + 'pick',
  () => {
    assert.deepEqual(majorityVote(['\\boxed{3}', '\\boxed{4}', 'x \\boxed{4}', '\\boxed{5}'], 1), {
      answer: '4',
      pick: 1,
      votes: 2,
      tied: ['4'],
    });
    assert.deepEqual(majorityVote(['x', 'y', '\\boxed{7}'], 1), { answer: '7', pick: 2, votes: 1, tied: ['7'] });
    assert.deepEqual(majorityVote(['none', 'either'], 1), { answer: null, pick: -1, votes: 0, tied: [] });
    assert.deepEqual(majorityVote([], 1), { answer: null, pick: -1, votes: 0, tied: [] });
  },
);

test('majority vote: equal counts are decided by the seed, not by sample order', () => {
  const texts = ['\\boxed{3}', '\\boxed{4}', '\\boxed{4}', '\\boxed{3}', '\\boxed{5}'];
  const wins = { '3': 0, '4': 0 } as Record<string, number>;
  for (let s = 0; s < 200; s++) {
    const v = majorityVote(texts, s);
    assert.deepEqual(v.tied, ['3', '4']);
    assert.equal(v.votes, 2);
    assert.equal(v.pick, v.answer === '3' ? 0 : 1);
    assert.deepEqual(majorityVote(texts, s), v, 'same seed, same pick');
    wins[v.answer!]!++;
  }
  // a fair draw between two answers: each wins about half of 200 seeds (first-seen would give 200/0)
  assert.ok(wins['3']! > 60 && wins['4']! > 60, JSON.stringify(wins));
});

/** The search's fake engine, plus whole solutions (greedy and sampled) scripted per step prompt. Whole
 *  solutions carry one token id per word, so the count must come from the ids, not the text; the fake's
 *  search completions carry none, so they are counted by tokenizing their text (one token per char). */
class ScriptedEngine extends FakeEngine {
  readonly greedy = new Map<string, string>();
  readonly samples = new Map<string, string[]>();
  /** Every call's prompts and completions, as the engine saw them. */
  readonly log: Array<{ prompts: string[]; out: Completion[][]; opts: GenerateOptions }> = [];
  override async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    let out: Completion[][];
    if (!(opts.stop ?? []).includes('\n') && prompts.every((p) => this.greedy.has(p))) {
      const whole = (text: string): Completion => ({
        text,
        tokens: text.split(' ').map((_, i) => i),
        logprobs: [],
        finish_reason: 'eos',
      });
      out = prompts.map((p) =>
        opts.temperature === 0 ? [whole(this.greedy.get(p)!)] : this.samples.get(p)!.map(whole),
      );
      assert.ok(
        out.every((cs) => cs.length === (opts.n ?? 1)),
        'n completions per prompt',
      );
    } else {
      out = await super.generate(prompts, opts);
    }
    this.log.push({ prompts, out, opts });
    return out;
  }
}

const words = (s: string) => s.split(' ').length;

function scripted(problems: Problem[]): ScriptedEngine {
  const [p0, p1] = problems as [Problem, Problem];
  const a0 = String(p0.answer),
    a1 = String(p1.answer);
  const e = new ScriptedEngine({
    g1: 3,
    m1: 1,
    b1: 0,
    [`\\boxed{${a0}}`]: 5,
    b2: 0,
    b3: 1,
    [`\\boxed{999}`]: 4,
    x: 0,
    y: 1,
  });
  const P = (p: Problem, steps: string[] = []) => searchPrompt(t, p.text, steps);
  // question 0: greedy wrong; majority right (2 of 3); search: g1 then the right answer
  e.greedy.set(P(p0), 'Step 1: \\boxed{999}');
  e.samples.set(P(p0), [`Step 1: \\boxed{${a0}}`, 'Step 1: \\boxed{998}', `Step 1: so \\boxed{${a0}}`]);
  e.script(P(p0), ['m1', 'g1', 'b1']);
  e.script(P(p0, ['g1']), ['b2', `\\boxed{${a0}}`, 'b3']);
  // question 1: greedy right; majority a tie of two wrong answers; the search's judge ties every candidate of
  // step 1 (rollback), then prefers a wrong boxed answer: best-of-w must answer 999, not greedy's answer
  e.greedy.set(P(p1), `Step 1: \\boxed{${a1}}`);
  e.samples.set(P(p1), ['Step 1: \\boxed{997}', 'Step 1: no answer', 'Step 1: \\boxed{996}']);
  e.script(P(p1), ['t1', 't2', 't3'], ['x', '\\boxed{999}', 'y']);
  return e;
}

test(
  "scripted engine: each method's answer by hand, best-of-w answers with the search's path, tokens by " + 'hand',
  async () => {
    const problems = generateProblems(worldConfig({ seed: 20250305 }), 'test', 2);
    assert.ok(problems.every((p) => p.answer !== 999 && p.answer !== 998 && p.answer !== 997 && p.answer !== 996));
    const e = scripted(problems);
    const opts = { width: 3, seed: 7 };
    const r = await ttsReport(e, t, problems, opts);
    const [q0, q1] = r.questions;
    const a0 = String(problems[0]!.answer),
      a1 = String(problems[1]!.answer);
    assert.deepEqual(
      [
        q0!.greedy,
        q0!.majority,
        q0!.majority_votes,
        q0!.majority_tie,
        q0!.best_of_w,
        q0!.best_of_w_steps,
        q0!.best_of_w_outcome,
      ],
      ['999', a0, 2, false, a0, 2, 'final'],
    );
    assert.deepEqual(q0!.ok, { greedy: false, majority: true, best_of_w: true });
    assert.deepEqual(
      [q1!.greedy, q1!.majority_votes, q1!.majority_tie, q1!.best_of_w, q1!.best_of_w_steps],
      [a1, 1, true, '999', 1],
    );
    assert.ok(q1!.majority === '997' || q1!.majority === '996');
    assert.deepEqual(q1!.ok, { greedy: true, majority: false, best_of_w: false });
    assert.deepEqual([r.greedy.correct, r.majority.correct, r.best_of_w.correct], [1, 1, 1]);
    assert.deepEqual([r.greedy.accuracy, r.majority.accuracy, r.best_of_w.accuracy], [0.5, 0.5, 0.5]);
    assert.deepEqual([r.majority.ties, r.best_of_w.rollbacks, r.best_of_w.outcomes], [1, 1, { final: 2 }]);
    // judge prompts: q0 3 + 3 distinct candidates, q1 3 (tie) + 3: 4 rounds x 3 pairs x 2 orders
    assert.equal(r.best_of_w.judge_prompts, 24);
    assert.deepEqual([r.n, r.split, r.width, r.k, r.temperature, r.top_p, r.seed], [2, 'test', 3, 3, 0.5, 0.95, 7]);

    // tokens: prompts once per prompt and call (fake tokenizer: one per char), completions by their ids
    const step = problems.map((p) => renderStepPrompt(t, p.text).length);
    assert.deepEqual([r.greedy.prompt_tokens, r.greedy.calls], [step[0]! + step[1]!, 1]);
    assert.equal(r.greedy.generated_tokens, words('Step 1: \\boxed{999}') + words(`Step 1: \\boxed{${a1}}`));
    assert.deepEqual([r.majority.prompt_tokens, r.majority.calls], [step[0]! + step[1]!, 1]);
    assert.equal(r.majority.generated_tokens, 3 + 3 + 4 + 3 + 4 + 3);
    // the search: two rounds, each one sampling call for both questions and one judge call; its completions
    // carry no ids, so their text is counted
    const search = e.log.slice(2);
    assert.equal(r.best_of_w.calls, 4);
    assert.equal(search.length, 4);
    assert.equal(
      r.best_of_w.prompt_tokens,
      search.reduce((s, c) => s + c.prompts.reduce((x, p) => x + p.length, 0), 0),
    );
    assert.equal(
      r.best_of_w.generated_tokens,
      search.reduce((s, c) => s + c.out.flat().reduce((x, o) => x + o.text.length, 0), 0),
    );
    assert.ok(r.best_of_w.prompt_tokens > 10 * r.greedy.prompt_tokens, 'judging costs more than answering once');

    // the draws derive from coordinates: the majority call's seeds are (seed, method, split, index)
    const maj = e.log[1]!.opts;
    assert.deepEqual(
      maj.seeds,
      problems.map((p) => deriveSeed(7, 'tts-majority', 'test', p.index)),
    );
    assert.deepEqual([maj.n, maj.temperature, maj.top_p], [3, 0.5, 0.95]);
    // deterministic: the same script and seed give the same report (wall time aside)
    const again = await ttsReport(scripted(problems), t, problems, opts);
    const strip = (x: TtsReport) => JSON.stringify(x, (k, v) => (k === 'wall_s' ? 0 : v));
    assert.equal(strip(again), strip(r));
    assert.match(ttsTable(r), /\| step-wise best-of-3 \(own judge\) \| 50\.0% \(1\/2\) \|/);
    assert.match(ttsTable(r), /1 vote\(s\) decided by a seeded draw/);
  },
);

test(
  'the counting engine counts token ids, falls back to the text when a completion has none, and leaves the ' +
    'engine open',
  async () => {
    let closed = false;
    const inner = new (class extends FakeEngine {
      override async generate(prompts: string[], o: GenerateOptions): Promise<Completion[][]> {
        return prompts.map(() =>
          Array.from({ length: o.n ?? 1 }, (_, j): Completion => ({
            text: 'abcd',
            tokens: j === 0 ? [1, 2] : [],
            logprobs: [],
            finish_reason: 'eos',
          })),
        );
      }
      override async close(): Promise<void> {
        closed = true;
      }
    })();
    const e = new CountingEngine(inner);
    await e.generate(['xyz', 'hello'], { n: 3, max_tokens: 5 });
    assert.deepEqual([e.prompt_tokens, e.generated_tokens, e.calls], [3 + 5, 2 * (2 + 4 + 4), 1]);
    await e.close();
    assert.equal(closed, false);
  },
);

test('bad widths are refused with a message that says what to pass', async () => {
  await assert.rejects(ttsReport(new FakeEngine(), t, [], { width: 1 }), /width must be an integer >= 2/);
  await assert.rejects(ttsReport(new FakeEngine(), t, [], { k: 0 }), /k must be an integer >= 1/);
});

test(
  "on a tiny model: shape, determinism, greedy = the loop's greedy, best-of-w = the training search; the CLI",
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-tts-'));
    try {
      await tinyM1(path.join(dir, 'm1'));
      const e = EmbeddedEngine.load(path.join(dir, 'm1'), { threads: 1 });
      try {
        const problems = generateProblems(worldConfig({ seed: 20250305 }), 'test', 4);
        const opts = {
          width: 3,
          seed: 5,
          max_tokens: 64,
          search: { max_step_tokens: 16, judge_max_tokens: 8, max_steps: 4, max_rollbacks: 1 },
          context_tokens: 512,
        };
        const a = await ttsReport(e, t, problems, opts);
        const b = await ttsReport(e, t, problems, opts);
        const strip = (r: TtsReport) => JSON.stringify(r, (k, v) => (k === 'wall_s' ? 0 : v));
        assert.equal(strip(a), strip(b), 'same seed, same report');
        assert.equal(a.n, 4);
        assert.equal(a.questions.length, 4);
        for (const m of [a.greedy, a.majority, a.best_of_w]) {
          assert.ok(m.accuracy >= 0 && m.accuracy <= 1 && m.correct === m.accuracy * 4);
          assert.ok(m.prompt_tokens > 0 && m.generated_tokens > 0 && m.wall_s >= 0);
        }
        assert.equal(a.majority.prompt_tokens, a.greedy.prompt_tokens, 'one call, the same prompts');
        assert.ok(a.majority.generated_tokens > a.greedy.generated_tokens);
        assert.equal(a.greedy.accuracy, (await solveReport(e, problems, t, 64)).accuracy);
        const recs = await runSearch(
          e,
          t,
          problems.map((p) => ({ index: p.index, problem: p })),
          { ...DEFAULT_SEARCH, ...opts.search, candidates: 3, context_tokens: 512 },
          { seed: deriveSeed(5, 'tts-search', 'test'), iteration: 0 },
        );
        assert.deepEqual(
          a.questions.map((q) => q.ok.best_of_w),
          recs.map((r, i) => checkAnswer(problems[i]!, renderSteps(r.steps)).ok),
        );
        assert.deepEqual(
          a.questions.map((q) => q.best_of_w_steps),
          recs.map((r) => r.steps.length),
        );
        assert.equal(
          Object.values(a.best_of_w.outcomes).reduce((x, y) => x + y, 0),
          4,
        );
        // a different seed draws different samples
        const c = await ttsReport(e, t, problems, { ...opts, seed: 6 });
        assert.notEqual(
          c.majority.generated_tokens + c.best_of_w.generated_tokens,
          a.majority.generated_tokens + a.best_of_w.generated_tokens,
        );
      } finally {
        await e.close();
      }
      // the CLI: the table, then one JSON line last
      const out: string[] = [];
      const log = console.log,
        err = process.stderr.write.bind(process.stderr);
      console.log = (...x: unknown[]) => {
        out.push(x.join(' '));
      };
      process.stderr.write = (() => true) as typeof process.stderr.write;
      let rc: number;
      try {
        rc = await main([
          'tts',
          '--model',
          path.join(dir, 'm1'),
          '--problems',
          '1',
          '--width',
          '2',
          '--max-tokens',
          '32',
          '--threads',
          '1',
          '--json',
        ]);
      } finally {
        console.log = log;
        process.stderr.write = err;
      }
      assert.equal(rc, 0);
      const lines = out.join('\n').trimEnd().split('\n');
      assert.match(lines[0]!, /^Test-time scaling on 1 test questions/);
      assert.ok(lines.some((l) => l.startsWith('| step-wise best-of-2 (own judge) |')));
      const j = JSON.parse(lines[lines.length - 1]!) as TtsReport;
      assert.deepEqual([j.n, j.width, j.k, j.split], [1, 2, 2, 'test']);
      assert.deepEqual(Object.keys(j.questions[0]!.ok), ['greedy', 'majority', 'best_of_w']);
      const errs: string[] = [],
        cerr = console.error;
      console.error = (...x: unknown[]) => {
        errs.push(x.join(' '));
      };
      try {
        assert.equal(await main(['tts', '--model', path.join(dir, 'm1'), '--split', 'train']), 2);
        assert.equal(await main(['tts', '--model', path.join(dir, 'm1'), '--width', '1']), 2);
      } finally {
        console.error = cerr;
      }
      assert.match(
        errs.join('\n'),
        /--split must be test or harder, got 'train'[\s\S]*--width must be an integer >= 2, got '1'/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('distillation share: (later greedy − first greedy) / (first best-of-w − first greedy), by hand', () => {
  const q = (index: number) => ({ index, expected: index }) as TtsReport['questions'][number];
  const report = (greedy: number, bestOfW: number, indices = [1, 2, 3, 4]): TtsReport =>
    ({
      n: indices.length,
      split: 'test',
      greedy: { accuracy: greedy },
      best_of_w: { accuracy: bestOfW },
      questions: indices.map(q),
    }) as unknown as TtsReport;
  // M1 greedy 0.5, search 0.75; M4 greedy 0.625: holds half of the gain
  assert.equal(distillShare(report(0.5, 0.75), report(0.625, 0.9)), 0.5);
  assert.equal(distillShare(report(0.5, 0.75), report(0.4, 0.9)), -0.4);
  assert.equal(distillShare(report(0.5, 0.5), report(0.75, 0.9)), null, 'no search gain, no share');
  assert.throws(() => distillShare(report(0.5, 0.75), report(0.5, 0.75, [1, 2, 3, 5])), /not of the same questions/);
});
