// IFT and base records: every IFT solution re-checks as correct, in either way of writing a step; base text
// has no step format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProblems, worldConfig } from '../../src/world/generator.js';
import { checkSolution } from '../../src/world/verifier.js';
import { iftRecord } from '../../src/data/ift.js';
import { baseSolutionRecord, practiceRecord } from '../../src/data/base.js';
import { judgeSolution, loadTemplate } from '../../src/data/templates.js';
import { columnDrill } from '../../src/world/columns.js';
import { validateIft, validateBase } from '../../src/data/schema.js';

const world = worldConfig();
const t = loadTemplate('compact');

test('every IFT solution re-checks as correct, step by step and in its answer', () => {
  for (const split of ['train', 'test', 'harder'] as const) {
    for (const p of generateProblems(world, split, 700)) {
      const r = validateIft(iftRecord(p, t));
      const c = checkSolution(p, r.completion);
      assert.ok(c.ok, `${p.id}: ${JSON.stringify(c.steps)}`);
      assert.equal(c.steps.length, p.steps);
      assert.ok(r.prompt.endsWith(`${p.text}\n`));
    }
  }
});

test('IFT writes out the given share of sums and differences in columns, chosen by coordinates; all check', () => {
  const problems = generateProblems(world, 'train', 1500);
  let addSub = 0,
    written = 0;
  for (const p of problems) {
    const plain = iftRecord(p, t).completion;
    const r = iftRecord(p, t, 0.3);
    assert.equal(r.completion, iftRecord(p, t, 0.3).completion); // the same choice every time
    assert.equal(judgeSolution(t, r.completion), plain); // the claims are the one-line solution
    const c = checkSolution(p, r.completion);
    assert.ok(c.ok, `${p.id}: ${r.completion}`);
    for (const [i, a] of p.actions.entries()) {
      if (a.op !== '+' && a.op !== '-') continue;
      addSub++;
      const line = r.completion.split('\n')[i]!;
      if (line.includes(' so ')) {
        written++;
        assert.equal(line, `Step ${i + 1}: ${a.quote}: ${columnDrill(a.x, a.op, a.y)}`);
      }
    }
    assert.ok(!/ so /.test(plain));
    assert.equal(
      iftRecord(p, t, 1)
        .completion.split('\n')
        .filter((l) => /[-+]\d+=\d+$/.test(l)).length,
      0,
    );
  }
  assert.ok(Math.abs(written / addSub - 0.3) < 0.03, `written share ${written / addSub} of ${addSub}`);
});

test('base documents: free layout, no Step n: and no boxed; practice arithmetic is right', () => {
  for (const p of generateProblems(world, 'train', 300)) {
    const r = validateBase(baseSolutionRecord(p, p.index));
    assert.ok(r.text.startsWith(p.text + '\n'));
    assert.ok(!/Step \d+:/.test(r.text) && !r.text.includes('\\boxed'), r.text);
    assert.ok(r.text.includes(String(p.answer)));
    for (const a of p.actions)
      assert.ok(r.text.includes(`${a.x}${a.op}${a.y}=${a.z}`), `${r.text} lacks ${a.x}${a.op}${a.y}=${a.z}`);
  }
  for (let i = 0; i < 200; i++) {
    const r = validateBase(practiceRecord(i, i));
    // whole equations (not the tail of a column such as `3*2+1=7`)
    for (const m of r.text.matchAll(/(?<![-+*/\d])(\d+)([-+*/])(\d+)=(\d+)/g)) {
      const [x, y, z] = [Number(m[1]), Number(m[3]), Number(m[4])];
      const v = m[2] === '+' ? x + y : m[2] === '-' ? x - y : m[2] === '*' ? x * y : x / y;
      assert.equal(v, z, m[0]);
    }
    // column drills read off the true result: `150+63: 0+3=3 5+6=11 1+0+1=2 so 213`
    for (const m of r.text.matchAll(/(\d+)([-+*/])(\d+): [^,.]* so (\d+)/g)) {
      const [x, y, z] = [Number(m[1]), Number(m[3]), Number(m[4])];
      assert.equal(m[2] === '+' ? x + y : m[2] === '-' ? x - y : m[2] === '*' ? x * y : y * (x / y), z, m[0]);
    }
    assert.ok(r.text.length <= 512, `practice ${i} has ${r.text.length} chars`);
  }
});
