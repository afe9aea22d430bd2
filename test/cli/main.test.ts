// The command table: unknown commands and bare invocations fail with a usage message, not a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';

test('unknown command exits 2 and lists the commands', async () => {
  const errs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => {
    errs.push(a.join(' '));
  };
  try {
    assert.equal(await main(['no-such-command']), 2);
  } finally {
    console.error = orig;
  }
  assert.match(errs.join('\n'), /unknown command 'no-such-command'/);
  assert.match(errs.join('\n'), /demo/);
});
