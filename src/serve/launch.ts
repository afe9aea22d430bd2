// Serving M_t for one iteration (the pipeline serves each iterate in turn): either start an
// inference server from a command template and stop it afterwards, or load the iteration's LoRA adapter into
// a server that is already running. Either way the model gets a FRESH served-model name per iteration and
// checkpoint — a reused name would let a server answer from the previous model's prefix cache — and the
// pipeline talks to it through the ordinary remote engine (src/serve/remote.ts).
//
// Command templates are argument lists (no shell), with placeholders {checkpoint}, {port} and {name}; e.g.
// for vLLM on CPU:
//   [.venv-rl/bin/python, -m, vllm.entrypoints.openai.api_server, --model, "{checkpoint}", --port, "{port}",
//    --served-model-name, "{name}", --max-model-len, "1024"]
// The server runs in its own process group, so stopping it (SIGTERM, then SIGKILL after a grace period) also
// stops the worker processes it spawned (vLLM's engine core); a crash of the pipeline kills the group too,
// and so does `kill -9` of the pipeline: a watchdog leads the group (src/serve/tether.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, withRetries } from './retry.js';

export interface ServerTemplate {
  command: string[];
  env: Record<string, string>;
  /** 0: a free port. */
  port: number;
  host: string;
  startup_timeout_s: number;
  /** Remote-engine options appended to the spec (src/serve/spec.ts), e.g. `concurrency=16`. */
  options: string;
}

export interface Served {
  /** The engine spec for openEngine. */
  spec: string;
  name: string;
  url: string;
  stop(): Promise<void>;
}

/** A served-model name that changes with the checkpoint: label + a digest of the checkpoint's files' identity. */
export function servedName(label: string, checkpoint: string): string {
  const h = createHash('sha256').update(path.resolve(checkpoint));
  for (const f of ['manifest.json', 'config.json', 'adapter_config.json']) {
    const p = path.join(checkpoint, f);
    if (existsSync(p)) h.update(f).update(readFileSync(p));
  }
  return `${label}-${h.digest('hex').slice(0, 10)}`;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const live = new Set<ChildProcess>();
let hooked = false;
function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live)
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return r.ok;
  } catch {
    return false;
  }
}

/** Starts a server for `checkpoint` from the template and waits until it answers GET /health and /v1/models. */
export async function startServer(
  t: ServerTemplate,
  checkpoint: string,
  name: string,
  logFile: string,
  log: (s: string) => void = () => {},
): Promise<Served> {
  if (!t.command.length)
    throw new Error('serve.command is empty: give the server command as a list, with {checkpoint}, {port} and {name}');
  const port = t.port || (await freePort(t.host));
  const fill = (s: string) =>
    s
      .replaceAll('{checkpoint}', path.resolve(checkpoint))
      .replaceAll('{port}', String(port))
      .replaceAll('{name}', name);
  const [cmd, ...args] = t.command.map(fill);
  const base = `http://${t.host}:${port}`;
  log(`starting server for ${checkpoint} as '${name}' on ${base} (log ${logFile})`);
  const out = createWriteStream(logFile, { flags: 'a' });
  // the tether (src/serve/tether.ts) leads the group and stops it if this process dies without cleaning up
  const tether = fileURLToPath(new URL('./tether.js', import.meta.url));
  const child = spawn(process.execPath, [tether, String(process.pid), cmd!, ...args], {
    env: { ...process.env, ...t.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  killAllOnExit();
  live.add(child);
  let exited: number | null | undefined;
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  const gone = new Promise<void>((r) =>
    child.on('close', (c) => {
      exited = c;
      live.delete(child);
      r();
    }),
  );
  const stop = async () => {
    if (exited !== undefined) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    const t0 = Date.now();
    while (exited === undefined && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 200));
    if (exited === undefined) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await gone;
    }
    out.end();
  };
  const t0 = Date.now();
  for (;;) {
    if (spawnError) throw new Error(`cannot start the server '${cmd}': ${spawnError.message}`);
    if (exited !== undefined) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n  ') : '';
      throw new Error(
        `the server for ${checkpoint} exited with status ${exited} before it was healthy; log ${logFile}:\n  ${tail}`,
      );
    }
    if ((await healthy(`${base}/health`)) && (await healthy(`${base}/v1/models`))) break;
    if (Date.now() - t0 > t.startup_timeout_s * 1000) {
      await stop();
      throw new Error(
        `the server for ${checkpoint} was not healthy after ${t.startup_timeout_s} s (serve.startup_timeout); ` +
          `log ${logFile}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`server '${name}' healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const opts = [`model=${encodeURIComponent(name)}`, t.options].filter(Boolean).join('&');
  return { spec: `openai:${base}/v1?${opts}`, name, url: `${base}/v1`, stop };
}

/** Loads a LoRA adapter into a running vLLM server (started with --enable-lora and
 *  VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) under a fresh name; unloads it on stop. */
export async function loadAdapter(
  url: string,
  adapter: string,
  name: string,
  options: string,
  headers: Record<string, string> = {},
  log: (s: string) => void = () => {},
): Promise<Served> {
  const root = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  // a dropped connection is retried (seen here: a load after ~5 s of quiet failed with "fetch failed" and
  // never reached vLLM, a pooled keep-alive socket the server had closed); an HTTP answer is not
  const post = (route: string, body: unknown) =>
    withRetries(
      async (n) => {
        const r = await fetch(`${root}/v1/${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(300_000),
        });
        return { ok: r.ok, status: r.status, text: await r.text(), retried: n > 0 };
      },
      { retries: 3, base_ms: 200, max_ms: 2000 },
      (n, e) => log(`${root}/v1/${route}: retry ${n} after ${describe(e)}`),
    );
  const fail = (route: string, r: { status: number; text: string }, hint: string) =>
    new Error(`${root}/v1/${route} answered ${r.status}: ${r.text.slice(0, 300)}. ${hint}`);
  const r = await post('load_lora_adapter', { lora_name: name, lora_path: path.resolve(adapter) });
  if (!r.ok) {
    // vLLM refuses a name it holds (400 "has already been loaded"): a run killed before it unloaded, now
    // resumed. The name is a digest of this checkpoint's path and manifest (servedName), so the server holds
    // these very weights under it; serving them again cannot answer from another model's prefix cache.
    if (r.status === 400 && /already been loaded/.test(r.text))
      log(`adapter '${name}' is still loaded in ${root} (an earlier run did not unload it): using it`);
    else
      throw fail(
        'load_lora_adapter',
        r,
        `Check that ${path.resolve(adapter)} holds a PEFT adapter of the served base, and that the server runs ` +
          `with --enable-lora, --max-lora-rank at least the adapter's r, and ` +
          `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True in its environment`,
      );
  } else log(`loaded the adapter ${path.resolve(adapter)} into ${root} as '${name}'`);
  const opts = [`model=${encodeURIComponent(name)}`, options].filter(Boolean).join('&');
  const stop = async () => {
    const u = await post('unload_lora_adapter', { lora_name: name });
    // a 404 after a retry: the first attempt unloaded it and its answer was lost
    if (!u.ok && !(u.status === 404 && u.retried))
      throw fail(
        'unload_lora_adapter',
        u,
        `The adapter '${name}' was not unloaded (a 404: the server no longer holds it, e.g. it was restarted)`,
      );
  };
  return { spec: `openai:${root}/v1?${opts}`, name, url: `${root}/v1`, stop };
}
