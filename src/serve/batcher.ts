// Continuous batching of concurrent requests into the embedded engine. Requests wait in a queue; while
// the engine has work it runs one `serveContinuous` loop, and before every model call the loop takes the
// queued requests: generation requests are prefilled and join the samples already decoding (each with its
// own sampling parameters), scoring requests run between two steps. A request that arrives while others
// decode therefore starts at the next step instead of waiting for the whole batch to end, and a finished
// request leaves at once. Prompts admitted together share their common prefixes in the engine's tree.
//
// Batching cannot change a result: each completion's randomness comes from its own (seed, index) stream
// and each row's arithmetic is independent of the batch (docs/engine.md, "Numerics contract").
// `max_batch_samples` bounds the samples decoding at once (memory); the queue bound turns overload into
// 429s; a request whose client went away leaves the queue, or stops decoding, at the next step.
import type { ContinuousWork } from '../engine/embedded.js';
import type { SampleState } from '../engine/generate.js';
import type { TokenLogprob } from '../engine/tokenlogp.js';
import type { Completion, GenerateOptions } from '../engine/types.js';

/** What the batcher needs from an engine (EmbeddedEngine provides it). */
export interface BatchEngine {
  serveContinuous(pull: () => ContinuousWork[]): Promise<void>;
}

export interface BatcherStats {
  /** Requests handed to the engine. */
  requests: number;
  /** serveContinuous loops started (the engine went idle in between). */
  loops: number;
  /** Most generation requests decoding at the same time. */
  max_live: number;
}

/** Thrown by generate()/score() when the queue is full: the server answers 429. */
export class QueueFullError extends Error {}

interface Pending {
  work: ContinuousWork;
  samples: number;
  /** Called when the engine takes the request. */
  start?: () => void;
}

export class Batcher {
  private queue: Pending[] = [];
  private running = false;
  private liveSamples = 0;
  private liveRequests = 0;
  private idleWaiters: Array<() => void> = [];
  readonly stats: BatcherStats = { requests: 0, loops: 0, max_live: 0 };

  constructor(
    private readonly engine: BatchEngine,
    private readonly opts: { max_queue: number; max_batch_samples: number },
  ) {}

  /** Requests waiting for the engine. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Generation requests decoding now. */
  get live(): number {
    return this.liveRequests;
  }

  /**
   * n completions per prompt, prompt i drawing from seed seeds[i]. `signal` (the client going away)
   * drops the request; `onSample` sees every advance of every sample with its prompt's index.
   */
  generate(
    prompts: number[][],
    opts: GenerateOptions & { seeds: number[] },
    onSample?: (prompt: number, s: SampleState) => void,
    signal?: AbortSignal,
  ): Promise<Completion[][]> {
    return new Promise((resolve, reject) => {
      const samples = prompts.length * (opts.n ?? 1);
      let started = false;
      const end = () => {
        if (started) {
          this.liveSamples -= samples;
          this.liveRequests--;
        }
      };
      const work: ContinuousWork = {
        kind: 'generate',
        prompts,
        opts,
        onSample: onSample && ((s) => onSample(s.prompt, s)),
        cancelled: () => signal?.aborted === true,
        done: (r) => {
          end();
          resolve(r);
        },
        fail: (e) => {
          end();
          reject(e);
        },
      };
      const start = () => {
        started = true;
        this.liveSamples += samples;
        this.liveRequests++;
        this.stats.max_live = Math.max(this.stats.max_live, this.liveRequests);
      };
      this.submit({ work, samples, start }, signal, reject);
    });
  }

  /** Per-position log-probs of each sequence with `top` alternatives. */
  score(seqs: number[][], top: number, signal?: AbortSignal): Promise<TokenLogprob[][]> {
    return new Promise((resolve, reject) => {
      this.submit({ work: { kind: 'score', seqs, top, done: resolve, fail: reject }, samples: 0 }, signal, reject);
    });
  }

  /** Resolves once nothing is queued or running (graceful shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private submit(p: Pending, signal: AbortSignal | undefined, reject: (e: unknown) => void): void {
    if (this.queue.length >= this.opts.max_queue) {
      reject(new QueueFullError(`the server has ${this.queue.length} requests waiting (its limit); retry later`));
      return;
    }
    if (signal) {
      const drop = () => {
        const i = this.queue.indexOf(p);
        if (i >= 0) {
          this.queue.splice(i, 1);
          reject(new Error('request cancelled: the client went away'));
        }
      };
      if (signal.aborted) {
        reject(new Error('request cancelled: the client went away'));
        return;
      }
      signal.addEventListener('abort', drop, { once: true });
    }
    this.queue.push(p);
    this.start();
  }

  private start(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.stats.loops++;
    // one turn of the event loop first, so requests whose bytes already arrived join from the start
    setImmediate(() => {
      this.engine
        .serveContinuous(() => this.pull())
        .catch((e: unknown) => {
          // serveContinuous fails its running requests itself; if it could not even start, the queue fails
          // too (retrying at once would spin on the same error)
          const q = this.queue;
          this.queue = [];
          for (const p of q) p.work.fail(e);
        })
        .finally(() => {
          this.running = false;
          if (this.queue.length) this.start();
          else {
            const w = this.idleWaiters;
            this.idleWaiters = [];
            for (const r of w) r();
          }
        });
    });
  }

  /** The queued work that fits now: all scoring, and generation while the sample bound allows. */
  private pull(): ContinuousWork[] {
    const out: ContinuousWork[] = [];
    const rest: Pending[] = [];
    let samples = this.liveSamples;
    for (const p of this.queue) {
      const fits = p.samples === 0 || samples === 0 || samples + p.samples <= this.opts.max_batch_samples;
      if (!fits) {
        rest.push(p);
        continue;
      }
      samples += p.samples;
      p.start?.();
      this.stats.requests++;
      out.push(p.work);
    }
    this.queue = rest;
    return out;
  }
}
