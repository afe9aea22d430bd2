// The PyTorch reference (reference/README.md) is part of `npm test`: this builds its Python environment if
// needed (scripts/python-env.mjs, never skipped: a missing python3 fails with install instructions), runs
// its own unittest suite (model vs engine.md, gradients vs finite differences, KV cache, checkpoint format,
// losses, AdamW, the oracle), and calls the oracle once the way engine tests will: as a subprocess.
import { test } from 'node:test';
import { python, ROOT } from './env.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

test('the PyTorch reference passes its own tests', { timeout: 20 * 60_000 }, async () => {
  const py = await python();
  const r = spawnSync(py, ['-m', 'unittest', 'discover', '-s', 'reference/tests'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, `python -m unittest failed:\n${r.stderr}\n${r.stdout}`);
  assert.match(r.stderr, /\nOK/);
});

test(
  'the oracle answers a request from Node (subprocess, result.json, exit status)',
  { timeout: 20 * 60_000 },
  async () => {
    const py = await python();
    const tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-oracle-'));
    try {
      writeFileSync(
        path.join(tmp, 'tokenizer.json'),
        JSON.stringify({
          type: 'psrlm-char',
          version: 1,
          tokens: ['<|eos|>', '<|pad|>', '1', '2', '12', '+'],
          special: { eos: 0, pad: 1 },
        }),
      );
      writeFileSync(
        path.join(tmp, 'req.json'),
        JSON.stringify({
          kind: 'encode',
          tokenizer: 'tokenizer.json',
          texts: ['12+1', '<|eos|>'],
        }),
      );
      // from a foreign working directory: the venv's .pth file makes psrlm_ref importable anywhere
      const r = spawnSync(py, ['-m', 'psrlm_ref.oracle', 'req.json', 'out'], { cwd: tmp, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(readFileSync(path.join(tmp, 'out', 'result.json'), 'utf8'));
      assert.equal(res.ok, true);
      assert.deepEqual(res.results[0], { ids: [4, 5, 2] });
      assert.match(res.results[1].error, /cannot encode character '<'/);
      writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ kind: 'forward' }));
      const bad = spawnSync(py, ['-m', 'psrlm_ref.oracle', 'bad.json', 'out2'], { cwd: tmp, encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(
        JSON.parse(readFileSync(path.join(tmp, 'out2', 'result.json'), 'utf8')).error,
        /'checkpoint' is required/,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
