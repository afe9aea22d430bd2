// Engine-driven evaluation with a scripted fake Engine: the toolkit's prompt, greedy decoding options,
// output cleaning at stop words, per-problem results, accuracy rounded as numpy does, the average.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine, GenerateOptions, Completion } from '../../src/engine/types.js';
import { evaluate, roundAcc, goldCheck } from '../../src/eval/evaluate.js';
import { loadBenchmark } from '../../src/eval/benchmarks.js';
import { buildPrompt } from '../../src/eval/prompts.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';

/** Answers correctly on every problem whose index is even, wrongly otherwise; records what it was asked. */
class ScriptedEngine implements Engine {
  readonly name = 'scripted';
  calls: { prompts: string[]; opts: GenerateOptions }[] = [];
  constructor(private golds: Map<string, string>) {}
  tokenize(t: string) {
    return [...t].map((c) => c.charCodeAt(0));
  }
  detokenize(ids: number[]) {
    return String.fromCharCode(...ids);
  }
  async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    this.calls.push({ prompts, opts });
    return prompts.map((p) => {
      const [gold, i] = this.golds.get(p)!.split('\u0000');
      const ans = Number(i) % 2 === 0 ? gold : 'wrong';
      return [
        {
          text: `  Step 1: think.\nThe result is $\\boxed{${ans}}$.<|im_end|> trailing junk \\boxed{9999}`,
          tokens: [],
          logprobs: [],
          finish_reason: 'stop' as const,
        },
      ];
    });
  }
  async logprob(): Promise<number[]> {
    return [];
  }
  async close(): Promise<void> {}
}

test('evaluate scores a scripted engine as the toolkit would', async () => {
  const golds = new Map<string, string>();
  for (const b of ['math500', 'amc23']) {
    for (const p of loadBenchmark(b).slice(0, 5))
      golds.set(
        buildPrompt('qwen25-math-cot', p.question),
        `${p.bench === 'amc23' ? String(p.raw.answer) : p.gold}\u0000${p.idx}`,
      );
  }
  const engine = new ScriptedEngine(golds);
  const streamed: string[] = [];
  const { results, summary, average } = await evaluate(engine, {
    benches: ['math500', 'amc23'],
    limit: 5,
    batchSize: 3,
    onResult: (r) => streamed.push(`${r.bench}#${r.idx}`),
  });
  assert.equal(results.length, 10);
  assert.equal(streamed.length, 10);
  assert.deepEqual(
    results.map((r) => r.correct),
    [true, false, true, false, true, true, false, true, false, true],
  );
  assert.ok(
    results.every((r) => !r.output.includes('9999')),
    'output cut at the first stop word',
  );
  assert.deepEqual(
    summary.map((s) => [s.bench, s.n, s.correct, s.acc]),
    [
      ['math500', 5, 3, 60],
      ['amc23', 5, 3, 60],
    ],
  );
  assert.equal(average, 60);
  const o = engine.calls[0].opts;
  assert.deepEqual([o.n, o.temperature, o.top_p, o.max_tokens, o.seed], [1, 0, 1, 2048, 0]);
  assert.deepEqual(o.stop, ['</s>', '<|im_end|>', '<|endoftext|>']);
  assert.equal(engine.calls[0].prompts.length, 3);
  assert.ok(
    engine.calls[0].prompts[0].startsWith(
      '<|im_start|>system\nPlease reason step by step, and put your final answer within ' +
        '\\boxed{}.<|im_end|>\n<|im_start|>user\n',
    ),
  );
  assert.ok(engine.calls[0].prompts[0].endsWith('<|im_end|>\n<|im_start|>assistant\n'));
});

test('accuracy rounds like numpy.round(mean * 100, 1)', () => {
  assert.equal(roundAcc(1, 3), 33.3);
  assert.equal(roundAcc(2, 3), 66.7);
  assert.equal(roundAcc(1, 8), 12.5); // exact: 12.5
  assert.equal(roundAcc(1, 16), 6.2); // 6.25: half to even
  assert.equal(roundAcc(3, 16), 18.8); // 18.75: half to even
  assert.equal(roundAcc(0, 0), 0);
});

test('the step prompt carries the question and asks for a boxed answer', () => {
  const p = buildPrompt('step', 'What is 1+1?');
  assert.match(p, /Step n: /);
  assert.ok(p.endsWith('Problem: What is 1+1?'));
  assert.throws(() => buildPrompt('nope', 'q'), /unknown prompt 'nope'/);
});

test('gold check: every gold grades equal to itself on the small sets', async () => {
  const r = await goldCheck(['aime24', 'amc23']);
  assert.deepEqual(
    r.map((x) => [x.bench, x.gold.correct, x.gold.n]),
    [
      ['aime24', 30, 30],
      ['amc23', 40, 40],
    ],
  );
  // AIME reference solutions: 10 AoPS \textbf{(N)} boxes and 1 without a box miss (docs/grading.md).
  assert.equal(r[0].reference?.misses.length, 11);
});

test('a problem the engine cannot encode is recorded as an error and counted wrong, the rest still run', async () => {
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 16, n_head: 2, n_ctx: 2048 }, Tokenizer.ascii(), 1);
  try {
    // GSM8K's first 40 problems include one with a curly apostrophe (U+2019)
    const { results, summary } = await evaluate(e, { benches: ['gsm8k'], limit: 40, maxTokens: 2 });
    const errs = results.filter((r) => r.error);
    assert.ok(errs.length >= 1, 'at least one unencodable problem in the first 40');
    assert.match(errs[0]!.error!, /not in the vocabulary/);
    assert.equal(summary[0]!.errors, errs.length);
    assert.equal(summary[0]!.n, 40);
    assert.deepEqual(
      results.map((r) => r.idx),
      [...results.map((r) => r.idx)].sort((a, b) => a - b),
    );
  } finally {
    await e.close();
  }
});
