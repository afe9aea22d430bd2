// kill -9 at any moment, then the same command: the run resumes and ends with the same artifacts as an
// uninterrupted run, byte for byte (every file but timings.json, engine_tokens.json and report.html, which
// hold wall times and token counts). The CLI runs as a child process; the interrupted run is killed with
// SIGKILL as soon as its first search records appear (mid-search), and again later mid-iteration-2, then
// rerun to the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyM1 } from './tiny.js';
import { files, measuredOnly } from './artifacts.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function runCli(cfg: string, out: string): void {
  const r = spawnSync(process.execPath, [CLI, 'run', cfg, '--out', out, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `psrlm run failed: ${r.stderr}`);
}

/** Starts the run and SIGKILLs it once `ready()` holds; resolves with whether it was killed before finishing. */
function killWhen(cfg: string, out: string, ready: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run', cfg, '--out', out, '--quiet'], { stdio: 'ignore' });
    let killed = false;
    const poll = setInterval(() => {
      if (!killed && ready()) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 2);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      resolve(signal === 'SIGKILL');
    });
  });
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').length - 1 : 0);

test(
  'a run killed with SIGKILL and rerun equals an uninterrupted run, byte for byte',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-resume-'));
    try {
      await tinyM1(path.join(dir, 'm1'));
      const cfg = path.join(dir, 'run.yaml');
      writeFileSync(
        cfg,
        [
          'seed: 3',
          'model: m1',
          'iterations: 2',
          'problems: [12, 8]',
          'search: { candidates: 3, max_step_tokens: 16, judge_max_tokens: 8, both_orders: false, max_steps: 3, ' +
            'max_rollbacks: 1, batch_problems: 2 }',
          'dpo: { batch_size: 4, lr: 0.001 }',
          'health: { prefixes: 2 }',
          'eval: { problems: 2, judge: 2, max_tokens: 24 }',
          'threads: 1',
          '',
        ].join('\n'),
      );
      const A = path.join(dir, 'A'),
        B = path.join(dir, 'B');
      runCli(cfg, A);
      // the uninterrupted run made pairs and trained on them in both iterations (the test is not vacuous)
      for (const t of [1, 2])
        assert.ok(lines(path.join(A, `iter-${t}`, 'pairs.jsonl')) > 0, `iteration ${t} has pairs`);

      const killed1 = await killWhen(cfg, B, () => lines(path.join(B, 'iter-1', 'samples.jsonl')) >= 1);
      assert.ok(killed1, 'the first run was killed before it finished');
      assert.ok(!existsSync(path.join(B, 'iter-1', 'done', 'search')), 'killed mid-search');
      // a second kill mid-iteration-2 when the poll catches it (on a fast machine the run may finish first)
      await killWhen(cfg, B, () => lines(path.join(B, 'iter-2', 'samples.jsonl')) >= 2);
      runCli(cfg, B);

      const fa = files(A).filter(measuredOnly),
        fb = files(B).filter(measuredOnly);
      assert.deepEqual(fb, fa);
      for (const f of fa)
        assert.ok(readFileSync(path.join(A, f)).equals(readFileSync(path.join(B, f))), `${f} differs`);
      // a finished run, run again, changes nothing and says so
      runCli(cfg, B);
      // and a different config is refused rather than mixed into the run
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('seed: 3', 'seed: 4'));
      const r = spawnSync(process.execPath, [CLI, 'run', cfg, '--out', B, '--quiet'], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /different config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
