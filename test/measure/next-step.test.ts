// nextStepReport (src/measure/world.ts) on a scripted engine: at held-out prefixes, the gold next step
// counts as right and the same step with its result changed counts as wrong (the verifier decides); the
// share is hand-counted, the decoding is greedy and stops at the end of the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataConfig } from '../../src/data/build.js';
import { solutionBodies } from '../../src/data/ift.js';
import { loadTemplate, renderStepPrompt } from '../../src/data/templates.js';
import { nextStepReport } from '../../src/measure/world.js';
import { heldOutPrefixes } from '../../src/judge/health.js';
import { generateProblems, renderSteps } from '../../src/world/index.js';
import { Scripted } from './scripted.js';

const d = dataConfig({});
const t = loadTemplate('compact');
const items = heldOutPrefixes(generateProblems(d.world, 'test', 40), 3);
const prompts = items.map((it) => renderStepPrompt(t, it.problem.text) + renderSteps(it.prefix));
// the gold next line, as a model continuing the prompt writes it
const gold = items.map((it) =>
  renderSteps(solutionBodies(it.problem).slice(0, it.prefix.length + 1)).slice(renderSteps(it.prefix).length),
);
// the same line with its last number one larger: a wrong result (or a wrong boxed answer)
const wrong = gold.map((g) => g.replace(/(\d+)(\D*)$/, (_, n: string, rest: string) => `${Number(n) + 1}${rest}`));

test('gold next steps are right, changed results wrong; greedy, one line', async () => {
  const all = await nextStepReport(new Scripted((p) => gold[prompts.indexOf(p)]!), items, t);
  assert.deepEqual(all, { n: 40, accuracy: 1 });
  const none = await nextStepReport(new Scripted((p) => wrong[prompts.indexOf(p)]!), items, t);
  assert.deepEqual(none, { n: 40, accuracy: 0 });
  // every third prefix right: 14 of 40 (i = 0, 3, ..., 39)
  const e = new Scripted((p) => {
    const i = prompts.indexOf(p);
    return i % 3 === 0 ? gold[i]! : wrong[i]!;
  });
  assert.deepEqual(await nextStepReport(e, items, t), { n: 40, accuracy: 14 / 40 });
  assert.equal(e.seen[0]!.temperature, 0);
  assert.deepEqual(e.seen[0]!.stop, ['\n']);
  assert.deepEqual(await nextStepReport(e, [], t), { n: 0, accuracy: 0 });
});
