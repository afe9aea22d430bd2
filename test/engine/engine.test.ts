// Behavioural oracles for the embedded engine: hand-computed DPO loss, SFT overfitting, greedy decoding
// against argmax of a full recompute, KV-cache log-probs against the training forward, prefix sharing
// against no sharing, checkpoint round trips, and determinism across runs and thread counts. Each runs on
// every kernel path (native and WebAssembly: helpers.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { encodePair, pack } from '../../src/engine/trainer.js';
import type { KernelPath } from '../../src/engine/native.js';
import type { PreferencePair } from '../../src/engine/types.js';
import { eachPath as test } from './helpers.js';

const SMALL = { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 64 };

function trainedAdder(kernels: KernelPath, seed = 1): Promise<EmbeddedEngine> {
  const e = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), seed, { kernels });
  const ex = [];
  for (let a = 0; a < 6; a++) for (let b = 0; b < 5; b++) ex.push({ prompt: `${a}+${b}=`, completion: `${a + b};` });
  return e.trainSFT(ex, { epochs: 100, lr: 1e-2, batch_size: 10, seed }).then(() => e);
}

test('DPO loss equals the hand-computed value on a uniform model, EOS only on final pairs', async (kernels) => {
  const tok = Tokenizer.ascii();
  const e = EmbeddedEngine.create(SMALL, tok, 1, { kernels });
  try {
    // all weights zero: logits are 0, every token has log p = -log V exactly (up to fp32 rounding)
    const f = (e as unknown as { heap: { f32(): Float32Array } }).heap.f32();
    f.fill(0, e.model.params >> 2, (e.model.params >> 2) + e.model.layout.total);
    const V = tok.vocabSize;
    const lp = -Math.log(V);
    const beta = 0.5;
    const pairs: PreferencePair[] = [
      { prompt: 'Q:', chosen: 'abc', rejected: 'de', ref_chosen: -10, ref_rejected: -4 },
      { prompt: 'Q:', chosen: 'x', rejected: 'yz', final: true, ref_chosen: -3, ref_rejected: -9 },
      // per-side flags override the pair's: only the chosen side ends the solution here
      {
        prompt: 'Q:',
        chosen: 'pq',
        rejected: 'r',
        final: true,
        chosen_final: true,
        rejected_final: false,
        ref_chosen: -5,
        ref_rejected: -2,
      },
    ];
    const expected = pairs.map((p) => {
      // the end-of-sequence token counts only for final steps
      const ec = (p.chosen_final ?? p.final) ? 1 : 0,
        er = (p.rejected_final ?? p.final) ? 1 : 0;
      const z =
        beta * (lp * (p.chosen.length + ec) - p.ref_chosen! - (lp * (p.rejected.length + er) - p.ref_rejected!));
      return Math.log1p(Math.exp(-z));
    });
    const r = await e.trainDPO(pairs, { epochs: 1, lr: 1e-9, batch_size: 3, beta, seed: 0 });
    const want = (expected[0]! + expected[1]! + expected[2]!) / 3;
    assert.ok(Math.abs(r.history[0]!.loss - want) < 1e-5, `loss ${r.history[0]!.loss}, hand-computed ${want}`);
    assert.equal(r.history[0]!.chosen_nll, undefined, 'plain DPO reports no NLL term');
    // with the chosen side's NLL (nll_alpha): every chosen token costs log V, so the per-token mean is log V
    const alpha = 0.25;
    const rn = await e.trainDPO(pairs, { epochs: 1, lr: 1e-9, batch_size: 3, beta, seed: 0, nll_alpha: alpha });
    assert.ok(
      Math.abs(rn.history[0]!.chosen_nll! - Math.log(V)) < 1e-5,
      `chosen NLL ${rn.history[0]!.chosen_nll}, hand-computed ${Math.log(V)}`,
    );
    assert.ok(
      Math.abs(rn.history[0]!.loss - (want + alpha * Math.log(V))) < 1e-5,
      `DPO + NLL loss ${rn.history[0]!.loss}`,
    );
    await assert.rejects(
      e.trainDPO(pairs, { epochs: 1, lr: 1e-9, batch_size: 3, beta, seed: 0, nll_alpha: -1 }),
      /nll_alpha must be 0 or more/,
    );
    // and the token layout itself: no EOS after a non-final completion
    const nonFinal = encodePair(tok, 'Q:', 'abc', false, 64, 't');
    const final = encodePair(tok, 'Q:', 'abc', true, 64, 't');
    assert.notEqual(nonFinal.ids[nonFinal.ids.length - 1], tok.eos);
    assert.equal(final.ids[final.ids.length - 1], tok.eos);
    assert.equal(final.ids.length, nonFinal.ids.length + 1);
    // completion-only targets: prompt positions carry no loss
    const b = pack([nonFinal]);
    assert.deepEqual([...b.targets], [-1, ...tok.encode('abc')]);
  } finally {
    await e.close();
  }
});

test('SFT overfits a tiny set and greedy decoding reproduces it', async (kernels) => {
  const e = await trainedAdder(kernels);
  try {
    const prompts = ['2+3=', '5+4=', '0+0='];
    const out = await e.generate(prompts, { temperature: 0, max_tokens: 4, stop: [';'] });
    assert.deepEqual(
      out.map((o) => o[0]!.text),
      ['5', '9', '0'],
    );
    assert.ok(out.every((o) => o[0]!.finish_reason === 'stop'));
    const kept = await e.generate(['2+3='], { temperature: 0, max_tokens: 4, stop: [';'], include_stop: true });
    assert.equal(kept[0]![0]!.text, '5;');
  } finally {
    await e.close();
  }
});

for (const [label, cfg] of [
  ['head size 8', SMALL],
  ['head size 48', { ...SMALL, n_embd: 96, n_head: 2 }],
] as const) {
  const title =
    'greedy decoding equals the argmax of a full recompute; ' +
    `KV-cache log-probs equal the training forward, bit for bit (${label})`;
  test(title, async (kernels) => {
    const e = EmbeddedEngine.create(cfg, Tokenizer.ascii(), 7, { kernels });
    try {
      const prompt = 'Step 1: 12+7=19\n';
      const [[c]] = (await e.generate([prompt], { temperature: 0, max_tokens: 20 })) as [
        [import('../../src/engine/types.js').Completion],
      ];
      const V = e.model.cfg.vocab_size;
      const ids = e.tokenize(prompt).concat(c.tokens);
      // full recompute of the whole sequence with the training forward
      const batch = {
        tokens: Int32Array.from(ids.slice(0, -1)),
        targets: Int32Array.from(ids.slice(1)),
        seqs: [[0, ids.length - 1]] as Array<[number, number]>,
      };
      const logp = e.model.forward(batch);
      const logits = e.model.logits();
      e.model.releaseActivations();
      const P = e.tokenize(prompt).length;
      for (let t = 0; t < c.tokens.length; t++) {
        const row = P - 1 + t;
        let best = 0;
        for (let j = 1; j < V; j++) if (logits[row * V + j]! > logits[row * V + best]!) best = j;
        assert.equal(c.tokens[t], best, `token ${t}: greedy ${c.tokens[t]}, argmax ${best}`);
        assert.equal(c.logprobs[t], logp[row], `token ${t}: KV-cache log p ${c.logprobs[t]}, recompute ${logp[row]}`);
      }
    } finally {
      await e.close();
    }
  });
}

test('prefix-shared sampling equals unshared sampling for the same seeds, bit for bit', async (kernels) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-'));
  try {
    const base = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 3, { kernels });
    await base.save(dir);
    await base.close();
    const shared = EmbeddedEngine.load(dir, { share_prefix: true, kernels });
    const unshared = EmbeddedEngine.load(dir, { share_prefix: false, threads: 1, kernels });
    const prefix = 'Problem: 4 boxes of 7. Steps so far: 4*7=28\n';
    const prompts = [prefix + 'A', prefix + 'B', prefix + 'A', 'other', prefix];
    const opts = { n: 6, temperature: 0.5, top_p: 0.95, max_tokens: 12, seed: 11, stop: ['\n'] };
    const a = await shared.generate(prompts, opts);
    const b = await unshared.generate(prompts, opts);
    assert.deepEqual(a, b);
    // identical prompts with the same seed give the same completions only when seeds match
    assert.notDeepEqual(a[0], a[2], 'different prompt indices draw from different streams');
    // a prompt alone gives what it gave in the batch
    const alone = await unshared.generate([prompts[3]!], {
      ...opts,
      seeds: [(await import('../../src/engine/rng.js')).deriveSeed(11, 3)],
    });
    assert.deepEqual(alone[0], a[3]);
    assert.ok(
      shared.stats.prefill_tokens < unshared.stats.prefill_tokens / 4,
      `shared prefill ${shared.stats.prefill_tokens} vs unshared ${unshared.stats.prefill_tokens}`,
    );
    await shared.close();
    await unshared.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint round trip is bit-exact', async (kernels) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-'));
  try {
    const e = await trainedAdder(kernels, 2);
    await e.save(dir);
    const l = EmbeddedEngine.load(dir, { kernels });
    assert.deepEqual(l.weights(), e.weights());
    assert.deepEqual(l.config, e.config);
    assert.deepEqual(l.tokenizerJSON, e.tokenizerJSON);
    const opts = { n: 3, temperature: 1, max_tokens: 6, seed: 5 };
    assert.deepEqual(await l.generate(['1+2='], opts), await e.generate(['1+2='], opts));
    await e.close();
    await l.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training is deterministic for a seed and identical on one or two threads', async (kernels) => {
  const ex = [
    { prompt: 'a', completion: 'bcd' },
    { prompt: 'ab', completion: 'cde' },
    { prompt: 'x', completion: 'yz' },
  ];
  const run = async (threads: number, seed: number) => {
    const e = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 1, { threads, kernels });
    await e.trainSFT(ex, { epochs: 3, lr: 1e-2, batch_size: 2, seed });
    await e.trainDPO([{ prompt: 'a', chosen: 'bcd', rejected: 'bce' }], {
      epochs: 2,
      lr: 1e-2,
      batch_size: 1,
      beta: 0.1,
      seed,
    });
    const w = e.weights();
    await e.close();
    return w;
  };
  const w1 = await run(2, 9);
  assert.deepEqual(await run(2, 9), w1);
  assert.deepEqual(await run(1, 9), w1);
  assert.notDeepEqual(await run(2, 10), w1);
});

test('bad input fails with a clear message', async (kernels) => {
  const e = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 1, { kernels });
  try {
    await assert.rejects(e.generate(['é'], { max_tokens: 3 }), /not in the vocabulary/);
    await assert.rejects(e.generate([''], { max_tokens: 3 }), /empty/);
    await assert.rejects(e.generate(['x'.repeat(70)], { max_tokens: 3 }), /context/);
    await assert.rejects(e.generate(['x'], { max_tokens: 0 }), /max_tokens/);
    await assert.rejects(e.trainSFT([], { epochs: 1, lr: 1e-3, batch_size: 1, seed: 0 }), /no training examples/);
    await assert.rejects(
      e.trainDPO([{ prompt: 'a', chosen: 'b', rejected: 'c' }], {
        epochs: 1,
        lr: 1e-3,
        batch_size: 1,
        seed: 0,
        beta: 0,
      }),
      /beta/,
    );
  } finally {
    await e.close();
  }
});

test('sampled special tokens never appear in the text: text equals detokenize(tokens)', async (kernels) => {
  const e = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 1, { kernels });
  try {
    // zero weights: a uniform distribution, so <|eos|> and <|pad|> are drawn now and then
    const f = (e as unknown as { heap: { f32(): Float32Array } }).heap.f32();
    f.fill(0, e.model.params >> 2, (e.model.params >> 2) + e.model.layout.total);
    const [out] = await e.generate(['x'], { n: 4, temperature: 1, max_tokens: 60, ignore_eos: true, seed: 3 });
    const all = out!.flatMap((c) => c.tokens);
    assert.ok(
      all.some((t) => t === e.tokenizer.eos || t === e.tokenizer.pad),
      'the draw includes a special token',
    );
    for (const c of out!) assert.equal(c.text, e.detokenize(c.tokens));
    assert.equal(e.unreadable('plain text'), null);
    assert.match(e.unreadable('curly ’ quote')!, /U\+2019/);
  } finally {
    await e.close();
  }
});
