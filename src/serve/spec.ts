// The engine spec of remote engines (src/serve/registry.ts hands `openai:` specs here):
//
//   openai:<base url>[,<base url>...][?option=value&...]
//
// e.g. openai:http://127.0.0.1:8000/v1?model=qwen&cache=runs/x/calls.jsonl, or two servers of one model:
// openai:http://127.0.0.1:8000/v1,http://127.0.0.1:8001/v1?model=qwen (a part may repeat the `openai:`
// prefix; options may follow any part). A URL without a path gets /v1. The API key is never part of a spec
// (specs end up in logs and run manifests): it is read from the environment variable named by key_env.
// The options and their defaults are in OPTIONS below and in docs/serving.md.
import type { RetryPolicy } from './retry.js';

export interface RemoteOptions {
  endpoints: string[];
  model?: string;
  apiKey?: string;
  /** Calls in flight over all endpoints. */
  concurrency: number;
  /** 'request': one call per prompt asking for n completions; 'split': n calls of n=1 per prompt. */
  nMode: 'request' | 'split';
  timeoutMs: number;
  retry: RetryPolicy;
  cache?: string;
  fsync: boolean;
  /** A psrlm checkpoint directory or tokenizer.json (psrlm serve endpoints send theirs). */
  tokenizer?: string;
  scoring: 'auto' | 'prompt_logprobs' | 'echo';
  /** 'vllm': also send vLLM's extensions; 'openai': only fields of the OpenAI API. */
  dialect: 'vllm' | 'openai';
}

export const OPTIONS: Record<string, string> = {
  model: 'model name (default: the only model the server lists)',
  concurrency: 'calls in flight over all endpoints (default 16)',
  n: '"request" (one call per prompt asks for n completions; default) or "split" (n calls with n=1)',
  timeout: 'seconds per attempt before it counts as failed and is retried (default 600)',
  retries: 'retries per call after the first attempt (default 6)',
  backoff: 'first retry wait bound in seconds, doubling per retry (default 0.5)',
  max_backoff: 'largest retry wait in seconds (default 30)',
  cache: 'call cache file (append-only JSONL); a call found there is not sent again',
  fsync: '1: fsync the cache after every call (survives power loss; default 0)',
  tokenizer: 'psrlm checkpoint directory or tokenizer.json (default: fetched from psrlm serve)',
  scoring: '"auto" (default), "prompt_logprobs" (vLLM) or "echo" (OpenAI legacy) for logprob()',
  dialect: '"vllm" (default: send vLLM extensions) or "openai" (standard fields only)',
  key_env: 'environment variable holding the API key (default PSRLM_API_KEY, then OPENAI_API_KEY)',
};

function num(v: string, name: string, min: number, integer: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`engine spec: ${name}=${v} is not ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return n;
}

function oneOf<T extends string>(v: string, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v))
    throw new Error(`engine spec: ${name}=${v}; expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function parseRemoteSpec(spec: string, env: NodeJS.ProcessEnv = process.env): RemoteOptions {
  if (!spec.startsWith('openai:')) throw new Error(`engine spec '${spec}' does not start with 'openai:'`);
  const opts = new Map<string, string>();
  const endpoints: string[] = [];
  for (let part of spec.slice('openai:'.length).split(',')) {
    part = part.trim().replace(/^openai:/, '');
    if (!part) continue;
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      throw new Error(`engine spec: '${part}' is not a URL; expected e.g. openai:http://127.0.0.1:8000/v1?model=NAME`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error(`engine spec: '${part}' must be an http:// or https:// URL`);
    for (const [k, v] of u.searchParams) {
      if (!(k in OPTIONS)) {
        throw new Error(
          `engine spec: unknown option '${k}'. Options: ${Object.keys(OPTIONS).join(', ')} (docs/serving.md)`,
        );
      }
      if (opts.has(k) && opts.get(k) !== v)
        throw new Error(`engine spec: option '${k}' is given twice, as '${opts.get(k)}' and '${v}'`);
      opts.set(k, v);
    }
    const p = u.pathname.replace(/\/+$/, '');
    endpoints.push(`${u.protocol}//${u.host}${p || '/v1'}`);
  }
  if (!endpoints.length)
    throw new Error(`engine spec '${spec}' names no endpoint; expected openai:http://HOST:PORT/v1`);
  const keyEnv = opts.get('key_env');
  const apiKey = keyEnv !== undefined ? env[keyEnv] : env.PSRLM_API_KEY || env.OPENAI_API_KEY;
  if (keyEnv !== undefined && !apiKey)
    throw new Error(`engine spec: key_env=${keyEnv}, but the environment variable ${keyEnv} is not set`);
  const get = (k: string) => opts.get(k);
  return {
    endpoints: [...new Set(endpoints)],
    model: get('model'),
    apiKey: apiKey || undefined,
    concurrency: get('concurrency') !== undefined ? num(get('concurrency')!, 'concurrency', 1, true) : 16,
    nMode: oneOf(get('n') ?? 'request', 'n', ['request', 'split'] as const),
    timeoutMs: 1000 * (get('timeout') !== undefined ? num(get('timeout')!, 'timeout', 0.001, false) : 600),
    retry: {
      retries: get('retries') !== undefined ? num(get('retries')!, 'retries', 0, true) : 6,
      base_ms: 1000 * (get('backoff') !== undefined ? num(get('backoff')!, 'backoff', 0, false) : 0.5),
      max_ms: 1000 * (get('max_backoff') !== undefined ? num(get('max_backoff')!, 'max_backoff', 0, false) : 30),
    },
    cache: get('cache'),
    fsync: get('fsync') === '1' || get('fsync') === 'true',
    tokenizer: get('tokenizer'),
    scoring: oneOf(get('scoring') ?? 'auto', 'scoring', ['auto', 'prompt_logprobs', 'echo'] as const),
    dialect: oneOf(get('dialect') ?? 'vllm', 'dialect', ['vllm', 'openai'] as const),
  };
}
