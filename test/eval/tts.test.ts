// Test-time scaling (src/eval/tts.ts): the majority vote's tie rule by hand, the token counter against
// hand-counted completions, and on a tiny model: the report's shape, its determinism, and that best-of-w's
// accuracy is exactly that of the paths the training search would choose with the same settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Completion, Engine, GenerateOptions } from '../../src/engine/types.js';
import { loadTemplate } from '../../src/data/templates.js';
import { CountingEngine, majorityAnswer, ttsReport, ttsTable } from '../../src/eval/tts.js';
import { DEFAULT_SEARCH, runSearch } from '../../src/search/search.js';
import { deriveSeed } from '../../src/engine/rng.js';
import { checkAnswer, generateProblems, renderSteps, worldConfig } from '../../src/world/index.js';
import { tinyM1 } from '../run/tiny.js';

test('majority vote: most frequent boxed answer, ties to the first seen, no answer never wins', () => {
  assert.equal(majorityAnswer(['\\boxed{3}', '\\boxed{4}', '\\boxed{4}', '\\boxed{3}', '\\boxed{5}']), '3');
  assert.equal(majorityAnswer(['x', 'y', '\\boxed{7}']), '7');
  assert.equal(majorityAnswer(['\\boxed{1}', '\\boxed{2}', '\\boxed{2}']), '2');
  assert.equal(majorityAnswer(['none', 'either']), null);
});

test('the counting engine charges prompt tokens per completion and every generated token', async () => {
  const inner: Engine = {
    name: 'scripted', tokenize: (s) => [...s].map((c) => c.charCodeAt(0)), detokenize: () => '', logprob: async () => [], close: async () => {},
    generate: async (prompts: string[], o: GenerateOptions) => prompts.map(() => Array.from({ length: o.n ?? 1 }, (): Completion => ({ text: 'ab', tokens: [97, 98], logprobs: [0, 0], finish_reason: 'eos' }))),
  };
  const e = new CountingEngine(inner);
  await e.generate(['xyz', 'hello'], { n: 3, max_tokens: 5 });
  assert.equal(e.prompt_tokens, 3 * 3 + 5 * 3);
  assert.equal(e.generated_tokens, 2 * 6);
});

test('on a tiny model: shape, determinism, and best-of-w is the training search run to the end', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-tts-'));
  try {
    await tinyM1(path.join(dir, 'm1'));
    const e = EmbeddedEngine.load(path.join(dir, 'm1'), { threads: 1 });
    try {
      const t = loadTemplate('compact');
      const problems = generateProblems(worldConfig({ seed: 20250305 }), 'test', 4);
      const opts = { width: 3, seed: 5, max_tokens: 64, search: { max_step_tokens: 16, judge_max_tokens: 8, max_steps: 4, max_rollbacks: 1 }, context_tokens: 512 };
      const a = await ttsReport(e, t, problems, opts);
      const b = await ttsReport(e, t, problems, opts);
      const strip = (r: typeof a) => JSON.stringify(r, (k, v) => (k === 'wall_s' ? 0 : v));
      assert.equal(strip(a), strip(b), 'same seed, same report');
      assert.equal(a.n, 4);
      for (const m of [a.greedy, a.majority, a.best_of_w]) {
        assert.ok(m.accuracy >= 0 && m.accuracy <= 1);
        assert.ok(m.prompt_tokens > 0 && m.generated_tokens > 0);
      }
      assert.ok(a.majority.prompt_tokens === 3 * a.greedy.prompt_tokens, 'k = w samples of each prompt');
      const recs = await runSearch(e, t, problems.map((p) => ({ index: p.index, problem: p })),
        { ...DEFAULT_SEARCH, ...opts.search, candidates: 3, context_tokens: 512 }, { seed: deriveSeed(5, 'tts-search'), iteration: 0 });
      assert.equal(a.best_of_w.accuracy, recs.filter((r, i) => checkAnswer(problems[i]!, renderSteps(r.steps)).ok).length / 4);
      assert.equal(Object.values(a.best_of_w.outcomes).reduce((x, y) => x + y, 0), 4);
      assert.match(ttsTable(a), /step-wise best-of-3 \(own judge\)/);
    } finally {
      await e.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
