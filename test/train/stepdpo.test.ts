// stepDPO (src/train/stepdpo.ts) on a small embedded engine: the run config's nll_alpha reaches the
// trainer (the report's history carries the chosen side's NLL and the loss includes it), plain step-DPO
// reports no NLL term, and an empty pair set leaves the weights alone. IFT replay (dpo.replay): a step's
// loss is the plain DPO loss plus weight times the NLL that trainSFT reports on the records that step drew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { replayDraw } from '../../src/engine/trainer.js';
import type { SFTExample } from '../../src/engine/types.js';
import { DEFAULT_STEPDPO, stepDPO } from '../../src/train/stepdpo.js';
import type { PairRecord } from '../../src/search/pairs.js';

const SMALL = { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 64 };
const pairs: PairRecord[] = [3, 4, 5, 6].map((a, i) => ({
  id: `${i}:1`,
  problem_index: i,
  outcome: 'final',
  prompt: `Q ${a}+2\n`,
  chosen: `Step 1: ${a}+2=${a + 2}\n`,
  rejected: `Step 1: ${a}+2=${a + 3}\n`,
  chosen_final: false,
  rejected_final: false,
  prefix: [],
  step: 1,
  chosen_wins: 2,
  rejected_wins: 0,
}));

test('stepDPO passes nll_alpha to the trainer; plain DPO has no NLL term; no pairs, no change', async () => {
  const plain = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 3),
    rpo = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 3);
  try {
    const c = { ...DEFAULT_STEPDPO, batch_size: 4, lr: 1e-9 };
    const a = await stepDPO(plain, pairs, c, 1);
    const b = await stepDPO(rpo, pairs, { ...c, nll_alpha: 2 }, 1);
    assert.equal(a.history[0]!.chosen_nll, undefined);
    const nll = b.history[0]!.chosen_nll!;
    // a random-init model: every token costs about log V = log 128 nats
    assert.ok(Math.abs(nll - Math.log(128)) < 0.5, `chosen NLL ${nll}`);
    // same start, same pairs: the losses differ by exactly alpha times the NLL term
    assert.ok(
      Math.abs(b.history[0]!.loss - (a.history[0]!.loss + 2 * nll)) < 1e-5,
      `${b.history[0]!.loss} vs ${a.history[0]!.loss} + 2 x ${nll}`,
    );
    const before = await plain.logprob([{ prompt: 'Q 3+2\n', completion: 'Step 1: 3+2=5\n' }]);
    const none = await stepDPO(plain, [], c, 1);
    assert.deepEqual(none, { pairs: 0, steps: 0, tokens: 0, final_loss: 0, final_accuracy: null, history: [] });
    assert.deepEqual(await plain.logprob([{ prompt: 'Q 3+2\n', completion: 'Step 1: 3+2=5\n' }]), before);
  } finally {
    await plain.close();
    await rpo.close();
  }
});

test('IFT replay: the step loss is the DPO loss plus weight times the SFT loss of the drawn records', async () => {
  const pool: SFTExample[] = Array.from({ length: 10 }, (_, i) => ({
    prompt: `Q ${i}*3\n`,
    completion: `Step 1: ${i}*3=${i * 3}\nStep 2: \\boxed{${i * 3}}\n`,
  }));
  const make = () => EmbeddedEngine.create(SMALL, Tokenizer.ascii(), 3);
  const plain = make(),
    rep = make(),
    sft = make();
  try {
    const c = { ...DEFAULT_STEPDPO, batch_size: 4, lr: 1e-9 };
    const w = 0.8;
    const a = await stepDPO(plain, pairs, c, 7);
    const b = await stepDPO(rep, pairs, { ...c, replay: { weight: w, per_pair: 0.5 } }, 7, undefined, {
      records: pool,
      source: 'test pool',
    });
    assert.deepEqual(b.replay, { weight: w, per_pair: 0.5, pool: 10, source: 'test pool' });
    assert.equal(a.replay, undefined);
    assert.equal(a.history[0]!.replay_nll, undefined);
    // one step of 4 pairs draws round(0.5 * 4) = 2 records, from (seed, 'replay', step 1) alone
    const drawn = replayDraw(7, 1, 4, pool.length, 0.5);
    assert.equal(drawn.length, 2);
    assert.deepEqual(replayDraw(7, 1, 4, pool.length, 0.5), drawn);
    assert.notDeepEqual(replayDraw(7, 2, 4, pool.length, 0.5), drawn);
    assert.deepEqual(replayDraw(7, 1, 40, pool.length, 0.5).length, 10, 'at most the pool');
    assert.deepEqual(replayDraw(7, 1, 1, pool.length, 0.1).length, 1, 'at least one record');
    // the same records through trainSFT: its first-step loss is their per-token NLL at the same weights
    const s = await sft.trainSFT(
      drawn.map((i) => pool[i]!),
      { epochs: 1, lr: 1e-9, batch_size: 2, seed: 1 },
    );
    const nll = b.history[0]!.replay_nll!;
    assert.ok(Math.abs(nll - s.history[0]!.loss) < 1e-5, `replay NLL ${nll} vs trainSFT's ${s.history[0]!.loss}`);
    assert.ok(
      Math.abs(b.history[0]!.loss - (a.history[0]!.loss + w * nll)) < 1e-5,
      `${b.history[0]!.loss} vs ${a.history[0]!.loss} + ${w} x ${nll}`,
    );
    await assert.rejects(
      stepDPO(rep, pairs, { ...c, replay: { weight: w, per_pair: 0.5 } }, 7),
      /dpo.replay is set but no replay records/,
    );
    await assert.rejects(
      rep.trainDPO([{ prompt: 'Q\n', chosen: 'a', rejected: 'b' }], {
        epochs: 1,
        lr: 1e-9,
        batch_size: 1,
        seed: 1,
        beta: 0.1,
        replay: { examples: pool, weight: 0, per_pair: 1 },
      }),
      /replay.weight must be positive/,
    );
  } finally {
    await plain.close();
    await rep.close();
    await sft.close();
  }
});
