// Starting a served model from a command template (src/serve/launch.ts), with `psrlm serve` standing in
// for vLLM: it becomes healthy and answers under its fresh name, stop() takes it down, a command that
// cannot start is a clear error, and `kill -9` of the process that started it (a run being interrupted)
// does not leave the server running: its tether (src/serve/tether.ts) stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { startServer, type ServerTemplate } from '../../src/serve/launch.js';
import { TINY } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const LAUNCH = pathToFileURL(fileURLToPath(new URL('../../src/serve/launch.js', import.meta.url))).href;
const template: ServerTemplate = { command: [process.execPath, CLI, 'serve', '--model', '{checkpoint}', '--port', '{port}', '--served-model-name', '{name}', '--threads', '1'], env: {}, port: 0, host: '127.0.0.1', startup_timeout_s: 60, options: '' };
const up = async (url: string) => { try { return (await fetch(`${url}/models`, { signal: AbortSignal.timeout(2000) })).ok; } catch { return false; } };

async function fixture(): Promise<{ dir: string; ckpt: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-launch-'));
  const ckpt = path.join(dir, 'tiny');
  const e = EmbeddedEngine.create(TINY, Tokenizer.ascii(), 3);
  await e.save(ckpt);
  await e.close();
  return { dir, ckpt };
}

test('a templated server starts, answers under its name and stops; a bad command is a clear error', { timeout: 120_000 }, async () => {
  const { dir, ckpt } = await fixture();
  try {
    const s = await startServer(template, ckpt, 'tiny-M1-abc', path.join(dir, 'server.log'));
    assert.match(s.spec, /^openai:http:\/\/127\.0\.0\.1:\d+\/v1\?model=tiny-M1-abc$/);
    const models = (await (await fetch(`${s.url}/models`)).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(models.data.map((m) => m.id), ['tiny-M1-abc']);
    await s.stop();
    assert.equal(await up(s.url), false, 'stopped');
    await assert.rejects(startServer({ ...template, command: ['/nonexistent/vllm-server'] }, ckpt, 'x', path.join(dir, 'bad.log')),
      /exited with status 127 before it was healthy[\s\S]*cannot start '\/nonexistent\/vllm-server'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 of the process that started the server: the server does not outlive it', { timeout: 120_000 }, async () => {
  const { dir, ckpt } = await fixture();
  try {
    const code = `const { startServer } = await import(${JSON.stringify(LAUNCH)});
      const s = await startServer(${JSON.stringify(template)}, ${JSON.stringify(ckpt)}, 'orphan-test', ${JSON.stringify(path.join(dir, 'server.log'))});
      console.log('URL ' + s.url); setInterval(() => {}, 1000);`;
    const pipeline = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let o = '';
      pipeline.stdout!.on('data', (d: Buffer) => { o += d.toString(); const m = /URL (\S+)/.exec(o); if (m) resolve(m[1]!); });
      pipeline.on('exit', (c) => reject(new Error(`the starter exited (${c}) before the server was up`)));
    });
    assert.equal(await up(url), true);
    pipeline.kill('SIGKILL');
    const t0 = Date.now();
    while (await up(url)) {
      assert.ok(Date.now() - t0 < 30_000, 'the server was still answering 30 s after its starter was killed');
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
