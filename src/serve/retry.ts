// Which failures of an HTTP call to retry, and when. Transient: 408, 409, 425, 429 and every 5xx, a
// connection refused or reset, a timeout, and a 200 whose body is not JSON (a proxy cut it short). Not
// transient: other 4xx (the request itself is wrong; retrying cannot help), which fail at once with the
// server's own message. Waits grow exponentially with jitter ("full jitter": a random wait up to the
// exponential bound, so many clients do not retry in lockstep) and honour Retry-After.

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff bound in ms; doubles per retry. */
  base_ms: number;
  max_ms: number;
}

/** An HTTP answer that is not a 2xx, with the server's message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly serverMessage: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${url} answered HTTP ${status}: ${serverMessage}`);
  }
}

/** A failure that must not be retried (a 4xx, a response shape the server will never fix). */
export class PermanentError extends Error {}

/** The answer could not be read (bad JSON, cut short): retried like a dropped connection. */
export class TransientError extends Error {}

const RETRY_STATUS = new Set([408, 409, 425, 429]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function isRetryable(e: unknown): boolean {
  if (e instanceof PermanentError) return false;
  if (e instanceof TransientError) return true;
  if (e instanceof HttpError) return e.status >= 500 || RETRY_STATUS.has(e.status);
  const err = e as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return true;
  if (err?.code && NETWORK_CODES.has(err.code)) return true;
  // fetch wraps network failures as TypeError('fetch failed') with the socket error as its cause
  if (err?.name === 'TypeError' && err.cause)
    return err.cause.code === undefined || NETWORK_CODES.has(err.cause.code) || err.cause.name === 'SocketError';
  return false;
}

/** Wait before retry number `attempt` (1-based): a random time up to min(max, base·2^(attempt−1)). */
export function backoffMs(
  attempt: number,
  p: RetryPolicy,
  retryAfterMs?: number,
  rand: () => number = Math.random,
): number {
  const bound = Math.min(p.max_ms, p.base_ms * 2 ** (attempt - 1));
  const wait = bound * (0.5 + 0.5 * rand());
  return retryAfterMs !== undefined ? Math.min(p.max_ms, Math.max(wait, retryAfterMs)) : wait;
}

/** Parses Retry-After (seconds or an HTTP date) into ms. */
export function retryAfter(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

export function describe(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err?.cause ? ` (${err.cause.code ?? err.cause.message})` : '';
  return `${err?.message ?? String(e)}${cause}`;
}

/**
 * Runs `attempt` until it succeeds, a failure is not transient, or the retries are spent. The last
 * error is rethrown with the number of attempts in its message.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  p: RetryPolicy,
  onRetry?: (n: number, e: unknown, waitMs: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!isRetryable(e)) throw e;
      if (n >= p.retries) {
        const attempts = `gave up after ${n + 1} attempt${n ? 's' : ''}`;
        throw e instanceof HttpError
          ? new HttpError(e.status, e.url, `${e.serverMessage} (${attempts})`)
          : new Error(`${attempts}; last error: ${describe(e)}`, { cause: e });
      }
      const wait = backoffMs(n + 1, p, e instanceof HttpError ? e.retryAfterMs : undefined);
      onRetry?.(n + 1, e, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
