// The loop on questions from a file (config `questions`): configs/gsm8k-tiny-cpu.yaml run end to end on
// CPU for both methods from a tiny model (test/run/tiny.ts) that solves nothing, so what is checked is the
// plumbing: each iteration's questions are drawn from the GSM8K train file, disjoint across iterations;
// samples, graded answers and pairs are recorded; accuracy is measured with the grader against the golds;
// every model has a Table-1 row in summary.json, report.md and report.html. Also the measures' own oracles
// (a right and a wrong solution graded, the search's prefixes replayed) and the refusal of a `line` template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadQuestions } from '../../src/data/questions.js';
import { GradePool } from '../../src/eval/grade.js';
import { loadConfig, type RunConfig } from '../../src/run/config.js';
import { runLoop } from '../../src/run/loop.js';
import { auditStepPairs, gradeSearches, roundPrefixes } from '../../src/run/outcomes.js';
import { renderReport } from '../../src/run/report.js';
import type { PairRecord } from '../../src/search/pairs.js';
import type { RoundRecord, SearchRecord } from '../../src/search/search.js';
import { tinyRealM1 } from './tiny.js';

const CONFIG = fileURLToPath(new URL('../../../configs/gsm8k-tiny-cpu.yaml', import.meta.url));
const quiet = { log: () => {}, progress: false };
const read = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;
const rows = <T>(f: string): T[] =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

test('a run on GSM8K train questions, PSRLM and SRLM, with Table-1 rows', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-realq-'));
  try {
    const base = loadConfig(CONFIG);
    assert.ok(
      base.questions && path.isAbsolute(base.questions.file) && existsSync(base.questions.file),
      'questions.file resolved against the config',
    );
    const pool = await loadQuestions(base.questions);
    const byIndex = new Map(pool.questions.map((q) => [q.index, q]));
    await tinyRealM1(
      path.join(dir, 'm1'),
      pool.questions.filter((q) => q.question.length < 250 && !/[^\x20-\x7e]/.test(q.question)).slice(0, 6),
    );
    const runs: Record<string, string> = {};
    for (const method of ['psrlm', 'srlm'] as const) {
      const cfg: RunConfig = { ...base, method, model: path.join(dir, 'm1') };
      const out = (runs[method] = path.join(dir, method));
      await runLoop(cfg, out, quiet);

      const man = read<{ questions: { usable: number; contaminated: number; rows: number } }>(
        path.join(out, 'manifest.json'),
      );
      assert.equal(man.questions.rows, 7473);
      assert.equal(man.questions.usable, pool.report.usable);
      const drawn = [1, 2].map((t) =>
        rows<{ index: number; problem: string }>(path.join(out, `iter-${t}`, 'samples.jsonl')),
      );
      drawn.forEach((recs, k) => {
        assert.equal(recs.length, base.problems[k], `iteration ${k + 1}: one record per drawn question`);
        for (const r of recs)
          assert.equal(r.problem, byIndex.get(r.index)?.question, `record ${r.index} is that row's question`);
      });
      const first = new Set(drawn[0]!.map((r) => r.index));
      assert.ok(
        drawn[1]!.every((r) => !first.has(r.index)),
        `${method}: the iterations' questions are disjoint`,
      );

      for (const t of [1, 2]) {
        const d = path.join(out, `iter-${t}`);
        const pj = read<{ stats: { kept: number }; audit: { pairs: number } }>(path.join(d, 'pairs.json'));
        assert.equal(pj.audit.pairs, rows(path.join(d, 'pairs.jsonl')).length, 'the audit covers every pair');
        assert.ok(
          !existsSync(path.join(d, 'eval.json')) || !('test' in read<object>(path.join(d, 'eval.json'))),
          'no world evaluation',
        );
        if (method === 'psrlm') {
          const s = read<{
            measure: null;
            graded: { questions: number; right: number; accuracy: number; label: string };
          }>(path.join(d, 'search.json'));
          assert.equal(s.measure, null, 'no step verifier on real questions');
          assert.equal(s.graded.questions, base.problems[t - 1]);
          assert.match(s.graded.label, /^outcome-graded, \d+ questions$/);
          const g = rows<{ index: number; right: boolean; pred: string }>(path.join(d, 'graded.jsonl'));
          assert.equal(g.length, s.graded.questions);
          assert.equal(s.graded.accuracy, g.filter((x) => x.right).length / g.length);
          const h = read<{ label: string; report: { rounds: number } }>(path.join(d, 'health.json'));
          assert.match(h.label, /outcome-graded, \d+ rounds rolled out/);
          assert.ok(h.report.rounds <= 3);
        } else {
          const s = read<{ graded: string; solutions: number; measure: { solution_ok: number } }>(
            path.join(d, 'sample.json'),
          );
          assert.match(s.graded, /^outcome-graded, \d+ questions$/);
          assert.ok(s.solutions > 0 && s.measure.solution_ok >= 0);
        }
      }
      // the tiny judge answers [[A]], so the search ranks candidates; the SRLM scorer's pairs depend on its
      // sampled scores differing, which a model this small does not promise
      const made = [1, 2].map((t) => rows(path.join(out, `iter-${t}`, 'pairs.jsonl')).length);
      if (method === 'psrlm') assert.ok(made[0]! + made[1]! > 0, 'the searches made pairs');

      const sum = read<{
        models: Array<{ model: string; test_accuracy: number | null }>;
        table1: Array<Record<string, unknown>>;
      }>(path.join(out, 'summary.json'));
      assert.deepEqual(
        sum.table1.map((r) => r.model),
        ['M1', 'M2', 'M3'],
      );
      for (const r of sum.table1) {
        assert.equal(r.method, method === 'psrlm' ? 'PSRLM' : 'SRLM');
        assert.equal(typeof r.gsm8k, 'number');
        assert.equal(typeof r.math500, 'number');
        assert.equal(r.avg, Math.round((((r.gsm8k as number) + (r.math500 as number)) / 2) * 10) / 10);
      }
      assert.equal(sum.models[0]!.test_accuracy, null, 'no world accuracy in a run on real questions');
      const ev = read<{ table1: { benchmarks: { gsm8k: { n: number } } } }>(path.join(out, 'baseline', 'eval.json'));
      assert.equal(ev.table1.benchmarks.gsm8k.n, 3, 'limit 3');
      const md = readFileSync(path.join(out, 'report.md'), 'utf8');
      assert.match(
        md,
        /## Table 1: greedy accuracy on the benchmarks\n\n\| model \| method \| gsm8k \| math500 \| avg \|/,
      );
      assert.match(md, /graded against the gold answers/);
    }
    const html = renderReport(runs.psrlm!, { baseline: runs.srlm! });
    const t1 = html.slice(html.indexOf('<h2>Table 1'), html.indexOf('</table>', html.indexOf('<h2>Table 1')));
    assert.equal((t1.match(/<td>PSRLM<\/td>/g) ?? []).length, 3, 'PSRLM rows');
    assert.equal((t1.match(/<td>SRLM<\/td>/g) ?? []).length, 3, 'SRLM rows beside them');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file questions with a line-step template are refused', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-realq-'));
  try {
    const cfg: RunConfig = {
      ...loadConfig(CONFIG),
      template: 'compact',
      model: fileURLToPath(new URL('../../../assets/models/m1', import.meta.url)),
    };
    await assert.rejects(
      runLoop(cfg, path.join(dir, 'out'), quiet),
      /template 'compact'.*steps: line.*"steps": "marked"/s,
    );
    assert.ok(!existsSync(path.join(dir, 'out')), 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const round = (over: Partial<RoundRecord>): RoundRecord => ({
  step: 1,
  attempt: 0,
  candidates: [],
  finish: [],
  rep: [],
  judgments: [],
  wins: [],
  best: null,
  worst: null,
  tied: false,
  action: 'accept',
  ...over,
});

test('searched solutions are graded against the gold; prefixes replay the search; pairs audited', async () => {
  const rec = (index: number, steps: string[]): SearchRecord => ({
    index,
    problem: 'q',
    outcome: 'final',
    steps,
    pairs: [],
    rollbacks: 0,
    rounds: [],
    judge_prompts: 0,
    judge_prompts_saved: 0,
  });
  const pool = new GradePool({});
  const g = await gradeSearches(
    pool,
    'gsm8k',
    [rec(0, ['48/2 = 24', '48+24 = \\boxed{72}']), rec(1, ['So \\boxed{71}'])],
    new Map([
      [0, '72'],
      [1, '72'],
    ]),
  ).finally(() => pool.close());
  assert.deepEqual(
    g.rows.map((r) => r.right),
    [true, false],
  );
  assert.equal(g.summary.accuracy, 0.5);

  const s = (x: string, n: number) => `Step ${n}: ${x}\n`;
  const r = rec(0, []);
  r.rounds = [
    round({ step: 1, candidates: [s('a', 1), s('b', 1)], best: 0, worst: 1 }),
    round({ step: 2, candidates: [s('c', 2), s('d', 2)], action: 'rollback' }),
    round({ step: 1, candidates: [s('e', 1), s('f', 1)], best: 1, worst: 0 }),
    round({ step: 2, candidates: [s('g', 2), s('g', 2)], best: 0, action: 'accept_identical' }),
    round({ step: 3, candidates: [s('h', 3)], best: 0 }),
  ];
  assert.deepEqual(roundPrefixes(r), [[], ['a'], [], ['f'], ['f', 'g']]);

  const pair = (chosen: string, rejected: string, index: number): PairRecord => ({
    id: `${index}:1`,
    problem_index: index,
    outcome: 'final',
    prompt: '',
    chosen,
    rejected,
    chosen_final: false,
    rejected_final: false,
    prefix: [],
    step: 1,
    chosen_wins: 1,
    rejected_wins: 0,
  });
  const a = auditStepPairs([pair('A', 'B', 0), pair('C', 'D', 1)], g.rows, [
    { index: 0, step: 1, attempt: 0, best: 0, worst: 1, candidates: ['A', 'B'], right: [true, false] },
  ]);
  assert.deepEqual([a.chosen_graded, a.chosen_right, a.rejected_graded, a.rejected_right], [2, 1, 1, 0]);
});
