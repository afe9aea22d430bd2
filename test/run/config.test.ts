// The run config is strict: unknown keys and wrong types are rejected with the key's path; defaults follow
// docs/method.md; the model path resolves against the config file's folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, problemsOf, resolveConfig } from '../../src/run/config.js';

test('defaults are the readings of docs/method.md', () => {
  const c = resolveConfig({ model: 'm1' });
  assert.deepEqual(
    [c.search.candidates, c.search.temperature, c.search.top_p, c.search.both_orders, c.search.max_steps],
    [6, 0.5, 0.95, true, 20],
  );
  assert.equal(c.search.identical, 'accept');
  assert.deepEqual(c.problems, [400, 800, 1200]);
  assert.equal(c.iterations, 3);
  assert.equal(c.dpo.beta, 0.1);
  assert.equal(c.dpo.nll_alpha, 0); // plain step-DPO
  assert.equal(c.eval.step_prefixes, 500);
  assert.equal(problemsOf({ ...c, problem_scale: 0.05 }, 3), 60);
});

test('unknown keys, wrong types and missing keys are errors naming the key', () => {
  assert.throws(() => resolveConfig({ model: 'm', serch: {} }), /serch/);
  assert.throws(() => resolveConfig({ model: 'm', search: { candidate: 6 } }), /search.*candidate/s);
  assert.throws(() => resolveConfig({ model: 'm', search: { candidates: 'six' } }), /search\.candidates/);
  assert.throws(() => resolveConfig({ model: 'm', dpo: { beta: -1 } }), /dpo\.beta/);
  assert.throws(() => resolveConfig({ model: 'm', dpo: { nll_alpha: -0.5 } }), /dpo\.nll_alpha/);
  assert.throws(() => resolveConfig({ model: 'm', eval: { step_prefixes: 1.5 } }), /eval\.step_prefixes/);
  assert.throws(() => resolveConfig({ model: 'm', search: { identical: 'skip' } }), /search\.identical/);
  assert.throws(() => resolveConfig({}), /model/);
  assert.throws(() => resolveConfig({ model: 'm', iterations: 4 }), /problems: gives 3 sizes for 4 iterations/);
});

test('YAML files load; the model path is relative to the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-cfg-'));
  try {
    const f = path.join(dir, 'c.yaml');
    writeFileSync(f, 'model: ../m1\nsearch:\n  candidates: 4\n');
    const c = loadConfig(f);
    assert.equal(c.model, path.resolve(dir, '../m1'));
    assert.equal(c.search.candidates, 4);
    writeFileSync(f, 'model: m1\nsearch: [1\n');
    assert.throws(() => loadConfig(f), new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configs/demo.yaml is a valid config', () => {
  const c = loadConfig(path.join(process.cwd(), 'configs', 'demo.yaml'));
  assert.equal(c.iterations, 3);
  // half the paper's 400 / 800 / 1,200, so that the demo fits 15 minutes on two cores (docs/loop.md)
  assert.deepEqual(
    [1, 2, 3].map((k) => problemsOf(c, k)),
    [200, 400, 600],
  );
  assert.equal(c.dpo.lr, 3e-5);
});

test('dpo.replay: absent by default, checked strictly, its file relative to the config file', () => {
  // off: no key at all, so a config without it resolves (and a run manifest reads) as before the option
  const off = resolveConfig({ model: 'm' });
  assert.equal(off.dpo.replay, undefined);
  assert.ok(!JSON.stringify(off).includes('replay'));
  const on = resolveConfig({ model: 'm', dpo: { replay: { weight: 0.5, per_pair: 0.25 } } });
  assert.deepEqual(on.dpo.replay, { weight: 0.5, per_pair: 0.25 });
  const bad: Array<[unknown, RegExp]> = [
    [{ weight: 0, per_pair: 1 }, /dpo\.replay\.weight/],
    [{ weight: 1, per_pair: -1 }, /dpo\.replay\.per_pair/],
    [{ weight: 1 }, /dpo\.replay\.per_pair/],
    [{ weight: '1', per_pair: 1 }, /dpo\.replay\.weight/],
    [{ weight: 1, per_pair: 1, wieght: 1 }, /dpo\.replay.*wieght/s],
    [{ weight: 1, per_pair: 1, file: '' }, /dpo\.replay\.file/],
    [true, /dpo\.replay/],
  ];
  for (const [replay, re] of bad) assert.throws(() => resolveConfig({ model: 'm', dpo: { replay } }), re);
  // questions from a file have no world IFT records: replay needs its own file there
  const questions = { file: 'q.jsonl', format: 'gsm8k' };
  assert.throws(
    () => resolveConfig({ model: 'm', questions, dpo: { replay: { weight: 1, per_pair: 1 } } }),
    /dpo\.replay\.file: is needed with questions from a file/,
  );
  resolveConfig({ model: 'm', questions, dpo: { replay: { weight: 1, per_pair: 1, file: 'ift.jsonl' } } });
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-cfg-'));
  try {
    const f = path.join(dir, 'c.yaml');
    writeFileSync(f, 'model: m1\ndpo:\n  replay:\n    weight: 0.5\n    per_pair: 0.5\n    file: data/ift.jsonl\n');
    assert.equal(loadConfig(f).dpo.replay!.file, path.join(dir, 'data', 'ift.jsonl'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
