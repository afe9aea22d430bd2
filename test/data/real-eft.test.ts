// EFT by verified step search on real data (src/data/real-eft.ts), with scripted engines: the
// Math-Shepherd rollout estimate and the PRM read-out by hand, the both-order annotator filter (an
// annotator that always says A is dropped in one order; one that agrees with the verifier is kept in
// both, giving one example per order), and a run that resumes without repeating a finished problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Completion, Engine, GenerateOptions } from '../../src/engine/types.js';
import { loadTemplate } from '../../src/data/templates.js';
import {
  DEFAULT_REAL_EFT,
  buildRealEft,
  eftCounts,
  pairExamples,
  prmScore,
  rolloutScore,
} from '../../src/data/real-eft.js';

const done = (text: string): Completion => ({ text, tokens: [1], logprobs: [0], finish_reason: 'eos' });

function scripted(name: string, f: (prompt: string, o: GenerateOptions) => string[]): Engine & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    name,
    prompts,
    tokenize: (s) => [...s].map((c) => c.charCodeAt(0)),
    detokenize: (ids) => String.fromCharCode(...ids),
    logprob: async () => [],
    close: async () => {},
    generate: async (ps: string[], o: GenerateOptions) =>
      ps.map((p) => {
        prompts.push(p);
        return f(p, o).map(done);
      }),
  };
}

test('rollout and PRM scores by hand', () => {
  assert.equal(rolloutScore(['so \\boxed{4}', 'so \\boxed{5}', 'no answer', 'it is \\boxed{4.0}'], '4'), 0.5);
  assert.equal(rolloutScore([], '4'), 0);
  assert.ok(
    Math.abs(
      prmScore([
        ['+', Math.log(0.6)],
        ['-', Math.log(0.2)],
        ['x', Math.log(0.2)],
      ]) - 0.75,
    ) < 1e-12,
  );
  assert.equal(prmScore([['x', 0]]), 0);
});

// policy: layer 1 offers a right and a wrong final step; rollouts from the right one always reach 4
// (a step is sampled with the step rule's stop, `\nStep 2:`, from a prompt that ends where the step's own
// label starts: the model writes `Step 1:`)
const policy = scripted('policy', (p, o) => {
  if ((o.stop ?? []).includes('\nStep 2:')) {
    assert.ok(p.endsWith('\n'), 'the step prompt ends at a line start, not inside a `Step n: ` label');
    return Array.from({ length: o.n ?? 1 }, (_, i) =>
      i % 2 ? 'Step 1: So 2+2=5. \\boxed{5}' : 'Step 1: So 2+2=4. \\boxed{4}',
    );
  }
  const right = p.includes('2+2=4');
  return Array.from({ length: o.n ?? 1 }, (_, i) => (right || i === 0 ? '\\boxed{4}' : '\\boxed{5}'));
});

test('pairs: best vs worst by rollouts, kept only when the annotator agrees in both orders', async () => {
  const t = loadTemplate('paper');
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-reft-'));
  try {
    const problems = [
      { id: 'p1', question: 'What is 2+2?', gold: '4' },
      { id: 'p2', question: 'And 2+2 again?', gold: '4' },
    ];
    const alwaysA = scripted('a', () => ['Both look fine. [[A]]']);
    const o = { ...DEFAULT_REAL_EFT, width: 4, rollouts: 4 };
    const r1 = await buildRealEft(
      problems,
      t,
      { policy, verifier: policy, annotator: alwaysA },
      o,
      path.join(dir, 'a.jsonl'),
    );
    const c1 = eftCounts(r1);
    assert.equal(c1.pairs_found, 2);
    assert.equal(c1.kept, 0);
    assert.equal(c1.dropped.disagrees_ba, 2);
    assert.equal(r1[0]!.pairs[0]!.best_score, 1);
    assert.equal(r1[0]!.pairs[0]!.worst_score, 0.25);
    // an annotator that prefers the step with 2+2=4 agrees with the verifier in both orders
    const fair = scripted('fair', (p) => {
      const a = p.indexOf("Assistant A's Next Reasoning Step]"),
        b = p.indexOf("Assistant B's Next Reasoning Step]");
      const aText = p.slice(a, b);
      return [aText.includes('2+2=4') ? 'A adds right. [[A]]' : 'B adds right. [[B]]'];
    });
    const file = path.join(dir, 'b.jsonl');
    const r2 = await buildRealEft(problems.slice(0, 1), t, { policy, verifier: policy, annotator: fair }, o, file);
    assert.equal(eftCounts(r2).kept, 1);
    const ex = pairExamples(t, r2[0]!.pairs[0]!);
    assert.deepEqual(
      ex.map((e) => [e.order, e.label]),
      [
        ['AB', 'A'],
        ['BA', 'B'],
      ],
    );
    assert.ok(ex[0]!.completion.endsWith('[[A]]') && ex[1]!.completion.endsWith('[[B]]'));
    // resume: a torn line is dropped, the finished problem is not searched again, the next one is
    writeFileSync(file, readFileSync(file, 'utf8') + '{"problem_id": "p2", "lay');
    const asked = fair.prompts.length;
    const r3 = await buildRealEft(problems, t, { policy, verifier: policy, annotator: fair }, o, file);
    assert.deepEqual(
      r3.map((r) => r.problem_id),
      ['p1', 'p2'],
    );
    assert.equal(fair.prompts.length - asked, 2, 'only p2 was annotated (two orders)');
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2);
    assert.ok(eftCounts(r3).calls_per_kept_pair! > 0);
    // problems side by side: the same records, in input order, whatever order they finished in
    const side = await buildRealEft(
      [...problems].reverse(),
      t,
      { policy, verifier: policy, annotator: fair },
      o,
      path.join(dir, 'c.jsonl'),
      undefined,
      2,
    );
    assert.deepEqual(JSON.parse(JSON.stringify(side)), JSON.parse(JSON.stringify([...r3].reverse())));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
