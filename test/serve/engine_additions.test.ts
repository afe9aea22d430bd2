// Oracles for what the server added to the embedded engine: generateStream gives generate's results bit
// for bit (token-id prompts included) and shows every sample's final state; top_logprobs agree with the
// sampled token's log-prob and are sorted; tokenLogprobs' per-position terms add up, in order, to exactly
// what logprob() returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { SampleState } from '../../src/engine/generate.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';

const CFG = { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 64 };

test('generateStream equals generate bit for bit; its steps end in each completion; ids prompts equal text prompts', async () => {
  const e = EmbeddedEngine.create(CFG, Tokenizer.ascii(), 3);
  try {
    const prompts = ['Q: 1+1=', 'Q: 2+2=', 'Q: 1+1=', 'x'];
    const opts = { n: 3, temperature: 0.9, top_p: 0.95, max_tokens: 12, stop: ['a', 'zz'], seeds: [5, 6, 5, 7] };
    const want = await e.generate(prompts, opts);
    const last = new Map<string, SampleState>();
    const got = await e.generateStream(prompts.map((p, i) => (i % 2 ? e.tokenize(p) : p)), opts, (states) => {
      for (const s of states) last.set(`${s.prompt}/${s.index}`, { ...s, tokens: [...s.tokens] });
    }, 0);
    assert.deepEqual(got, want);
    assert.deepEqual(want[0], want[2], 'same prompt and seed, same completions');
    for (let i = 0; i < prompts.length; i++) {
      for (let j = 0; j < 3; j++) {
        const s = last.get(`${i}/${j}`)!;
        assert.equal(s.text, want[i]![j]!.text);
        assert.deepEqual(s.tokens, want[i]![j]!.tokens);
        assert.equal(s.finish, want[i]![j]!.finish_reason);
      }
    }
    await assert.rejects(e.generateStream([[999]], { max_tokens: 2 }), /token id 999, outside the vocabulary/);
  } finally {
    await e.close();
  }
});

test('top_logprobs: sorted, k long, holding the sampled token when it is likely enough; results otherwise unchanged', async () => {
  const e = EmbeddedEngine.create(CFG, Tokenizer.ascii(), 4);
  try {
    const base = { n: 2, temperature: 1, max_tokens: 10, seed: 9 };
    const plain = await e.generate(['Hello'], base);
    const withTop = await e.generate(['Hello'], { ...base, top_logprobs: 5 });
    for (let j = 0; j < 2; j++) {
      const c = withTop[0]![j]!;
      assert.deepEqual({ ...c, top_logprobs: undefined }, { ...plain[0]![j]!, top_logprobs: undefined });
      assert.equal(c.top_logprobs!.length, c.tokens.length);
      c.top_logprobs!.forEach((top, t) => {
        assert.equal(top.length, 5);
        for (let r = 1; r < 5; r++) assert.ok(top[r - 1]![1] >= top[r]![1], 'likeliest first');
        const hit = top.find(([id]) => id === c.tokens[t]);
        if (hit) assert.equal(hit[1], c.logprobs[t]);
        else assert.ok(c.logprobs[t]! <= top[4]![1]);
      });
    }
    const greedy = await e.generate(['Hello'], { temperature: 0, max_tokens: 6, top_logprobs: 1 });
    greedy[0]![0]!.top_logprobs!.forEach((top, t) => assert.equal(top[0]![0], greedy[0]![0]!.tokens[t]));
  } finally {
    await e.close();
  }
});

test('tokenLogprobs: per-position terms sum, in order, to logprob() exactly; ranks and alternatives agree', async () => {
  const e = EmbeddedEngine.create(CFG, Tokenizer.ascii(), 5);
  const tok = Tokenizer.ascii();
  try {
    const reqs = [
      { prompt: 'The answer is', completion: ' 42.', eos: true },
      { prompt: 'a', completion: 'bcdefg' },
      { prompt: 'x'.repeat(40), completion: 'y'.repeat(24), eos: true }, // 65 tokens: one more than the context
    ];
    const want = await e.logprob(reqs);
    const seqs = reqs.map((r) => [...tok.encode(r.prompt), ...tok.encode(r.completion), ...(r.eos ? [tok.eos] : [])]);
    const lps = await e.tokenLogprobs(seqs, 3);
    reqs.forEach((r, i) => {
      assert.equal(lps[i]!.length, seqs[i]!.length - 1);
      const start = tok.encode(r.prompt).length;
      let sum = 0;
      for (let t = start; t < seqs[i]!.length; t++) sum += lps[i]![t - 1]!.logprob;
      assert.equal(sum, want[i], `request ${i}: summed ${sum}, logprob() ${want[i]}`);
      for (const p of lps[i]!) {
        assert.equal(p.top.length, 3);
        const better = p.top.filter(([, lp]) => lp > p.logprob).length;
        if (p.rank <= 3) assert.equal(better, p.rank - 1);
        else assert.equal(better, 3);
      }
    });
    // batching many sequences (more rows than one call takes) changes nothing
    const small = EmbeddedEngine.create(CFG, Tokenizer.ascii(), 5, { max_rows: 7 });
    try {
      assert.deepEqual(await small.tokenLogprobs(seqs, 3), lps);
    } finally {
      await small.close();
    }
    await assert.rejects(e.tokenLogprobs([new Array(66).fill(5)], 0), /context is 64/);
  } finally {
    await e.close();
  }
});
