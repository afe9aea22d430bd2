// The TRL bridge's outcome as the pipeline sees it (src/train/trl.ts, src/train/trl-lock.ts), with a fake
// launcher in place of `accelerate launch`: the launcher flattens every failure to exit status 1, and the
// pipeline still reports the true kind from the bridge's status file (a broken token-boundary contract, bad
// data); no status file is said as such; the config tethers the ranks to this process; a lock held by a live
// pipeline is refused, and a stale trainer left by a dead one is stopped. The bridge's own side of these is
// tested in trainer/tests/test_ranks.py. IFT replay reaches the bridge as a JSONL of SFT records named in the
// config (absent from the config without it), and the bridge's replay NLL reaches the step history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_TRL, TrlTrainer } from '../../src/train/trl.js';
import { processStart } from '../../src/train/trl-lock.js';

// `node fake.js -m psrlm_trl.train CONFIG`: does what $FAKE says, as the launcher around a bridge would
const FAKE =
  `
const fs = require('node:fs'), path = require('node:path');
const cfg = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
fs.writeFileSync(path.join(path.dirname(cfg.output), 'seen.json'), JSON.stringify(cfg));
const mode = process.env.FAKE;
const status = (s) => fs.writeFileSync(cfg.status, JSON.stringify(s));
if (mode === 'contract') status({ code: 3, kind: 'contract', message: 'token-boundary contract broken at record ` +
  `2', rank: 0 });
if (mode === 'data') status({ code: 2, kind: 'data', message: "record 1: field 'prompt' must be a non-empty ` +
  `string", rank: 3 });
if (mode === 'ok') {
  fs.mkdirSync(cfg.output, { recursive: true });
  fs.writeFileSync(path.join(cfg.output, 'manifest.json'), '{}');
  if (cfg.replay)
    console.log(JSON.stringify({ event: 'step', step: 1, steps: 1, loss: 0.9, lr: 1e-6, replay_nll: 2.5 }));
  console.log(JSON.stringify({ event: 'done', steps: 1, tokens: 10, final_loss: 0.5, wall_s: 1 }));
  status({ code: 0, kind: 'ok', message: '' });
  process.exit(0);
}
process.exit(1); // what accelerate launch reports for any failed rank
`;

const PAIRS = [{ prompt: 'P\n', chosen: 'Step 1: a\n', rejected: 'Step 1: b\n' }];
const OPTS = { lr: 1e-6, epochs: 1, batch_size: 1, seed: 1, beta: 0.1 };

function trainer(dir: string, fake: string, mode: string): TrlTrainer {
  return new TrlTrainer(path.join(dir, 'm0'), path.join(dir, 'work'), {
    ...DEFAULT_TRL,
    launcher: [process.execPath, fake],
    contract_records: 0,
    env: { FAKE: mode },
  });
}

test(
  "TRL bridge: the status file, not the launcher's exit status, says what failed; the ranks are tethered",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-trl-status-'));
    const fake = path.join(dir, 'fake.cjs');
    writeFileSync(fake, FAKE);
    await assert.rejects(
      trainer(dir, fake, 'contract').trainDPO(PAIRS, OPTS),
      /TRL dpo failed \(the token-boundary contract is broken: token-boundary contract broken at record 2\)/,
    );
    await assert.rejects(
      trainer(dir, fake, 'data').trainDPO(PAIRS, OPTS),
      /bad training config or data on rank 3: record 1: field 'prompt'/,
    );
    await assert.rejects(
      trainer(dir, fake, 'none').trainDPO(PAIRS, OPTS),
      /exit status 1, and the trainer wrote no status file/,
    );
    const seen = JSON.parse(readFileSync(path.join(dir, 'work', 'seen.json'), 'utf8')) as Record<
      string,
      { pid: number; start: string; host: string }
    >;
    assert.deepEqual(seen.tether, { pid: process.pid, start: processStart(process.pid), host: hostname() });
    assert.equal(seen.status as unknown, path.join(dir, 'work', 'dpo.status.json'));
    // a stale status from the failed run above is not read as this run's
    const ok = trainer(dir, fake, 'ok');
    const r = await ok.trainDPO(PAIRS, OPTS);
    assert.equal(r.steps, 1);
    assert.equal(existsSync(path.join(dir, 'work', 'trainer.lock')), false, 'the lock is released');
  },
);

test(
  "TRL bridge: a live pipeline's lock is refused, a stale trainer left by a dead pipeline is stopped",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-trl-lock-'));
    const fake = path.join(dir, 'fake.cjs');
    writeFileSync(fake, FAKE);
    const work = path.join(dir, 'work');
    mkdirSync(work, { recursive: true });
    const sleeper = () =>
      spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { detached: true, stdio: 'ignore' });
    const other = sleeper();
    const stale = sleeper();
    const exited = new Promise((r) => stale.on('exit', (_c, s) => r(s)));
    try {
      const lock = (pipeline: number, start: string, launcher: number) =>
        writeFileSync(path.join(work, 'trainer.lock'), JSON.stringify({ pipeline, start, host: hostname(), launcher }));
      lock(other.pid!, processStart(other.pid!)!, 0);
      await assert.rejects(
        trainer(dir, fake, 'ok').trainDPO(PAIRS, OPTS),
        /is being trained by another pipeline \(pid \d+/,
      );
      // the same pid with another start time is a reused pid, not that pipeline: its launcher is stopped
      lock(other.pid!, '1', stale.pid!);
      const r = await trainer(dir, fake, 'ok').trainDPO(PAIRS, OPTS);
      assert.equal(r.steps, 1);
      assert.equal(await exited, 'SIGTERM');
    } finally {
      for (const p of [other, stale])
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
  },
);

test('TRL bridge: IFT replay goes as a JSONL of SFT records in the config; its NLL comes back per step', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-trl-replay-'));
  const fake = path.join(dir, 'fake.cjs');
  writeFileSync(fake, FAKE);
  const seen = () => JSON.parse(readFileSync(path.join(dir, 'work', 'seen.json'), 'utf8')) as Record<string, unknown>;
  await trainer(dir, fake, 'ok').trainDPO(PAIRS, OPTS);
  assert.equal('replay' in seen(), false, 'no replay key without replay');
  const examples = [
    { prompt: 'Q\n', completion: 'Step 1: \\boxed{1}\n' },
    { prompt: 'R\n', completion: 'x', eos: false },
  ];
  const r = await trainer(dir, fake, 'ok').trainDPO(PAIRS, { ...OPTS, replay: { examples, weight: 0.3, per_pair: 2 } });
  const data = path.join(dir, 'work', 'dpo.replay.jsonl');
  assert.deepEqual(seen().replay, { data, weight: 0.3, per_pair: 2 });
  assert.deepEqual(
    readFileSync(data, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [
      { ...examples[0], eos: true },
      { ...examples[1], eos: false },
    ],
  );
  assert.equal(r.history[0]!.replay_nll, 2.5);
});
