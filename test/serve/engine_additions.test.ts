// Oracles for what the server added to the embedded engine: serveContinuous gives every request the results
// generate() gives it alone, bit for bit, whenever it joins (token-id prompts included), and shows every
// sample's final state; bad and cancelled requests fail alone; top_logprobs agree with the
// sampled token's log-prob and are sorted; tokenLogprobs' per-position terms add up, in order, to exactly
// what logprob() returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedEngine, type ContinuousWork } from '../../src/engine/embedded.js';
import type { SampleState } from '../../src/engine/generate.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import type { Completion, GenerateOptions } from '../../src/engine/types.js';

const CFG = { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 64 };

test(
  'serveContinuous: requests joining mid-flight, each with its own parameters, equal generate() alone, bit ' +
    'for bit',
  async () => {
    const e = EmbeddedEngine.create(CFG, Tokenizer.ascii(), 3);
    try {
      const jobs: Array<{ prompts: Array<string | number[]>; opts: GenerateOptions }> = [
        { prompts: ['Hello'], opts: { n: 4, temperature: 1.2, max_tokens: 30, seeds: [1], ignore_eos: true } },
        {
          prompts: ['Q: 1+1=', 'Q: 2+2=', 'Q: 1+1='],
          opts: { n: 3, temperature: 0.9, top_p: 0.95, max_tokens: 12, stop: ['a', 'zz'], seeds: [5, 6, 5] },
        },
        {
          prompts: [e.tokenize('Q: 1+1='), 'x'],
          opts: {
            n: 2,
            temperature: 0,
            max_tokens: 20,
            seeds: [5, 7],
            top_logprobs: 2,
            stop: ['e'],
            include_stop: true,
          },
        },
      ];
      const at = [1, 3, 7]; // admitted before the 1st, 3rd and 7th model step
      const results: Completion[][][] = [];
      const last = new Map<string, SampleState>();
      const failures: string[] = [];
      let scored: unknown;
      let pulls = 0;
      await e.serveContinuous(() => {
        pulls++;
        const out: ContinuousWork[] = [];
        jobs.forEach((j, k) => {
          if (at[k] !== pulls) return;
          out.push({
            kind: 'generate',
            prompts: j.prompts,
            opts: j.opts,
            done: (r) => {
              results[k] = r;
            },
            fail: (err) => failures.push(String(err)),
            onSample: (st) => last.set(`${k}/${st.prompt}/${st.index}`, { ...st, tokens: [...st.tokens] }),
          });
        });
        // a bad request, a request cancelled midway and a scoring request, among the others
        if (pulls === 2)
          out.push({
            kind: 'generate',
            prompts: [[999]],
            opts: { max_tokens: 3 },
            done: () => failures.push('bad done'),
            fail: (err) => failures.push(String(err)),
          });
        if (pulls === 4)
          out.push({
            kind: 'generate',
            prompts: ['gone'],
            opts: { max_tokens: 50, ignore_eos: true },
            cancelled: () => pulls >= 6,
            done: () => failures.push('cancelled done'),
            fail: (err) => failures.push(String(err)),
          });
        if (pulls === 5)
          out.push({
            kind: 'score',
            seqs: [e.tokenize('abc')],
            top: 1,
            done: (r) => {
              scored = r;
            },
            fail: (err) => failures.push(String(err)),
          });
        return out;
      }, 0);
      assert.ok(pulls >= 30, `${pulls} pulls`);
      assert.equal(failures.length, 2);
      assert.match(failures[0]!, /token id 999, outside the vocabulary/);
      assert.match(failures[1]!, /cancelled/);
      assert.deepEqual(scored, await e.tokenLogprobs([e.tokenize('abc')], 1));
      for (const [k, j] of jobs.entries()) {
        const want = await e.generate(
          j.prompts.map((p) => (typeof p === 'string' ? p : e.detokenize(p))),
          j.opts,
        );
        assert.deepEqual(results[k], want, `job ${k}`);
        want.forEach((cs, i) =>
          cs.forEach((c, n) => {
            const st = last.get(`${k}/${i}/${n}`)!;
            assert.deepEqual([st.text, st.tokens, st.finish], [c.text, c.tokens, c.finish_reason]);
          }),
        );
      }
      assert.deepEqual(results[1]![0], results[1]![2], 'same prompt and seed, same completions');
    } finally {
      await e.close();
    }
  },
);

test('serveContinuous: requests taken together are prefilled together, sharing their common prefix', async () => {
  const e = EmbeddedEngine.create(CFG, Tokenizer.ascii(), 8);
  try {
    const head = 'Judge the two steps below. ';
    const works = [
      { prompts: [head + 'A1'], opts: { n: 2, temperature: 1, max_tokens: 9, seeds: [3] } },
      {
        prompts: [head + 'B22', head + 'A1'],
        opts: { n: 1, temperature: 0.5, max_tokens: 5, seeds: [4, 3], stop: ['x'] },
      },
    ];
    const got: Completion[][][] = [];
    const before = e.stats.prefill_tokens;
    let first = true;
    await e.serveContinuous(() => {
      if (!first) return [];
      first = false;
      return works.map((w, k): ContinuousWork => ({
        kind: 'generate',
        ...w,
        done: (r) => {
          got[k] = r;
        },
        fail: (err) => {
          throw err;
        },
      }));
    }, 0);
    // the tree: the shared head once, then 'A1' (both requests' copies) and 'B22'
    assert.equal(e.stats.prefill_tokens - before, head.length + 2 + 3);
    for (const [k, w] of works.entries()) assert.deepEqual(got[k], await e.generate(w.prompts, w.opts));
  } finally {
    await e.close();
  }
});

test(
  'top_logprobs: sorted, k long, holding the sampled token when it is likely enough; results otherwise ' + 'unchanged',
  async () => {
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
  },
);

test(
  'tokenLogprobs: per-position terms sum, in order, to logprob() exactly; ranks and alternatives ' + 'agree',
  async () => {
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
  },
);
