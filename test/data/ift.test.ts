// IFT and base records: every IFT solution re-checks as correct; base text has no step format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProblems, worldConfig } from '../../src/world/generator.js';
import { checkSolution } from '../../src/world/verifier.js';
import { iftRecord } from '../../src/data/ift.js';
import { baseSolutionRecord, practiceRecord } from '../../src/data/base.js';
import { loadTemplate } from '../../src/data/templates.js';
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
