// The embedded engine: one small GPT in this process, implementing both narrow interfaces (`Engine`
// for generation and scoring, `Trainer` for SFT/DPO and saving). Everything runs on the wasm kernels
// over both cores; calls are serialised (one model, one heap) through a promise queue so concurrent
// callers (the server, a pipeline stage) cannot interleave on the shared buffers. `serveContinuous` and
// `tokenLogprobs` are what the OpenAI-compatible server (src/serve) needs beyond the `Engine` interface:
// continuous batching (requests join between decoding steps, token-id prompts, progress for streaming)
// and per-position log-probs.
import { modelConfig, type ModelConfig } from './config.js';
import { loadWeights, readCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  Decoder,
  generateTokens,
  type Admission,
  type Admit,
  type GenerateStats,
  type SampleState,
  type TokenRequest,
} from './generate.js';
import { InferRunner } from './infer.js';
import type { KernelPath } from './native.js';
import { Heap } from './memory.js';
import { GPT } from './model.js';
import { AdamW } from './optimizer.js';
import { deriveSeed } from './rng.js';
import { ThreadPool } from './threads.js';
import { tokenLogprobs, type TokenLogprob } from './tokenlogp.js';
import { Tokenizer, type TokenizerJSON } from './tokenizer.js';
import { encodePair, scoreSeqs, trainDPO, trainSFT } from './trainer.js';
import type {
  Completion,
  DPOOptions,
  Engine,
  GenerateOptions,
  PreferencePair,
  ScoreRequest,
  SFTExample,
  Trainer,
  TrainOptions,
  TrainResult,
} from './types.js';

export interface EmbeddedOptions {
  /** Worker threads in total, including the caller (1 or 2). Default 2. */
  threads?: number;
  /** Kernels: 'native' (C++, AVX-512/AVX2) or 'wasm'. Default: PSRLM_KERNELS, else native where built. */
  kernels?: KernelPath;
  /** Share KV caches between prompts with common prefixes (default true). */
  share_prefix?: boolean;
  /** Rows per model call when generating (bounds memory). Default 512. */
  max_rows?: number;
  /** Token budget per training/scoring micro-batch. Default 8192. */
  micro_batch_tokens?: number;
}

/** A generation request for serveContinuous: its results go to `done`, or its error to `fail`. */
export interface GenerateWork {
  kind: 'generate';
  prompts: Array<string | number[]>;
  opts: GenerateOptions;
  /** Sees each sample of this request every time it advances (streaming). */
  onSample?: (s: SampleState) => void;
  /** Polled between steps: true drops the request (its client went away). */
  cancelled?: () => boolean;
  done: (results: Completion[][]) => void;
  fail: (e: unknown) => void;
}

/** A scoring request for serveContinuous (tokenLogprobs). */
export interface ScoreWork {
  kind: 'score';
  seqs: number[][];
  top: number;
  done: (results: TokenLogprob[][]) => void;
  fail: (e: unknown) => void;
}

export type ContinuousWork = GenerateWork | ScoreWork;

interface Entry {
  w: GenerateWork;
  admit: Admit;
  adm?: Admission;
  finished: boolean;
}

export class EmbeddedEngine implements Engine, Trainer {
  readonly name = 'embedded';
  readonly model: GPT;
  readonly tokenizer: Tokenizer;
  private readonly heap: Heap;
  readonly pool: ThreadPool;
  private readonly runner: InferRunner;
  private queue: Promise<unknown> = Promise.resolve();
  private weightsDirty = true;
  readonly stats: GenerateStats = { prefill_tokens: 0, prompt_tokens: 0, decode_tokens: 0, calls: 0 };

  private constructor(
    cfg: ModelConfig,
    tokenizer: Tokenizer,
    readonly opts: EmbeddedOptions,
  ) {
    if (tokenizer.vocabSize !== cfg.vocab_size) {
      throw new Error(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${cfg.vocab_size}`);
    }
    this.heap = new Heap();
    this.pool = new ThreadPool(this.heap, opts.threads ?? 2, { kernels: opts.kernels });
    this.model = new GPT(cfg, this.heap, this.pool);
    this.tokenizer = tokenizer;
    this.runner = new InferRunner(this.model);
  }

  /** A freshly initialised model. */
  static create(
    cfg: Partial<ModelConfig>,
    tokenizer: Tokenizer,
    seed: number,
    opts: EmbeddedOptions = {},
  ): EmbeddedEngine {
    const e = new EmbeddedEngine(modelConfig({ ...cfg, vocab_size: tokenizer.vocabSize }), tokenizer, opts);
    e.model.init(seed);
    return e;
  }

  static load(dir: string, opts: EmbeddedOptions = {}): EmbeddedEngine {
    const ck = readCheckpoint(dir);
    const e = new EmbeddedEngine(ck.config, new Tokenizer(ck.tokenizer), opts);
    loadWeights(e.model, ck.tensors, dir);
    return e;
  }

  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  unreadable(text: string): string | null {
    return this.tokenizer.check(text);
  }

  tokenize(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  detokenize(ids: number[]): string {
    return this.tokenizer.decode(ids);
  }

  generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    return this.serial(() => this.generateSync(prompts, opts));
  }

  generateSync(prompts: string[], opts: GenerateOptions): Completion[][] {
    const req = this.tokenRequest(prompts, opts);
    if (this.weightsDirty) {
      this.runner.refreshWeights();
      this.weightsDirty = false;
    }
    return generateTokens(this.runner, this.tokenizer.pieces, this.tokenizer.eos, req, this.stats);
  }

  /**
   * Continuous batching, for a server. Before every model call `pull()` hands over new work: generation
   * requests (each with its own options; prompts may be token ids) are prefilled and join the samples
   * already decoding; scoring requests run at once. The event loop runs between model calls (at most
   * every `yieldMs`), so requests keep arriving while the engine works. Returns when pull() has nothing
   * and nothing is decoding. Every result equals what generate() / tokenLogprobs() give for that request
   * alone, bit for bit: rows are independent of what else is in the batch.
   */
  serveContinuous(pull: () => ContinuousWork[], yieldMs = 2): Promise<void> {
    return this.serial(async () => {
      if (this.weightsDirty) {
        this.runner.refreshWeights();
        this.weightsDirty = false;
      }
      const maxRows = this.opts.max_rows ?? 512;
      const d = new Decoder(this.runner, this.tokenizer.pieces, this.tokenizer.eos, maxRows, this.stats);
      const running = new Map<Admission, GenerateWork>();
      try {
        let last = performance.now();
        for (;;) {
          const works = pull();
          const entries: Entry[] = [];
          for (const w of works) {
            if (w.kind === 'score') {
              let r: TokenLogprob[][];
              try {
                r = tokenLogprobs(this.runner, w.seqs, w.top, maxRows);
              } catch (e) {
                w.fail(e);
                continue;
              }
              w.done(r);
              continue;
            }
            // a callback that throws must not break the step the other requests share
            const onSample =
              w.onSample &&
              ((st: SampleState) => {
                try {
                  w.onSample!(st);
                } catch {
                  /* the caller's problem */
                }
              });
            let req: TokenRequest;
            try {
              req = this.tokenRequest(w.prompts, w.opts);
              d.check(req);
            } catch (e) {
              w.fail(e);
              continue;
            }
            const entry: Entry = { w, finished: false, admit: { req, onSample, done: () => undefined } };
            entry.admit.done = (r) => {
              entry.finished = true;
              if (entry.adm) running.delete(entry.adm);
              try {
                w.done(r);
              } catch {
                /* the caller's problem */
              }
            };
            entries.push(entry);
          }
          // everything pulled together is prefilled together: one tree, shared prefixes across requests
          if (entries.length) {
            try {
              const adms = d.admit(entries.map((en) => en.admit));
              entries.forEach((en, i) => {
                en.adm = adms[i];
                if (!en.finished) running.set(en.adm!, en.w);
              });
            } catch (e) {
              for (const en of entries) if (!en.finished) en.w.fail(e);
            }
          }
          for (const [adm, w] of running) {
            if (w.cancelled?.()) {
              adm.cancel();
              running.delete(adm);
              w.fail(new Error('generation cancelled by its caller'));
            }
          }
          if (!d.active) {
            if (!works.length) return;
            continue;
          }
          d.step();
          if (performance.now() - last >= yieldMs) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            last = performance.now();
          }
        }
      } catch (e) {
        for (const w of running.values()) w.fail(e); // the engine itself failed: every running request fails
      } finally {
        d.release();
      }
    });
  }

  /** Per-position log-probs of token sequences (src/engine/tokenlogp.ts), `top` alternatives each. */
  tokenLogprobs(seqs: number[][], top: number): Promise<TokenLogprob[][]> {
    return this.serial(() => {
      if (this.weightsDirty) {
        this.runner.refreshWeights();
        this.weightsDirty = false;
      }
      return tokenLogprobs(this.runner, seqs, top, this.opts.max_rows ?? 512);
    });
  }

  private tokenRequest(prompts: Array<string | number[]>, opts: GenerateOptions): TokenRequest {
    const n = opts.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new Error(`generate: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(opts.max_tokens) || opts.max_tokens < 1)
      throw new Error(`generate: max_tokens must be a positive integer, got ${opts.max_tokens}`);
    const temperature = opts.temperature ?? 1;
    const top_p = opts.top_p ?? 1;
    if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
    if (!(top_p > 0 && top_p <= 1)) throw new Error(`generate: top_p must be in (0, 1], got ${top_p}`);
    if (opts.seeds && opts.seeds.length !== prompts.length) {
      throw new Error(`generate: ${opts.seeds.length} seeds for ${prompts.length} prompts`);
    }
    const base = opts.seed ?? 0;
    const seeds = opts.seeds ?? prompts.map((_, i) => deriveSeed(base, i));
    const top = opts.top_logprobs ?? 0;
    if (!Number.isInteger(top) || top < 0)
      throw new Error(`generate: top_logprobs must be a non-negative integer, got ${top}`);
    const V = this.tokenizer.vocabSize;
    return {
      prompts: prompts.map((p, i) => {
        if (typeof p === 'string') return this.tokenizer.encode(p);
        for (const t of p)
          if (!Number.isInteger(t) || t < 0 || t >= V)
            throw new Error(`generate: prompt ${i} has token id ${t}, outside the vocabulary (size ${V})`);
        return p.slice();
      }),
      n,
      temperature,
      top_p,
      max_tokens: opts.max_tokens,
      stop: opts.stop ?? [],
      include_stop: opts.include_stop ?? false,
      seeds,
      share_prefix: this.opts.share_prefix ?? true,
      max_rows: this.opts.max_rows ?? 512,
      ignore_eos: opts.ignore_eos ?? false,
      top_logprobs: top,
    };
  }

  logprob(requests: ScoreRequest[]): Promise<number[]> {
    return this.serial(() => {
      const seqs = requests.map((r, i) =>
        encodePair(
          this.tokenizer,
          r.prompt,
          r.completion,
          r.eos ?? false,
          this.model.cfg.n_ctx,
          `logprob request ${i}`,
        ),
      );
      return scoreSeqs(this.model, seqs, this.opts.micro_batch_tokens ?? 8192);
    });
  }

  trainSFT(examples: SFTExample[], opts: TrainOptions): Promise<TrainResult> {
    return this.serial(() =>
      this.withOptimizer((opt) => trainSFT(this.model, opt, this.tokenizer, examples, this.budget(opts))),
    );
  }

  trainDPO(pairs: PreferencePair[], opts: DPOOptions): Promise<TrainResult> {
    return this.serial(() =>
      this.withOptimizer((opt) => trainDPO(this.model, opt, this.tokenizer, pairs, this.budget(opts))),
    );
  }

  private budget<T extends TrainOptions>(opts: T): T {
    return { ...opts, micro_batch_tokens: opts.micro_batch_tokens ?? this.opts.micro_batch_tokens };
  }

  /** Each training call starts a fresh optimizer, as a new trainer run would (a call resumed from a
   *  snapshot, TrainOptions.snapshot, gets the moments and step count of the call it continues). */
  private withOptimizer<T>(fn: (opt: AdamW) => T): T {
    const opt = new AdamW(this.model);
    try {
      return fn(opt);
    } finally {
      opt.release();
      this.weightsDirty = true;
    }
  }

  save(dir: string, manifest?: Record<string, unknown>): Promise<void> {
    return this.serial(() => saveCheckpoint(dir, this.model, this.tokenizer.toJSON(), manifest));
  }

  /** The flat parameter vector (a copy). */
  weights(): Float32Array {
    return this.heap.readF32(this.model.params, this.model.layout.total);
  }

  get contextTokens(): number {
    return this.config.n_ctx;
  }

  get config(): ModelConfig {
    return this.model.cfg;
  }

  get tokenizerJSON(): TokenizerJSON {
    return this.tokenizer.toJSON();
  }

  async close(): Promise<void> {
    await this.queue;
    this.pool.close();
  }
}
