// Starting a served model from a command template (src/serve/launch.ts), with `psrlm serve` standing in
// for vLLM: it becomes healthy and answers under its fresh name, stop() takes it down, a command that
// cannot start is a clear error, and `kill -9` of the process that started it (a run being interrupted)
// does not leave the server running: its tether (src/serve/tether.ts) stops it. LoRA adapters loaded into a
// running server (loadAdapter) against a stub that answers as vLLM 0.32 does (its messages copied from
// vllm/entrypoints/openai/models/serving.py; test/real/smollm2.test.ts runs the real one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { RemoteEngine } from '../../src/serve/remote.js';
import { loadAdapter, startServer, type ServerTemplate } from '../../src/serve/launch.js';
import { TINY } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const LAUNCH = pathToFileURL(fileURLToPath(new URL('../../src/serve/launch.js', import.meta.url))).href;
const template: ServerTemplate = {
  command: [
    process.execPath,
    CLI,
    'serve',
    '--model',
    '{checkpoint}',
    '--port',
    '{port}',
    '--served-model-name',
    '{name}',
    '--threads',
    '1',
  ],
  env: {},
  port: 0,
  host: '127.0.0.1',
  startup_timeout_s: 60,
  options: '',
};
const up = async (url: string) => {
  try {
    return (await fetch(`${url}/models`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
};

async function fixture(): Promise<{ dir: string; ckpt: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-launch-'));
  const ckpt = path.join(dir, 'tiny');
  const e = EmbeddedEngine.create(TINY, Tokenizer.ascii(), 3);
  await e.save(ckpt);
  await e.close();
  return { dir, ckpt };
}

test(
  'a templated server starts, answers under its name and stops; a bad command is a clear error',
  { timeout: 120_000 },
  async () => {
    const { dir, ckpt } = await fixture();
    try {
      const s = await startServer(template, ckpt, 'tiny-M1-abc', path.join(dir, 'server.log'));
      assert.match(s.spec, /^openai:http:\/\/127\.0\.0\.1:\d+\/v1\?model=tiny-M1-abc$/);
      const models = (await (await fetch(`${s.url}/models`)).json()) as { data: Array<{ id: string }> };
      assert.deepEqual(
        models.data.map((m) => m.id),
        ['tiny-M1-abc'],
      );
      await s.stop();
      assert.equal(await up(s.url), false, 'stopped');
      await assert.rejects(
        startServer({ ...template, command: ['/nonexistent/vllm-server'] }, ckpt, 'x', path.join(dir, 'bad.log')),
        /exited with status 127 before it was healthy[\s\S]*cannot start '\/nonexistent\/vllm-server'/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'kill -9 of the process that started the server: the server does not outlive it',
  { timeout: 120_000 },
  async () => {
    const { dir, ckpt } = await fixture();
    try {
      const code =
        `const { startServer } = await import(${JSON.stringify(LAUNCH)});
      const s = await startServer(${JSON.stringify(template)}, ${JSON.stringify(ckpt)}, ` +
        `'orphan-test', ${JSON.stringify(path.join(dir, 'server.log'))});
      console.log('URL ' + s.url); setInterval(() => {}, 1000);`;
      const pipeline = spawn(process.execPath, ['--input-type=module', '-e', code], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const url = await new Promise<string>((resolve, reject) => {
        let o = '';
        pipeline.stdout!.on('data', (d: Buffer) => {
          o += d.toString();
          const m = /URL (\S+)/.exec(o);
          if (m) resolve(m[1]!);
        });
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
  },
);

/** vLLM's LoRA admin routes and /v1/models as 0.32 answers them; `drop` requests are cut before any answer. */
async function vllmLoraStub(drop: (n: number) => boolean = () => false) {
  const loaded = new Map<string, string>();
  let n = 0;
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      if (drop(n++)) {
        req.socket.destroy();
        return;
      }
      const j = body ? (JSON.parse(body) as { lora_name: string; lora_path: string }) : undefined;
      const send = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': status === 200 ? 'text/plain' : 'application/json' });
        res.end(text);
      };
      const err = (status: number, message: string) =>
        send(
          status,
          JSON.stringify({
            error: { message, type: status === 404 ? 'NotFoundError' : 'InvalidUserInput', code: status },
          }),
        );
      if (req.url === '/v1/models') {
        const cards = [
          { id: 'base', max_model_len: 1024, parent: null },
          ...[...loaded].map(([id, root]) => ({ id, root, max_model_len: null, parent: 'base' })),
        ];
        return send(200, JSON.stringify({ object: 'list', data: cards }));
      }
      if (req.url === '/v1/load_lora_adapter') {
        if (j!.lora_path.endsWith('broken')) return err(500, 'No adapter found for /x/broken');
        if (loaded.has(j!.lora_name))
          return err(
            400,
            `The lora adapter '${j!.lora_name}' has already been loaded. If you want to load the adapter in ` +
              `place, set 'load_inplace' to True.`,
          );
        loaded.set(j!.lora_name, j!.lora_path);
        return send(200, `Success: LoRA adapter '${j!.lora_name}' added successfully.`);
      }
      if (req.url === '/v1/unload_lora_adapter') {
        if (!loaded.delete(j!.lora_name)) return err(404, `The lora adapter '${j!.lora_name}' cannot be found.`);
        return send(200, `Success: LoRA adapter '${j!.lora_name}' removed successfully.`);
      }
      err(404, 'Not Found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, loaded, server };
}

test(
  'LoRA adapters in a running server: fresh name, context from the base, a name still held is used, unload, ' +
    'clear errors',
  async () => {
    const stub = await vllmLoraStub();
    try {
      const said: string[] = [];
      const a = await loadAdapter(stub.url, 'rel/m2', 'psrlm-M2-abc', 'concurrency=4', {}, (l) => said.push(l));
      assert.equal(a.spec, `openai:${stub.url}?model=psrlm-M2-abc&concurrency=4`);
      assert.deepEqual(
        [...stub.loaded],
        [['psrlm-M2-abc', path.resolve('rel/m2')]],
        'the adapter path goes as an absolute path',
      );
      assert.match(said[0]!, /loaded the adapter .*rel\/m2 into http:\/\/127\.0\.0\.1:\d+ as 'psrlm-M2-abc'/);
      // vLLM lists an adapter with max_model_len null: its context is its parent's
      const e = await RemoteEngine.open(a.spec);
      assert.equal(e.contextTokens, 1024);
      await e.close();
      // a run killed before it unloaded, resumed: the same name (same checkpoint) is still held and used
      const again = await loadAdapter(stub.url, 'rel/m2', 'psrlm-M2-abc', '', {}, (l) => said.push(l));
      assert.match(said[1]!, /adapter 'psrlm-M2-abc' is still loaded in .*: using it/);
      await again.stop();
      assert.equal(stub.loaded.size, 0);
      await assert.rejects(
        a.stop(),
        /unload_lora_adapter answered 404: .*cannot be found.*was not unloaded \(a 404: the server no longer holds it/,
      );
      await assert.rejects(
        loadAdapter(stub.url, '/x/broken', 'psrlm-M3-def', ''),
        new RegExp(
          String.raw`load_lora_adapter answered 500: .*No adapter found.*` +
            String.raw`\/x\/broken holds a PEFT adapter of the served base.*` +
            String.raw`--enable-lora, --max-lora-rank at least the adapter's r.*VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`,
        ),
      );
    } finally {
      stub.server.close();
    }
    // a connection cut before any answer is retried; the load happens once
    const flaky = await vllmLoraStub((n) => n === 0);
    try {
      const said: string[] = [];
      const a = await loadAdapter(flaky.url, '/m1', 'psrlm-M1-abc', '', {}, (l) => said.push(l));
      assert.match(said[0]!, /load_lora_adapter: retry 1 after fetch failed/);
      assert.deepEqual([...flaky.loaded.keys()], ['psrlm-M1-abc']);
      await a.stop();
    } finally {
      flaky.server.close();
    }
  },
);
