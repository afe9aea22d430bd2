// The TRL bridge's Python tests (trainer/tests): the label tensors TRL's own collators build from the bridge's
// data — no EOS after a non-final step, EOS after a final one, loss on completions only — the
// token-boundary contract catching drift, and the bridge on two real ranks (test_ranks.py). The environment
// (.venv-rl) is created when missing, never skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test(
  'TRL bridge: label tensors and the token-boundary contract (python -m unittest trainer/tests)',
  { timeout: 900_000 },
  async () => {
    const mod = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'python-env.mjs')).href)) as {
      pythonEnv: (n: string) => Promise<{ python: string }>;
    };
    const { python } = await mod.pythonEnv('rl');
    const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', path.join(ROOT, 'trainer', 'tests'), '-v'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TQDM_DISABLE: '1' },
    });
    assert.equal(r.status, 0, r.stderr.slice(-4000));
    const ran = Number(/Ran (\d+) tests/.exec(r.stderr)?.[1] ?? 0);
    assert.ok(ran >= 13, `expected the 13 tests of trainer/tests at least, ran ${ran}`);
    assert.doesNotMatch(r.stderr, /skipped/);
  },
);
