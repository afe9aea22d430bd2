// IFT replay's pool (src/run/replay.ts) and its way through a run: a replay file is read strictly; on the
// synthetic world the pool is the IFT records of the range the starting model's manifest names, regenerated
// exactly; and a tiny run with dpo.replay trains with it, reporting the pool and each step's replay NLL in
// dpo.json. (A run without dpo.replay is pinned byte for byte by test/run/golden.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { resolveConfig } from '../../src/run/config.js';
import { runLoop } from '../../src/run/loop.js';
import { iftRange, readReplayFile, replayPool } from '../../src/run/replay.js';
import { tinyM1 } from './tiny.js';

process.env.PSRLM_KERNELS = 'wasm';

test('a replay file: records with prompt and completion, eos true unless given; errors name the line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-replay-'));
  try {
    const f = path.join(dir, 'ift.jsonl');
    writeFileSync(f, '{"prompt":"Q\\n","completion":"A\\n"}\n\n{"prompt":"R\\n","completion":"B","eos":false}\n');
    assert.deepEqual(readReplayFile(f), [
      { prompt: 'Q\n', completion: 'A\n', eos: true },
      { prompt: 'R\n', completion: 'B', eos: false },
    ]);
    const bad: Array<[string, RegExp]> = [
      ['{"prompt":"Q"}\n', /ift\.jsonl:1: 'completion' must be a non-empty string/],
      ['{"prompt":"Q","completion":"A"}\nnope\n', /ift\.jsonl:2: not JSON/],
      ['{"prompt":"Q","completion":"A","eos":1}\n', /'eos' must be true or false/],
      ['[1]\n', /not a JSON object/],
      ['\n', /holds no records/],
    ];
    for (const [text, re] of bad) {
      writeFileSync(f, text);
      assert.throws(() => readReplayFile(f), re);
    }
    assert.throws(() => readReplayFile(path.join(dir, 'none.jsonl')), /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the world pool: the IFT records of the starting model, as the data build makes them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-replay-'));
  try {
    const data = dataConfig({});
    const cfg = resolveConfig({ model: dir, dpo: { replay: { weight: 1, per_pair: 0.5 } } });
    // no manifest: the data defaults' range
    assert.deepEqual(iftRange(cfg, data), {
      from: data.pools.ift,
      count: data.ift.problems,
      whence: 'the data defaults (no data config in the starting model)',
    });
    // a manifest as `psrlm pretrain` writes it, here for a model SFT-trained on 6 IFT records
    const built = buildRecords({
      ...data,
      base: { problems: 0, practice: 0 },
      ift: { ...data.ift, problems: 6 },
      eft: { ...data.eft, trainPairs: 1, testPairs: 1, harderPairs: 1, singles: 0 },
    });
    writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ data: { config: { ...data, ift: { problems: 6 } } } }),
    );
    const pool = replayPool(cfg, data);
    assert.deepEqual(
      pool.records,
      built.ift.map((r) => ({ prompt: r.prompt, completion: r.completion, eos: r.eos })),
    );
    assert.match(pool.source, /train problems 100000\.\.100005.*starting model's manifest/);
    // a manifest of another world (data seed) is not this run's: the defaults again
    writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ data: { config: { ...data, seed: 7, ift: { problems: 6 } } } }),
    );
    assert.equal(iftRange(cfg, data).count, data.ift.problems);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tiny run with dpo.replay trains with the pool and reports it in dpo.json', { timeout: 300_000 }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'psrlm-replay-run-'));
  try {
    const m1 = path.join(root, 'm1');
    await tinyM1(m1);
    // the tiny M1 was SFT-trained on the first 32 IFT records (test/run/tiny.ts): say so as pretrain would
    const data = dataConfig({});
    writeFileSync(
      path.join(m1, 'manifest.json'),
      JSON.stringify({ kind: 'test-tiny-m1', data: { config: { ...data, ift: { problems: 32 } } } }),
    );
    const logs: string[] = [];
    const out = path.join(root, 'run');
    const cfg = resolveConfig({
      seed: 3,
      model: m1,
      iterations: 1,
      problems: [4],
      dpo: { batch_size: 4, lr: 0.001, replay: { weight: 0.5, per_pair: 0.5 } },
      eval: { problems: 1, judge: 1, max_tokens: 16, step_prefixes: 1 },
      health: { prefixes: 1 },
      search: {
        candidates: 3,
        max_step_tokens: 16,
        judge_max_tokens: 8,
        both_orders: false,
        max_steps: 3,
        max_rollbacks: 1,
        batch_problems: 2,
      },
      threads: 1,
    });
    await runLoop(cfg, out, { log: (l) => logs.push(l), progress: false });
    assert.ok(
      logs.some((l) => /dpo\.replay: 32 IFT records/.test(l)),
      logs.join('\n'),
    );
    const rep = JSON.parse(readFileSync(path.join(out, 'iter-1', 'dpo.json'), 'utf8')) as {
      steps: number;
      history: Array<{ loss: number; replay_nll?: number }>;
      replay?: { weight: number; per_pair: number; pool: number; source: string };
    };
    assert.ok(rep.steps > 0, 'the run trained');
    assert.deepEqual({ ...rep.replay, source: undefined }, { weight: 0.5, per_pair: 0.5, pool: 32, source: undefined });
    for (const h of rep.history) assert.ok(h.replay_nll! > 0 && h.loss > 0.5 * h.replay_nll!, JSON.stringify(h));
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      config: { dpo: { replay?: unknown } };
    };
    assert.deepEqual(manifest.config.dpo.replay, { weight: 0.5, per_pair: 0.5 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
