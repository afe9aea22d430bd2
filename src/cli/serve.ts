// `psrlm serve --model <checkpoint>`: serves an embedded checkpoint over the OpenAI API until SIGINT or
// SIGTERM, then finishes the requests in flight and exits 0. Prints the API's base URL on stdout once it
// listens (scripts and the benchmark read that line).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedEngine } from '../engine/embedded.js';
import { DEFAULT_LIMITS } from '../serve/protocol.js';
import { serve } from '../serve/server.js';
import { command, UsageError } from './args.js';

export const run = command(
  {
    name: 'serve',
    summary: 'serve a checkpoint over an OpenAI-compatible HTTP API',
    description: 'Serves the checkpoint over an OpenAI-compatible API (docs/serving.md) until SIGINT or SIGTERM.',
    flags: {
      model: {
        type: 'path',
        exists: 'dir',
        required: true,
        metavar: 'DIR',
        help: 'checkpoint directory (config.json, model.safetensors, tokenizer.json)',
      },
      'served-model-name': {
        type: 'string',
        metavar: 'NAME',
        defaultHelp: "the directory's name",
        help: 'the model name clients send',
      },
      host: {
        type: 'string',
        default: '127.0.0.1',
        metavar: 'HOST',
        help: 'address to listen on (127.0.0.1: loopback only)',
      },
      port: { type: 'int', min: 0, max: 65535, default: 8000, help: 'port (0 picks a free one)' },
      'api-key': { type: 'string', metavar: 'KEY', help: 'require "Authorization: Bearer KEY" (or set PSRLM_API_KEY)' },
      threads: { type: 'int', min: 1, max: 2, default: 2, help: 'engine threads' },
      'max-body-bytes': { type: 'int', min: 1, default: DEFAULT_LIMITS.max_body_bytes, help: 'largest request body' },
      'max-tokens': { type: 'int', min: 1, default: DEFAULT_LIMITS.max_tokens, help: 'largest max_tokens accepted' },
      'max-n': { type: 'int', min: 1, default: DEFAULT_LIMITS.max_n, help: 'largest n' },
      'max-queue': { type: 'int', min: 1, default: 1024, help: 'waiting requests before answering 429' },
      'grace-seconds': {
        type: 'number',
        min: 0,
        default: 30,
        metavar: 'S',
        help: 'on SIGINT/SIGTERM, time given to running requests',
      },
    },
  },
  async ({ values }) => {
    const dir = values.model;
    if (!existsSync(path.join(dir, 'model.safetensors'))) {
      throw new UsageError(
        `--model must be a checkpoint directory, got '${dir}' (no model.safetensors in it); ` +
          'pass the directory an engine saved',
      );
    }
    const { port, threads } = values;
    const apiKey = values['api-key'] ?? (process.env.PSRLM_API_KEY || undefined);
    const host = values.host;
    const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
    if (!loopback && apiKey === undefined) {
      console.error(
        `psrlm serve: warning: listening on ${host} without --api-key; anyone who can reach it can use the model.`,
      );
    }
    const engine = EmbeddedEngine.load(dir, { threads });
    const model = values['served-model-name'] ?? path.basename(path.resolve(dir));
    const server = await serve({
      engine,
      model,
      host,
      port,
      apiKey,
      limits: { max_body_bytes: values['max-body-bytes'], max_tokens: values['max-tokens'], max_n: values['max-n'] },
      max_queue: values['max-queue'],
      log: (line) => console.error(line),
    });
    console.log(`psrlm serve: model '${model}' (n_ctx ${engine.config.n_ctx}) on ${server.url}`);
    const grace = values['grace-seconds'] * 1000;
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) {
          console.error(`psrlm serve: ${sig} again, exiting now`);
          process.exit(130);
        }
        stopping = true;
        console.error(`psrlm serve: ${sig}: finishing running requests (up to ${grace / 1000} s), then exiting`);
        server.close(grace).then(resolve, resolve);
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    await engine.close();
    return 0;
  },
);
