// A tiny M1 for run tests: a 1-layer character model with a few seconds of SFT on IFT solutions and on
// judge prompts answered "[[A]]", so that its steps end at a newline and its greedy judge emits a parsable
// verdict (always A: with one order per pair that still ranks candidates, so the search makes pairs).
// tinyRealM1 is the same for runs on real questions with the paper's template. Their IFT solutions are
// written in one line per step (`ift.written: 0`): these models test the loop's machinery, and the golden
// artifacts stay comparable across changes to the world's data mix.
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { renderScorePrompt, SCORE_POOL, scoreRecords } from '../../src/data/score.js';
import { loadTemplate, renderJudgePrompt, renderStepPrompt } from '../../src/data/templates.js';

export async function tinyM1(dir: string): Promise<void> {
  const d = dataConfig({});
  const b = buildRecords({
    ...d,
    base: { problems: 0, practice: 0 },
    ift: { ...d.ift, written: 0, problems: 32 },
    eft: { ...d.eft, trainPairs: 32, testPairs: 1, harderPairs: 1 },
  });
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 512 }, Tokenizer.ascii(), 1, {
    threads: 1,
  });
  try {
    const judge = b.eftTrain.map((r) => ({ prompt: r.prompt, completion: '[[A]]', eos: true }));
    await e.trainSFT(
      [...b.ift.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: true })), ...judge, ...judge],
      { epochs: 4, lr: 1e-2, batch_size: 16, seed: 1 },
    );
    await e.save(dir, { kind: 'test-tiny-m1' });
  } finally {
    await e.close();
  }
}

/** A tiny SRLM M1: IFT solutions plus scoring prompts answered `Score: k` (k from the rubric), so that its
 *  sampled scores parse and differ between solutions. */
export async function tinySrlmM1(dir: string): Promise<void> {
  const d = dataConfig({});
  const b = buildRecords({
    ...d,
    base: { problems: 0, practice: 0 },
    ift: { ...d.ift, written: 0, problems: 32 },
    eft: { ...d.eft, trainPairs: 1, testPairs: 1, harderPairs: 1 },
  });
  const t = loadTemplate('compact');
  // the solutions that fit beside the longer 'steps' target (the completions are replaced below)
  const sc = scoreRecords(d.world, t, d.seed, 'train', SCORE_POOL, 48, 512, 0.2, 'nines', 'steps').records;
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 512 }, Tokenizer.ascii(), 1, {
    threads: 1,
  });
  try {
    const judge = sc.map((r) => ({ prompt: r.prompt, completion: `Score: ${r.score}`, eos: true }));
    await e.trainSFT(
      [...b.ift.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: true })), ...judge, ...judge, ...judge],
      { epochs: 8, lr: 1e-2, batch_size: 16, seed: 1 },
    );
    await e.save(dir, { kind: 'test-tiny-m1-srlm' });
  } finally {
    await e.close();
  }
}

/** A tiny M1 for runs on real questions with the paper's template (its scoring prompts run past 2,000
 *  characters, so a 3,072-character context): a few SFT steps on GSM8K train questions, each answered with a short
 *  `Step n:` solution, its paper judge prompt answered `[[A]]` and its paper scoring prompt `Score: k`,
 *  so that the search makes pairs and the SRLM scores parse. It solves nothing; it exercises the plumbing. */
export async function tinyRealM1(
  dir: string,
  questions: ReadonlyArray<{ question: string; gold: string }>,
): Promise<void> {
  const t = loadTemplate('paper');
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 3072 }, Tokenizer.ascii(), 1, {
    threads: 1,
  });
  try {
    const data = questions.flatMap((q, i) => {
      const sol = `Step 1: Add.\nStep 2: So \\boxed{${q.gold}}.\n`;
      const judge = {
        prompt: renderJudgePrompt(t, { problem: q.question, steps: [], stepA: 'Add.\n', stepB: 'Sum.\n' }),
        completion: '[[A]]',
        eos: true,
      };
      const score = { prompt: renderScorePrompt(t, q.question, sol), completion: `Score: ${1 + (i % 4)}`, eos: true };
      return [{ prompt: renderStepPrompt(t, q.question), completion: sol, eos: true }, judge, judge, score, score];
    });
    await e.trainSFT(data, { epochs: 8, lr: 3e-2, batch_size: 8, seed: 1 });
    await e.save(dir, { kind: 'test-tiny-m1-real' });
  } finally {
    await e.close();
  }
}
