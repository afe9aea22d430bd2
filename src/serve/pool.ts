// The remote engine's transport: a bound on calls in flight, a set of endpoints to spread them over, and
// one HTTP attempt (JSON in, JSON out, with a deadline). Each call goes to the healthy endpoint with the
// fewest calls in flight (ties in turn); an endpoint that failed at the transport level sits out for a
// short, growing while, and a retry prefers another endpoint than the one that just failed.
import { HttpError, retryAfter, TransientError } from './retry.js';

/** Counting semaphore: at most `limit` holders; waiters are served in arrival order. */
export class Semaphore {
  private held = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next)
      next(); // the slot passes straight to the next waiter
    else this.held--;
  }

  get inUse(): number {
    return this.held;
  }
}

export interface Endpoint {
  /** Base URL ending in the API root, e.g. http://127.0.0.1:8000/v1 */
  url: string;
  inflight: number;
  /** Calls sent and failures at the transport level or 5xx, for stats and for the cool-down. */
  sent: number;
  failures: number;
  /** Consecutive failures; a success resets it. */
  streak: number;
  downUntil: number;
}

export class EndpointPool {
  readonly endpoints: Endpoint[];
  private turn = 0;

  constructor(urls: string[]) {
    if (!urls.length) throw new Error('remote engine: no endpoints given');
    this.endpoints = urls.map((url) => ({ url, inflight: 0, sent: 0, failures: 0, streak: 0, downUntil: 0 }));
  }

  /** The endpoint for the next attempt; `avoid` (the one that just failed) only if it is the only one. */
  pick(avoid?: Endpoint): Endpoint {
    const t = Date.now();
    let cands = this.endpoints.filter((e) => e !== avoid && e.downUntil <= t);
    if (!cands.length) cands = this.endpoints.filter((e) => e !== avoid);
    if (!cands.length) cands = this.endpoints;
    const least = Math.min(...cands.map((e) => e.inflight));
    const tied = cands.filter((e) => e.inflight === least);
    return tied[this.turn++ % tied.length]!;
  }

  succeeded(e: Endpoint): void {
    e.streak = 0;
    e.downUntil = 0;
  }

  failed(e: Endpoint): void {
    e.failures++;
    e.streak++;
    // sit out 0.1 s, 0.2 s, ... up to 5 s, so a dead endpoint stops taking most of the calls
    e.downUntil = Date.now() + Math.min(5000, 100 * 2 ** Math.min(6, e.streak - 1));
  }
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** One attempt: POST (or GET without a body) JSON, parse the JSON answer; non-2xx becomes HttpError. */
export async function requestJSON(url: string, body: unknown, o: PostOptions): Promise<unknown> {
  const signal = o.signal
    ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)])
    : AbortSignal.timeout(o.timeoutMs);
  const res = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      Accept: 'application/json',
      ...o.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  if (!res.ok) {
    let msg = text.slice(0, 500);
    try {
      const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
      msg = (typeof j.error === 'string' ? j.error : j.error?.message) ?? j.message ?? j.detail ?? msg;
    } catch {
      /* not JSON: keep the text */
    }
    throw new HttpError(res.status, url, msg, retryAfter(res.headers.get('retry-after')));
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TransientError(
      `${url} answered HTTP ${res.status} with a body that is not JSON (${(e as Error).message}; ${text.length} bytes)`,
    );
  }
}
