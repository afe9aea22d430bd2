// Fixtures for the serving tests: a tiny random checkpoint in a temporary directory, a server on an
// ephemeral loopback port, and a fault-injecting proxy to put between a client and that server.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { serve, type RunningServer, type ServeOptions } from '../../src/serve/server.js';

export const TINY = { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 128 };

export interface Fixture {
  dir: string;
  ckpt: string;
  engine: EmbeddedEngine;
  server: RunningServer;
  close(): Promise<void>;
}

/** Saves a tiny random model, loads it back and serves it on 127.0.0.1:<ephemeral>. */
export async function startFixture(over: Partial<ServeOptions> = {}, seed = 11): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-serve-'));
  const ckpt = path.join(dir, 'tiny');
  const made = EmbeddedEngine.create(TINY, Tokenizer.ascii(), seed);
  await made.save(ckpt);
  await made.close();
  const engine = EmbeddedEngine.load(ckpt);
  const server = await serve({ engine, model: 'tiny', ...over });
  return {
    dir,
    ckpt,
    engine,
    server,
    async close() {
      await server.close(2000);
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Fault = 'ok' | 'error500' | 'error429' | 'stall' | 'reset' | 'cut' | 'malformed' | 'late502';

export interface ProxyEntry {
  n: number;
  path: string;
  body: unknown;
  fault: Fault;
  /** The request reached the server (which then did the work, whether or not the answer got through). */
  forwarded: boolean;
}

export interface FaultProxy {
  url: string;
  log: ProxyEntry[];
  counts: Record<Fault, number>;
  close(): Promise<void>;
}

/**
 * An HTTP proxy to `upstream` (http://host:port) that answers the n-th POST with `schedule(n)`:
 * error500 / error429 (without forwarding), stall (never answer), reset (drop the connection), cut
 * (forward, then send half the answer and drop the connection), malformed (forward, answer 200 with
 * truncated JSON), late502 (forward, then answer 502). GETs always pass.
 */
export async function startFaultProxy(upstream: string, schedule: (n: number) => Fault): Promise<FaultProxy> {
  const up = new URL(upstream);
  const log: ProxyEntry[] = [];
  const counts = { ok: 0, error500: 0, error429: 0, stall: 0, reset: 0, cut: 0, malformed: 0, late502: 0 } as Record<
    Fault,
    number
  >;
  const sockets = new Set<Socket>();
  let posts = 0;

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; data: Buffer }> =>
    new Promise((resolve, reject) => {
      const r = request(
        {
          host: up.hostname,
          port: up.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: up.host },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 500,
              headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') },
              data: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const fault: Fault = req.method === 'POST' ? schedule(++posts) : 'ok';
      counts[fault]++;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const entry: ProxyEntry = { n: posts, path: req.url ?? '', body: parsed, fault, forwarded: false };
      if (req.method === 'POST') log.push(entry);
      const send = (
        status: number,
        data: Buffer | string,
        headers: Record<string, string> = { 'content-type': 'application/json' },
      ) => {
        res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(data) });
        res.end(data);
      };
      if (fault === 'error500') return send(500, '{"error":{"message":"injected 500"}}');
      if (fault === 'error429')
        return send(429, '{"error":{"message":"injected 429"}}', {
          'content-type': 'application/json',
          'retry-after': '0',
        });
      if (fault === 'stall') return; // the client's deadline ends it
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      entry.forwarded = true;
      forward(req, body).then(
        (r) => {
          if (fault === 'ok') return send(r.status, r.data, r.headers);
          if (fault === 'late502') return send(502, '{"error":{"message":"injected 502 after the server answered"}}');
          if (fault === 'malformed') return send(200, r.data.subarray(0, Math.floor(r.data.length / 2)));
          // cut: promise the whole body, deliver half, drop the connection
          res.writeHead(200, { ...r.headers, 'content-length': r.data.length });
          res.write(r.data.subarray(0, Math.floor(r.data.length / 2)), () => req.socket.destroy());
        },
        () => req.socket.destroy(),
      );
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    log,
    counts,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A loopback port with nothing listening on it (connections are refused). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Raw HTTP exchange (for bodies no client library would send). */
export function rawRequest(
  url: string,
  method: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const r = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}
