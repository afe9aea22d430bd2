// solveReport (src/measure/world.ts) on a scripted engine: accuracy, per-problem results and the sums and
// differences counted by the way they were written (one line, or written out in columns), wrong ones
// decided by the verifier, every count by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataConfig } from '../../src/data/build.js';
import { solutionText } from '../../src/data/ift.js';
import { loadTemplate, renderStepPrompt } from '../../src/data/templates.js';
import { solveReport } from '../../src/measure/world.js';
import { generateProblems, readBody, splitSteps, stepBody } from '../../src/world/index.js';
import { Scripted } from './scripted.js';

const d = dataConfig({});
const t = loadTemplate('compact');
const problems = generateProblems(d.world, 'test', 30);
const prompts = problems.map((p) => renderStepPrompt(t, p.text));

/** Sums and differences of a solution text, by way: [one line, written]. */
function addSub(text: string): [number, number] {
  const out: [number, number] = [0, 0];
  for (const s of splitSteps(text).steps) {
    const v = readBody(stepBody(s));
    if (v?.type === 'op' && (v.op === '+' || v.op === '-')) out[v.work === undefined ? 0 : 1]++;
  }
  return out;
}

test('solveReport counts sums and differences by the way they are written, wrong ones by the verifier', async () => {
  const written = problems.map((p) => solutionText(p, 1));
  const plain = problems.map((p) => solutionText(p));
  const [oneLine, inColumns] = plain.map(addSub).reduce((a, b) => [a[0] + b[0], a[1] + b[1]]);
  assert.equal(inColumns, 0);
  assert.ok(oneLine > 30, `${oneLine} sums and differences`);
  // every problem right, in one line or written out
  const a = await solveReport(new Scripted((p) => plain[prompts.indexOf(p)]!), problems, t);
  assert.equal(a.accuracy, 1);
  assert.deepEqual(a.ways, { one_line: [0, oneLine], written: [0, 0] });
  const b = await solveReport(new Scripted((p) => written[prompts.indexOf(p)]!), problems, t);
  assert.equal(b.accuracy, 1);
  assert.deepEqual(b.ways, { one_line: [0, 0], written: [0, oneLine] });
  // the last written-out step of each even problem gets a result one too large: that step is wrong, while
  // the boxed answer, left as it was, is right (the verifier replays a wrong result as the running value,
  // so a later sum or difference would be wrong too: only the last one is changed, and the steps after it
  // are a product, a quotient or the boxed answer)
  let broken = 0;
  const mixed = problems.map((_, i) => {
    if (i % 2 === 1) return plain[i]!;
    const text = written[i]!;
    const m = [...text.matchAll(/ so (\d+)\n/g)].at(-1);
    if (m === undefined) return text;
    broken++;
    return text.slice(0, m.index) + ` so ${Number(m[1]) + 1}\n` + text.slice(m.index + m[0].length);
  });
  const c = await solveReport(new Scripted((p) => mixed[prompts.indexOf(p)]!), problems, t);
  const [mixedOne, mixedWritten] = mixed.map(addSub).reduce((x, y) => [x[0] + y[0], x[1] + y[1]]);
  assert.ok(broken >= 10, `${broken} broken`);
  assert.deepEqual(c.ways, { one_line: [0, mixedOne], written: [broken, mixedWritten] });
  assert.equal(c.accuracy, 1);
  assert.equal(c.all_steps_right, 1 - broken / problems.length);
});
