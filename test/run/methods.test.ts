// The methods behind the loop (src/run/methods.ts): a run's method is found by its config name, a run
// written without one is PSRLM, an unknown name is an error naming the known ones; and every method's
// pair source is a list of uniquely named stages, none named like the loop's own (dpo, eval), ending
// with the stage that writes pairs.jsonl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methodOf } from '../../src/run/methods.js';

test('methods by name: PSRLM by default, an unknown name is a clear error', () => {
  assert.equal(methodOf(undefined).name, 'PSRLM');
  assert.equal(methodOf('psrlm').key, 'psrlm');
  assert.equal(methodOf('srlm').name, 'SRLM');
  assert.throws(() => methodOf('rlhf'), /unknown method 'rlhf'.*psrlm, srlm/);
  assert.throws(() => methodOf('toString'), /unknown method 'toString'/);
});

test("each method names the other as its comparison, and its stages are distinct from the loop's", () => {
  for (const name of ['psrlm', 'srlm']) {
    const m = methodOf(name);
    assert.notEqual(methodOf(m.comparedWith).key, m.key);
    const stages = m.pairSource.map((s) => s.name);
    assert.equal(new Set(stages).size, stages.length, `${name}: stage names are unique`);
    assert.ok(!stages.includes('dpo') && !stages.includes('eval'), `${name}: no stage is named like the loop's`);
    assert.equal(stages.at(-1), 'pairs', `${name}: the pair source ends by writing the pairs`);
  }
});
