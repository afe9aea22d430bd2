// kill -9 in the middle of M1's training, then the same `psrlm pretrain` command: the stage resumes from
// its last training snapshot (not from step 0, and M0 is reused) and the run ends with the same
// model.safetensors and curve.json for every stage as an uninterrupted run, byte for byte. The CLI runs
// as a child process, killed with SIGKILL as soon as M1's first snapshot is on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/engine/safetensors.js';
import { SNAPSHOT_FILE } from '../../src/engine/snapshot.js';
import { DEFAULT_PRETRAIN, type PretrainConfig } from '../../src/train/pretrain.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

// M1 in steps of one example (276 steps of a few milliseconds: 40 IFT + 40 EFT + 12 single checks, 3 epochs),
// so the kill lands well inside it
const cfg: PretrainConfig = {
  ...DEFAULT_PRETRAIN,
  model: { n_layer: 2, n_embd: 48, n_head: 2, n_ctx: 512 },
  data_scale: 0.002,
  m0: { ...DEFAULT_PRETRAIN.m0, batch_size: 8 },
  m1: { ...DEFAULT_PRETRAIN.m1, batch_size: 1, epochs: 3 },
  srlm: { ...DEFAULT_PRETRAIN.srlm, stage: { ...DEFAULT_PRETRAIN.srlm.stage, batch_size: 8, epochs: 2 } },
  eval: { problems: 2, judge: 2 },
  snapshot_every: 10,
};

function pretrainCli(cfgFile: string, out: string): string {
  const r = spawnSync(process.execPath, [CLI, 'pretrain', '--config', cfgFile, '--out', out, '--quiet'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `psrlm pretrain failed: ${r.stderr}`);
  return r.stderr;
}

test(
  'pretrain killed with SIGKILL mid-M1 and rerun resumes M1 from its snapshot and equals an uninterrupted run',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-ptr-'));
    try {
      const cfgFile = path.join(dir, 'pretrain.json');
      writeFileSync(cfgFile, JSON.stringify(cfg));
      const A = path.join(dir, 'A'),
        B = path.join(dir, 'B');
      pretrainCli(cfgFile, A);
      for (const stage of ['m0', 'm1', 'm1-srlm'])
        assert.ok(!existsSync(path.join(A, `${stage}.partial`)), `${stage}.partial is removed once the stage is saved`);

      const snap = path.join(B, 'm1.partial', SNAPSHOT_FILE);
      const killed = await new Promise<boolean>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'pretrain', '--config', cfgFile, '--out', B, '--quiet'], {
          stdio: 'ignore',
        });
        let sent = false;
        const poll = setInterval(() => {
          if (!sent && existsSync(snap)) {
            sent = true;
            child.kill('SIGKILL');
          }
        }, 2);
        child.on('exit', (_code, signal) => {
          clearInterval(poll);
          resolve(signal === 'SIGKILL');
        });
      });
      assert.ok(killed, 'the first run was killed before it finished');
      assert.ok(
        existsSync(path.join(B, 'm0', 'model.safetensors')) && !existsSync(path.join(B, 'm1', 'model.safetensors')),
        'killed during M1',
      );
      const st = JSON.parse(readSafetensors(snap).metadata.state!) as { step: number; steps: number };
      assert.equal(st.steps, 276);
      assert.ok(st.step >= 10 && st.step < st.steps, `killed mid-M1 (snapshot at step ${st.step} of ${st.steps})`);

      const log = pretrainCli(cfgFile, B);
      assert.match(log, /M0 already built/);
      assert.match(log, new RegExp(`resuming M1 from step ${st.step} of 276`));
      assert.doesNotMatch(log, /ignoring it/);
      for (const stage of ['m0', 'm1', 'm1-srlm']) {
        for (const f of ['model.safetensors', 'curve.json', 'config.json', 'tokenizer.json']) {
          assert.ok(
            readFileSync(path.join(A, stage, f)).equals(readFileSync(path.join(B, stage, f))),
            `${stage}/${f} differs from the uninterrupted run`,
          );
        }
        assert.ok(!existsSync(path.join(B, `${stage}.partial`)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
