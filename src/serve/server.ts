// `psrlm serve`: the embedded engine behind an OpenAI-compatible HTTP API, on node:http (no framework:
// five routes do not need one). This file is the HTTP side: routing, the optional bearer key, bounded
// body reading, JSON and server-sent-event responses, errors in OpenAI's shape, and graceful shutdown.
// What the endpoints compute is in endpoints.ts; validation in protocol.ts; continuous batching in batcher.ts.
//
// Robustness rules: every request ends in a response (a thrown error becomes a 4xx/5xx body, never a
// crash); bodies are capped before they are parsed; when too many requests wait for the engine, 429;
// close() stops accepting, answers 503 to new requests on open connections, lets running requests finish,
// then closes the sockets.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmbeddedEngine } from '../engine/embedded.js';
import { Batcher, QueueFullError } from './batcher.js';
import { chat, completions, type EndpointContext, type StreamSink } from './endpoints.js';
import { ApiError, DEFAULT_LIMITS, parseBody, parseChat, parseCompletion, type Limits } from './protocol.js';
import { errorBody, now, type VocabView } from './shapes.js';

export interface ServeOptions {
  engine: EmbeddedEngine;
  /** The name clients pass as `model`. */
  model: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0: an ephemeral port (read it from the result). */
  port?: number;
  /** Require "Authorization: Bearer <key>" on /v1/*. */
  apiKey?: string;
  limits?: Partial<Limits>;
  /** Requests waiting for the engine before new ones get 429 (default 1024). */
  max_queue?: number;
  /** Samples (prompts × n over all requests) decoding at once (default 512); more requests wait. */
  max_batch_samples?: number;
  /** Where to write a line per failed request and lifecycle events (default: nowhere). */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** Base URL of the API, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  host: string;
  port: number;
  batcher: Batcher;
  /** Stop accepting, finish running requests (up to graceMs, then cut them), close sockets. */
  close(graceMs?: number): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const engine = opts.engine;
  const tokenizer = engine.tokenizer;
  const vocab: VocabView = { tokens: tokenizer.tokens, special: new Set([tokenizer.eos, tokenizer.pad]) };
  const batcher = new Batcher(engine, {
    max_queue: opts.max_queue ?? 1024,
    max_batch_samples: opts.max_batch_samples ?? 512,
  });
  const ctx: EndpointContext = { batcher, tokenizer, vocab, nCtx: engine.config.n_ctx, model: opts.model, limits };
  const log = opts.log ?? (() => undefined);
  const created = now();
  const keyHash = opts.apiKey !== undefined ? createHash('sha256').update(opts.apiKey).digest() : undefined;
  let closing = false;
  let inflight = 0;
  let onDrained: (() => void) | undefined;

  const modelCard = () => ({
    id: opts.model,
    object: 'model',
    created,
    owned_by: 'psrlm',
    root: opts.model,
    parent: null,
    max_model_len: ctx.nCtx,
  });

  function authorized(req: IncomingMessage): boolean {
    if (!keyHash) return true;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]!.trim()).digest(), keyHash);
  }

  function sendJSON(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    if (res.headersSent) return;
    const data = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(data),
      ...(closing ? { Connection: 'close' } : {}),
      ...extra,
    });
    res.end(data);
  }

  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > limits.max_body_bytes) {
        reject(
          new ApiError(
            413,
            `the request body is ${declared} bytes; this server accepts at most ${limits.max_body_bytes} (psrlm ` +
              `serve --max-body-bytes)`,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limits.max_body_bytes) {
          reject(
            new ApiError(
              413,
              `the request body exceeds ${limits.max_body_bytes} bytes, this server's limit (psrlm serve ` +
                `--max-body-bytes)`,
            ),
          );
          req.removeAllListeners('data');
          req.resume();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  function sseSink(res: ServerResponse): StreamSink {
    return {
      start: () => {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-cache',
          ...(closing ? { Connection: 'close' } : {}),
        });
        res.flushHeaders();
      },
      send: (chunk) => {
        if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      },
      end: () => {
        if (!res.writableEnded) res.end('data: [DONE]\n\n');
      },
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (p === '/health') {
      res.writeHead(200, { 'Content-Length': 0 }).end();
      return;
    }
    const routes: Record<string, string> = {
      '/v1/models': 'GET',
      '/v1/completions': 'POST',
      '/v1/chat/completions': 'POST',
      '/v1/psrlm/tokenizer': 'GET',
    };
    const modelPath = /^\/v1\/models\/(.+)$/.exec(p);
    const allowed = routes[p] ?? (modelPath ? 'GET' : undefined);
    if (!allowed)
      throw new ApiError(
        404,
        `no route ${method} ${p}; this server has GET /v1/models, POST /v1/completions, POST /v1/chat/completions`,
      );
    if (method !== allowed) {
      res.setHeader('Allow', allowed);
      throw new ApiError(405, `${p} takes ${allowed}, not ${method}`);
    }
    if (!authorized(req))
      throw new ApiError(
        401,
        'missing or wrong API key: send the header "Authorization: Bearer <key>" with the key psrlm serve was ' +
          'started with',
      );
    if (modelPath) {
      const id = decodeURIComponent(modelPath[1]!);
      if (id !== opts.model)
        throw new ApiError(
          404,
          `the model '${id}' does not exist; this server serves '${opts.model}'`,
          'model',
          'model_not_found',
        );
      sendJSON(res, 200, modelCard());
      return;
    }
    if (p === '/v1/models') {
      sendJSON(res, 200, { object: 'list', data: [modelCard()] });
      return;
    }
    if (p === '/v1/psrlm/tokenizer') {
      sendJSON(res, 200, tokenizer.toJSON());
      return;
    }
    const body = parseBody(await readBody(req));
    const isChat = p === '/v1/chat/completions';
    const parsed = isChat ? parseChat(body, limits) : parseCompletion(body, limits);
    const sink = parsed.stream ? sseSink(res) : undefined;
    try {
      const out =
        parsed.kind === 'chat' ? await chat(ctx, parsed, signal, sink) : await completions(ctx, parsed, signal, sink);
      if (!sink) sendJSON(res, 200, out);
    } catch (e) {
      if (!sink || !res.headersSent) throw e;
      // mid-stream: the status is gone already, so the error travels as an event (vLLM does the same)
      const err = e instanceof ApiError ? e : new ApiError(500, `generation failed: ${(e as Error).message}`);
      sink.send(errorBody(err));
      sink.end();
    }
  }

  const server = createServer(
    { requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      if (closing) {
        sendJSON(res, 503, errorBody(new ApiError(503, 'the server is shutting down; retry against another endpoint')));
        return;
      }
      inflight++;
      const ac = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) ac.abort(); // the client went away before the answer was complete
        if (--inflight === 0 && onDrained) onDrained();
      });
      route(req, res, ac.signal).catch((e: unknown) => {
        let err: ApiError;
        if (e instanceof ApiError) err = e;
        else if (e instanceof QueueFullError) err = new ApiError(429, e.message);
        else {
          err = new ApiError(500, `internal error: ${(e as Error)?.message ?? String(e)}`);
          log(`psrlm serve: ${req.method} ${req.url} failed: ${(e as Error)?.stack ?? String(e)}`);
        }
        if (err.status === 413) res.setHeader('Connection', 'close');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendJSON(res, err.status, errorBody(err), err.status === 429 ? { 'Retry-After': '1' } : {});
      });
    },
  );
  server.on('clientError', (err, socket) => {
    // malformed HTTP (not malformed JSON): answer 400 if the socket still can, then drop it
    if (socket.writable && !(err as NodeJS.ErrnoException).code?.startsWith('ECONNRESET')) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' +
          JSON.stringify(errorBody(new ApiError(400, `malformed HTTP request: ${err.message}`))),
      );
    } else socket.destroy();
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${urlHost}:${addr.port}/v1`,
    host: addr.address,
    port: addr.port,
    batcher,
    async close(graceMs = 30_000): Promise<void> {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inflight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => {
            onDrained = r;
          }),
          new Promise<void>((r) => {
            timer = setTimeout(r, graceMs);
          }),
        ]);
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await batcher.idle();
      await closed;
      log('psrlm serve: stopped');
    },
  };
}
