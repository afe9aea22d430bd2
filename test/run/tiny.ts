// A tiny M1 for run tests: a 1-layer character model with a few seconds of SFT on IFT solutions and on
// judge prompts answered "[[A]]", so that its steps end at a newline and its greedy judge emits a parsable
// verdict (always A: with one order per pair that still ranks candidates, so the search makes pairs).
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { SCORE_POOL, scoreRecords } from '../../src/data/score.js';
import { loadTemplate } from '../../src/data/templates.js';

export async function tinyM1(dir: string): Promise<void> {
  const d = dataConfig({});
  const b = buildRecords({ ...d, base: { problems: 0, practice: 0 }, ift: { problems: 32 }, eft: { ...d.eft, trainPairs: 32, testPairs: 1, harderPairs: 1 } });
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 512 }, Tokenizer.ascii(), 1, { threads: 1 });
  try {
    const judge = b.eftTrain.map((r) => ({ prompt: r.prompt, completion: '[[A]]', eos: true }));
    await e.trainSFT([...b.ift.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: true })), ...judge, ...judge], { epochs: 4, lr: 1e-2, batch_size: 16, seed: 1 });
    await e.save(dir, { kind: 'test-tiny-m1' });
  } finally {
    await e.close();
  }
}

/** A tiny SRLM M1: IFT solutions plus scoring prompts answered `Score: k` (k from the rubric), so that its
 *  sampled scores parse and differ between solutions. */
export async function tinySrlmM1(dir: string): Promise<void> {
  const d = dataConfig({});
  const b = buildRecords({ ...d, base: { problems: 0, practice: 0 }, ift: { problems: 32 }, eft: { ...d.eft, trainPairs: 1, testPairs: 1, harderPairs: 1 } });
  const t = loadTemplate('compact');
  const sc = scoreRecords(d.world, t, d.seed, 'train', SCORE_POOL, 48, 512).records;
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 512 }, Tokenizer.ascii(), 1, { threads: 1 });
  try {
    const judge = sc.map((r) => ({ prompt: r.prompt, completion: `Score: ${r.score}`, eos: true }));
    await e.trainSFT([...b.ift.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: true })), ...judge, ...judge, ...judge], { epochs: 8, lr: 1e-2, batch_size: 16, seed: 1 });
    await e.save(dir, { kind: 'test-tiny-m1-srlm' });
  } finally {
    await e.close();
  }
}
