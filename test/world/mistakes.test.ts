// The mistake policy: every mistake it makes is wrong for the verifier, of the kind it was asked for where
// that kind is well defined, and reproducible from its seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProblems, worldConfig } from '../../src/world/generator.js';
import { makeMistake, proposeCandidates, MISTAKE_KINDS, DEFAULT_POLICY } from '../../src/world/mistakes.js';
import { WorldRng } from '../../src/world/rng.js';
import { checkStep, nextStep } from '../../src/world/verifier.js';

const problems = generateProblems(worldConfig(), 'train', 150);

test('every mistake is a wrong step, and the verifier names the injected kind for the direct kinds', () => {
  const made: Record<string, number> = {};
  const rng = new WorldRng(1);
  for (const p of problems) {
    const prefix: string[] = [];
    for (let l = 0; l < p.steps; l++) {
      for (const kind of MISTAKE_KINDS) {
        const m = makeMistake(p, prefix, kind, rng);
        if (m === null) continue;
        const c = checkStep(p, prefix, m);
        assert.ok(!c.ok, `${p.id} layer ${l + 1}: ${kind} mistake ${m} passed the verifier`);
        made[kind] = (made[kind] ?? 0) + 1;
        // Each kind changes one thing, so the verifier's first failing check must be that thing, unless the
        // step's two operands are equal (train-81's 48+48): then a replaced one could be either of them.
        const a = p.actions[l];
        if (a && a.x === a.y) continue;
        assert.equal(c.kind, kind, `${p.id}: ${kind} mistake ${m} read as ${c.kind} (${c.reason})`);
      }
      prefix.push(nextStep(p, prefix));
    }
  }
  for (const k of MISTAKE_KINDS) assert.ok((made[k] ?? 0) > 20, `kind ${k} was made only ${made[k] ?? 0} times`);
});

test('candidates are reproducible from the seed and mix right and wrong steps', () => {
  const p = problems[3];
  const a = proposeCandidates(p, [], DEFAULT_POLICY, new WorldRng(5));
  const b = proposeCandidates(p, [], DEFAULT_POLICY, new WorldRng(5));
  assert.deepEqual(a, b);
  assert.equal(a.length, 6);
  let right = 0,
    total = 0;
  const rng = new WorldRng(9);
  for (const q of problems) {
    for (const c of proposeCandidates(q, [], DEFAULT_POLICY, rng)) {
      right += Number(checkStep(q, [], c).ok);
      total++;
    }
  }
  assert.ok(right / total > 0.4 && right / total < 0.6, `share right ${right / total}`);
});
