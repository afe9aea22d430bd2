// The served backend (real models: an inference server + TRL) with no pairs to train on behaves like the
// embedded one: M_{t+1} is M_t unchanged (a copy, whose manifest says why), no trainer is started, and the
// run goes on instead of dying between iterations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openBackend } from '../../src/run/backend.js';
import { resolveConfig } from '../../src/run/config.js';

test('served backend, zero pairs: the next iterate is a labelled copy and no trainer runs', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-backend-'));
  try {
    const m1 = path.join(dir, 'm1');
    mkdirSync(m1);
    writeFileSync(path.join(m1, 'model.safetensors'), 'weights');
    writeFileSync(path.join(m1, 'manifest.json'), JSON.stringify({ task: 'sft', training_args: { learning_rate: 1 } }));
    // a launcher that cannot run: if the backend tried to train, the test would fail loudly
    const cfg = resolveConfig({
      model: m1,
      engine: { kind: 'server', command: ['false'] },
      trainer: { kind: 'trl', launcher: ['/nonexistent/python'] },
    });
    const logs: string[] = [];
    const b = openBackend(cfg, dir, (s) => logs.push(s));
    const out = path.join(dir, 'iter-1', 'model');
    const rep = await b.dpo(m1, out, [], cfg.dpo, 1, () => assert.fail('no training step'), {
      stage: 'M2',
      parent: 'M1',
    });
    assert.deepEqual([rep.pairs, rep.steps], [0, 0]);
    assert.equal(readFileSync(path.join(out, 'model.safetensors'), 'utf8'), 'weights');
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      task: string;
      parent: string;
      pipeline: { stage: string; dpo: { pairs: number } };
    };
    assert.equal(m.task, 'copy');
    assert.equal(m.parent, path.resolve(m1));
    assert.deepEqual([m.pipeline.stage, m.pipeline.dpo.pairs], ['M2', 0]);
    assert.ok(
      logs.some((l) => /no preference pairs/.test(l)),
      'said so in the log',
    );
    assert.ok(!existsSync(path.join(dir, 'iter-1', 'trl')), 'no trainer was set up');
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
