// `psrlm demo` without the shipped initial model fails with a message that says how to build it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { templatesDir } from '../../src/data/templates.js';
import { run } from '../../src/cli/demo.js';

test('demo without assets/models/m1 says to run psrlm pretrain', { skip: existsSync(path.join(path.dirname(templatesDir()), 'assets', 'models', 'm1', 'model.safetensors')) }, async () => {
  const errs: string[] = [];
  const orig = console.error;
  console.error = (s: string) => { errs.push(s); };
  try {
    assert.equal(await run([]), 1);
  } finally {
    console.error = orig;
  }
  assert.match(errs.join('\n'), /no initial model at .*assets\/models\/m1.*psrlm pretrain --out/s);
});
