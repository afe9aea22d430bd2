// stepDPO (src/train/stepdpo.ts) on a small embedded engine: the run config's nll_alpha reaches the
// trainer (the report's history carries the chosen side's NLL and the loss includes it), plain step-DPO
// reports no NLL term, and an empty pair set leaves the weights alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
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
