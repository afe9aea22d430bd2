// Batches concurrent requests into engine calls. The embedded engine runs one call at a time; requests
// that arrive while it works wait in a queue, and the next call takes every queued request that can share
// it: generation requests with the same sampling parameters (each prompt keeps its own seed), or scoring
// requests. The oldest waiting request picks what the next call runs, so nothing starves. Prompts from
// different requests meet in one call, where the engine's prefix tree shares their common prefixes.
//
// Batching cannot change a result: each completion's randomness comes from its own (seed, index) stream
// and each row's arithmetic is independent of the batch (docs/engine.md, "Numerics contract").
//
// A call that fails with several requests in it is retried request by request, so one bad request (which
// validation should have caught) fails alone instead of taking its neighbours down.
import type { SampleState } from '../engine/generate.js';
import type { TokenLogprob } from '../engine/tokenlogp.js';
import type { Completion, GenerateOptions } from '../engine/types.js';

/** What the batcher needs from an engine (EmbeddedEngine provides it). */
export interface BatchEngine {
  generateStream(prompts: number[][], opts: GenerateOptions, onStep?: (samples: readonly SampleState[]) => void): Promise<Completion[][]>;
  tokenLogprobs(seqs: number[][], top: number): Promise<TokenLogprob[][]>;
}

/** Sampling parameters that must be equal for requests to share an engine call. */
export interface BatchParams {
  n: number;
  temperature: number;
  top_p: number;
  max_tokens: number;
  stop: string[];
  include_stop: boolean;
  ignore_eos: boolean;
  top_logprobs: number;
}

interface GenJob {
  kind: 'generate';
  key: string;
  prompts: number[][];
  seeds: number[];
  params: BatchParams;
  onStep?: (prompt: number, s: SampleState) => void;
  resolve: (r: Completion[][]) => void;
  reject: (e: unknown) => void;
  cancelled: boolean;
}

interface ScoreJob {
  kind: 'score';
  seqs: number[][];
  top: number;
  resolve: (r: TokenLogprob[][]) => void;
  reject: (e: unknown) => void;
  cancelled: boolean;
}

type Job = GenJob | ScoreJob;

export interface BatcherStats {
  engine_calls: number;
  requests: number;
  /** Largest number of requests served by one engine call. */
  max_batch: number;
}

/** Thrown by submit() when the queue is full: the server answers 429. */
export class QueueFullError extends Error {}

export class Batcher {
  private queue: Job[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  readonly stats: BatcherStats = { engine_calls: 0, requests: 0, max_batch: 0 };

  constructor(private readonly engine: BatchEngine, private readonly opts: { max_queue: number; max_batch_samples: number }) {}

  /** Requests waiting for the engine. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * n completions per prompt, prompt i drawing from seed seeds[i]. `signal` (the client going away) drops
   * the request if it has not started; `onStep` sees each advanced sample with its prompt's index.
   */
  generate(prompts: number[][], seeds: number[], params: BatchParams, onStep?: (prompt: number, s: SampleState) => void, signal?: AbortSignal): Promise<Completion[][]> {
    return new Promise((resolve, reject) => {
      const key = JSON.stringify([params.n, params.temperature, params.top_p, params.max_tokens, params.stop, params.include_stop, params.ignore_eos, params.top_logprobs]);
      this.submit({ kind: 'generate', key, prompts, seeds, params, onStep, resolve, reject, cancelled: false }, signal);
    });
  }

  /** Per-position log-probs of each sequence with `top` alternatives. */
  score(seqs: number[][], top: number, signal?: AbortSignal): Promise<TokenLogprob[][]> {
    return new Promise((resolve, reject) => this.submit({ kind: 'score', seqs, top, resolve, reject, cancelled: false }, signal));
  }

  /** Resolves once nothing is queued or running (graceful shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private submit(job: Job, signal?: AbortSignal): void {
    if (this.queue.length >= this.opts.max_queue) {
      job.reject(new QueueFullError(`the server has ${this.queue.length} requests waiting (its limit); retry later`));
      return;
    }
    if (signal) {
      const drop = () => {
        job.cancelled = true;
        const i = this.queue.indexOf(job);
        if (i >= 0) { this.queue.splice(i, 1); job.reject(new Error('request cancelled: the client went away')); this.checkIdle(); }
      };
      if (signal.aborted) { drop(); return; }
      signal.addEventListener('abort', drop, { once: true });
    }
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    // one turn of the event loop first, so requests whose bytes already arrived join this call
    setImmediate(() => {
      this.runNext().finally(() => {
        this.running = false;
        this.checkIdle();
        this.pump();
      });
    });
  }

  private checkIdle(): void {
    if (this.running || this.queue.length) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private take(): Job[] {
    const head = this.queue[0]!;
    if (head.kind === 'score') {
      const batch = this.queue.filter((j) => j.kind === 'score');
      this.queue = this.queue.filter((j) => j.kind !== 'score');
      return batch;
    }
    const batch: Job[] = [];
    const rest: Job[] = [];
    let samples = 0;
    for (const j of this.queue) {
      const size = j.kind === 'generate' ? j.prompts.length * j.params.n : 0;
      if (j.kind === 'generate' && j.key === head.key && (batch.length === 0 || samples + size <= this.opts.max_batch_samples)) {
        batch.push(j);
        samples += size;
      } else rest.push(j);
    }
    this.queue = rest;
    return batch;
  }

  private async runNext(): Promise<void> {
    const batch = this.take().filter((j) => !j.cancelled);
    if (!batch.length) return;
    try {
      await this.run(batch);
    } catch (e) {
      if (batch.length === 1) { batch[0]!.reject(e); return; }
      for (const j of batch) {
        try { await this.run([j]); } catch (e1) { j.reject(e1); }
      }
    }
  }

  private async run(batch: Job[]): Promise<void> {
    this.stats.engine_calls++;
    this.stats.requests += batch.length;
    this.stats.max_batch = Math.max(this.stats.max_batch, batch.length);
    if (batch[0]!.kind === 'score') {
      const jobs = batch as ScoreJob[];
      const top = Math.max(...jobs.map((j) => j.top));
      const out = await this.engine.tokenLogprobs(jobs.flatMap((j) => j.seqs), top);
      let off = 0;
      for (const j of jobs) {
        // the alternatives are sorted, so a smaller request's top-k is a prefix of the largest's
        const mine = out.slice(off, off + j.seqs.length).map((seq) => seq.map((t) => ({ ...t, top: t.top.slice(0, j.top) })));
        off += j.seqs.length;
        j.resolve(mine);
      }
      return;
    }
    const jobs = batch as GenJob[];
    const owner: Array<[GenJob, number]> = [];
    for (const j of jobs) j.prompts.forEach((_, i) => owner.push([j, i]));
    const p = jobs[0]!.params;
    const out = await this.engine.generateStream(jobs.flatMap((j) => j.prompts), {
      n: p.n, temperature: p.temperature, top_p: p.top_p, max_tokens: p.max_tokens, stop: p.stop, include_stop: p.include_stop,
      ignore_eos: p.ignore_eos, top_logprobs: p.top_logprobs, seeds: jobs.flatMap((j) => j.seeds),
    }, jobs.some((j) => j.onStep) ? (states) => {
      for (const s of states) {
        const [j, i] = owner[s.prompt]!;
        if (!j.onStep || j.cancelled) continue;
        try {
          j.onStep(i, s);
        } catch {
          j.cancelled = true; // a broken stream must not stop the other requests in this call
        }
      }
    } : undefined);
    let off = 0;
    for (const j of jobs) {
      j.resolve(out.slice(off, off + j.prompts.length));
      off += j.prompts.length;
    }
  }
}
