// `psrlm serve --model <checkpoint>`: serves an embedded checkpoint over the OpenAI API until SIGINT or
// SIGTERM, then finishes the requests in flight and exits 0. Prints the API's base URL on stdout once it
// listens (scripts and the benchmark read that line).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddedEngine } from '../engine/embedded.js';
import { DEFAULT_LIMITS } from '../serve/protocol.js';
import { serve } from '../serve/server.js';

const HELP = `usage: psrlm serve --model <checkpoint dir> [options]

Serves the checkpoint over an OpenAI-compatible API (docs/serving.md).

options:
  --model DIR               checkpoint directory (config.json, model.safetensors, tokenizer.json)
  --served-model-name NAME  the model name clients send (default: the directory's name)
  --host HOST               address to listen on (default 127.0.0.1, loopback only)
  --port N                  port (default 8000; 0 picks a free one)
  --api-key KEY             require "Authorization: Bearer KEY" (or set PSRLM_API_KEY)
  --threads N               engine threads, 1 or 2 (default 2)
  --max-body-bytes N        largest request body (default ${DEFAULT_LIMITS.max_body_bytes})
  --max-tokens N            largest max_tokens accepted (default ${DEFAULT_LIMITS.max_tokens})
  --max-n N                 largest n (default ${DEFAULT_LIMITS.max_n})
  --max-queue N             waiting requests before answering 429 (default 1024)
  --grace-seconds S         on SIGINT/SIGTERM, time given to running requests (default 30)`;

function posInt(v: string | undefined, name: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      'served-model-name': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      'api-key': { type: 'string' },
      threads: { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'max-tokens': { type: 'string' },
      'max-n': { type: 'string' },
      'max-queue': { type: 'string' },
      'grace-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(HELP); return 0; }
  if (!values.model) { console.error(`psrlm serve: --model is required.\n\n${HELP}`); return 2; }
  const dir = values.model;
  if (!existsSync(path.join(dir, 'model.safetensors'))) {
    console.error(`psrlm serve: '${dir}' is not a checkpoint directory (no model.safetensors in it); pass the directory an engine saved.`);
    return 2;
  }
  const port = posInt(values.port, 'port', 8000, 0);
  if (port > 65535) throw new Error(`--port must be at most 65535, got ${port}`);
  const threads = posInt(values.threads, 'threads', 2);
  if (threads > 2) throw new Error(`--threads must be 1 or 2, got ${threads}`);
  const apiKey = values['api-key'] ?? (process.env.PSRLM_API_KEY || undefined);
  const host = values.host!;
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  if (!loopback && apiKey === undefined) {
    console.error(`psrlm serve: warning: listening on ${host} without --api-key; anyone who can reach it can use the model.`);
  }
  const engine = EmbeddedEngine.load(dir, { threads });
  const model = values['served-model-name'] ?? path.basename(path.resolve(dir));
  const server = await serve({
    engine, model, host, port, apiKey,
    limits: {
      max_body_bytes: posInt(values['max-body-bytes'], 'max-body-bytes', DEFAULT_LIMITS.max_body_bytes),
      max_tokens: posInt(values['max-tokens'], 'max-tokens', DEFAULT_LIMITS.max_tokens),
      max_n: posInt(values['max-n'], 'max-n', DEFAULT_LIMITS.max_n),
    },
    max_queue: posInt(values['max-queue'], 'max-queue', 1024),
    log: (line) => console.error(line),
  });
  console.log(`psrlm serve: model '${model}' (n_ctx ${engine.config.n_ctx}) on ${server.url}`);
  const grace = Number(values['grace-seconds'] ?? 30) * 1000;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) { console.error(`psrlm serve: ${sig} again, exiting now`); process.exit(130); }
      stopping = true;
      console.error(`psrlm serve: ${sig}: finishing running requests (up to ${grace / 1000} s), then exiting`);
      server.close(grace).then(resolve, resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  await engine.close();
  return 0;
}
