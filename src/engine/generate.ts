// Batched sampling with a KV cache and prefix sharing (the n candidates of one prompt,
// and many prompts sharing a long prefix, reuse the prefix's cache). The prompts of a call are put in a
// radix tree: each node is a run of tokens shared by all prompts below it and owns one KV segment. Nodes
// are prefilled level by level (a level's rows in as few model calls as fit), then every completion gets
// its own segment chained after its prompt's, and all live completions advance together, one row each.
//
// Each completion draws from its own stream, seeded from (prompt seed, sample index), and every row's
// arithmetic is independent of the batch (infer.ts), so a completion is the same whether its prompt was
// shared, batched with others, or run alone.
//
// The loop lives in `Decoder`, which can also take new requests between decoding steps (continuous
// batching, for the server): requests admitted together are prefilled together (one tree over all their
// prompts, so they share common prefixes), their samples join the ones already decoding, each keeps its own
// request's sampling parameters, and KV memory is freed as soon as nothing needs it (a request's own
// segments when its last sample ends, shared prefix segments when the last request using them ends).
// Since rows are independent, a completion is the same whenever and with whatever its request was
// admitted. `generateTokens` admits one request and decodes it to the end.
import type { Completion, FinishReason } from './types.js';
import { Chain, Segment, type InferRunner, type InferRow } from './infer.js';
import { deriveSeed, Rng } from './rng.js';
import { sampleToken, topK } from './sampler.js';

export interface TokenRequest {
  prompts: number[][];
  n: number;
  temperature: number;
  top_p: number;
  max_tokens: number;
  stop: string[];
  include_stop: boolean;
  /** One seed per prompt. */
  seeds: number[];
  /** Share the KV cache of common prefixes (default true); false recomputes every prompt per sample. */
  share_prefix: boolean;
  /** Upper bound on rows per model call (memory). */
  max_rows: number;
  ignore_eos?: boolean;
  /** Record the k likeliest tokens at every generated position (default 0). */
  top_logprobs?: number;
}

/** A sample as `generateSteps` shows it between steps: the text and tokens so far, `finish` once done. */
export interface SampleState {
  readonly prompt: number;
  readonly index: number;
  readonly tokens: readonly number[];
  readonly logprobs: readonly number[];
  readonly text: string;
  readonly finish?: FinishReason;
  /** With top_logprobs: the likeliest [id, log-prob] pairs at each generated position. */
  readonly top?: ReadonlyArray<Array<[number, number]>>;
}

export interface GenerateStats {
  prefill_tokens: number;
  prompt_tokens: number;
  decode_tokens: number;
  calls: number;
}

interface Node {
  tokens: number[];
  start: number;
  parent: Node | undefined;
  children: Node[];
  /** Prompts (virtual indices) that end at this node. */
  terminals: number[];
  chain?: Chain;
}

/** KV memory owned jointly: the prompt tree of requests admitted together. */
interface Memory {
  segments: Segment[];
  chains: Chain[];
  /** Requests still using it. */
  refs: number;
}

/** One admitted request: its parameters, its results so far and the KV memory it holds. */
interface Job {
  req: TokenRequest;
  results: Completion[][];
  /** Samples not finished yet. */
  left: number;
  /** Its samples' own segments; `shared` is the prompt tree. */
  own: Memory;
  shared: Memory;
  done: (results: Completion[][]) => void;
  onSample?: (s: SampleState) => void;
}

/** A request to admit, with where its results go. */
export interface Admit {
  req: TokenRequest;
  done: (results: Completion[][]) => void;
  /** Sees each sample every time it advances. */
  onSample?: (s: SampleState) => void;
}

interface Sample {
  job: Job;
  prompt: number;
  index: number;
  rng: Rng;
  chain: Chain;
  promptLen: number;
  tokens: number[];
  logprobs: number[];
  text: string;
  finish?: FinishReason;
  top?: Array<Array<[number, number]>>;
}

function buildTree(prompts: number[][], ids: number[], offset: number, parent: Node | undefined, out: Node[]): void {
  // group by the token at `offset`; each group becomes one node holding its longest common prefix
  const groups = new Map<number, number[]>();
  for (const i of ids) {
    const t = prompts[i]![offset]!;
    let g = groups.get(t);
    if (!g) groups.set(t, (g = []));
    g.push(i);
  }
  for (const g of groups.values()) {
    const first = prompts[g[0]!]!;
    let end = first.length;
    for (const i of g) {
      const p = prompts[i]!;
      let k = offset;
      const lim = Math.min(end, p.length);
      while (k < lim && p[k] === first[k]) k++;
      end = k;
    }
    const node: Node = { tokens: first.slice(offset, end), start: offset, parent, children: [], terminals: [] };
    out.push(node);
    parent?.children.push(node);
    const deeper: number[] = [];
    for (const i of g) (prompts[i]!.length === end ? node.terminals : deeper).push(i);
    if (deeper.length) buildTree(prompts, deeper, end, node, out);
  }
}

export function generateTokens(
  runner: InferRunner,
  vocab: string[],
  eos: number,
  req: TokenRequest,
  stats?: GenerateStats,
): Completion[][] {
  const d = new Decoder(runner, vocab, eos, req.max_rows, stats);
  let out: Completion[][] | undefined;
  try {
    d.admit([
      {
        req,
        done: (r) => {
          out = r;
        },
      },
    ]);
    while (d.active) d.step();
    return out!;
  } finally {
    d.release();
  }
}

export interface Admission {
  /** Drops the request: its samples stop decoding and its memory is freed; `done` is never called. */
  cancel(): void;
}

/** Requests admitted together, while their prompt tree is being prefilled (one level per step). */
interface Prefill {
  jobs: Job[];
  shared: Memory;
  nodes: Node[];
  /** The tree level whose tokens go into the next step. */
  level: Node[];
  vPrompts: number[][];
  vOwner: Array<[Job, number, number[]]>;
  share: boolean;
  terminalLogp: Map<Node, { row: Float32Array; off: number }>;
}

/** What a row of a step is for. */
type RowTag = { s: Sample; p?: undefined } | { s?: undefined; p: Prefill; nd: Node; terminal: boolean };

export class Decoder {
  private live: Sample[] = [];
  private prefilling: Prefill[] = [];
  private readonly jobs = new Set<Job>();
  private readonly V: number;
  private readonly nCtx: number;

  constructor(
    readonly runner: InferRunner,
    readonly vocab: string[],
    readonly eos: number,
    readonly maxRows: number,
    readonly stats?: GenerateStats,
  ) {
    this.V = runner.model.cfg.vocab_size;
    this.nCtx = runner.model.cfg.n_ctx;
  }

  /** Work left: samples decoding plus requests still being prefilled. */
  get active(): number {
    return this.live.length + this.prefilling.length;
  }

  /** Throws if the engine cannot run the request (a prompt empty or too long for the context). */
  check(req: TokenRequest): void {
    req.prompts.forEach((p, i) => {
      if (p.length === 0) throw new Error(`prompt ${i} is empty: the embedded model needs at least one prompt token`);
      if (p.length >= this.nCtx)
        throw new Error(
          `prompt ${i} has ${p.length} tokens; the model context is ${this.nCtx}, leaving no room to generate`,
        );
    });
  }

  /**
   * Admits requests together: their prompts go into one tree (common prefixes once, across requests
   * too), prefilled level by level in the next steps, in the same model calls as the decoding rows; then
   * every completion's first token is sampled and it decodes with the others. Each request's `done` gets
   * its results when its last sample ends. If any request fails check(), none is admitted.
   */
  admit(entries: Admit[]): Admission[] {
    for (const e of entries) this.check(e.req);
    if (!entries.length) return [];
    const shared: Memory = { segments: [], chains: [], refs: entries.length };
    const jobs: Job[] = entries.map((e) => ({
      req: e.req,
      results: e.req.prompts.map(() => new Array<Completion>(e.req.n)),
      left: e.req.prompts.length * e.req.n,
      own: { segments: [], chains: [], refs: 1 },
      shared,
      done: e.done,
      onSample: e.onSample,
    }));
    for (const job of jobs) this.jobs.add(job);
    const share = entries.every((e) => e.req.share_prefix);
    // virtual prompts: with sharing, one per prompt (its n samples hang below it); without, one per sample
    const vPrompts: number[][] = [];
    const vOwner: Array<[Job, number, number[]]> = []; // [request, prompt index, sample indices]
    for (const job of jobs) {
      const req = job.req;
      for (let i = 0; i < req.prompts.length; i++) {
        if (share) {
          vPrompts.push(req.prompts[i]!);
          vOwner.push([job, i, Array.from({ length: req.n }, (_, j) => j)]);
        } else {
          for (let j = 0; j < req.n; j++) {
            vPrompts.push(req.prompts[i]!);
            vOwner.push([job, i, [j]]);
          }
        }
      }
    }
    const nodes: Node[] = [];
    if (share) {
      buildTree(
        vPrompts,
        vPrompts.map((_, i) => i),
        0,
        undefined,
        nodes,
      );
    } else {
      vPrompts.forEach((p, i) =>
        nodes.push({ tokens: p.slice(), start: 0, parent: undefined, children: [], terminals: [i] }),
      );
    }
    const p: Prefill = {
      jobs,
      shared,
      nodes,
      level: nodes.filter((nd) => !nd.parent),
      vPrompts,
      vOwner,
      share,
      terminalLogp: new Map(),
    };
    this.makeChains(p);
    this.prefilling.push(p);
    return jobs.map((job) => ({ cancel: () => this.drop(job) }));
  }

  /**
   * One step: a row for every live sample and the next tree level of every request being prefilled, run
   * in model calls of at most maxRows rows. Samples advance one token; trees whose last level ran start
   * their samples (first token), which decode from the next step on.
   */
  step(): void {
    const { V, stats } = this;
    const rows: InferRow[] = [];
    const tags: RowTag[] = [];
    for (const s of this.live) {
      rows.push({
        token: s.tokens[s.tokens.length - 1]!,
        pos: s.promptLen + s.tokens.length - 1,
        chain: s.chain,
        slot: s.tokens.length - 1,
      });
      tags.push({ s });
    }
    for (const p of this.prefilling) {
      for (const nd of p.level) {
        for (let t = 0; t < nd.tokens.length; t++) {
          rows.push({ token: nd.tokens[t]!, pos: nd.start + t, chain: nd.chain!, slot: t });
          tags.push({ p, nd, terminal: t === nd.tokens.length - 1 && nd.terminals.length > 0 });
        }
      }
    }
    for (let start = 0; start < rows.length; start += this.maxRows) {
      const end = Math.min(rows.length, start + this.maxRows);
      const want: number[] = [];
      for (let r = start; r < end; r++)
        if (tags[r]!.s || (tags[r] as { terminal: boolean }).terminal) want.push(r - start);
      const out = this.runner.run(rows.slice(start, end), want);
      if (stats) {
        stats.calls++;
        for (let r = start; r < end; r++) {
          if (tags[r]!.s) stats.decode_tokens++;
          else stats.prefill_tokens++;
        }
      }
      want.forEach((r, k) => {
        const tag = tags[start + r]!;
        if (tag.s) this.advance(tag.s, out, k * V);
        else tag.p.terminalLogp.set(tag.nd, { row: out, off: k * V });
      });
    }
    const advanced = this.live;
    const started: Sample[] = [];
    const still: Prefill[] = [];
    for (const p of this.prefilling) {
      p.level = p.level.flatMap((nd) => nd.children);
      if (p.level.length) {
        this.makeChains(p);
        still.push(p);
      } else started.push(...this.start(p));
    }
    this.prefilling = still;
    this.live = advanced.filter((s) => !s.finish).concat(started.filter((s) => !s.finish));
    for (const s of advanced) s.job.onSample?.(s);
    for (const s of started) s.job.onSample?.(s);
    for (const s of advanced) if (s.finish) this.finish(s);
    for (const s of started) if (s.finish) this.finish(s);
  }

  /** Frees the memory of every request still admitted (their `done` is never called). */
  release(): void {
    for (const job of [...this.jobs]) this.drop(job);
  }

  /** Segments and chains for a tree level (its parents are complete). */
  private makeChains(p: Prefill): void {
    const model = this.runner.model;
    for (const nd of p.level) {
      const seg = new Segment(model, nd.tokens.length);
      p.shared.segments.push(seg);
      nd.chain = new Chain(model, [...(nd.parent ? nd.parent.chain!.segments : []), seg]);
      p.shared.chains.push(nd.chain);
    }
  }

  /** The prefilled tree's samples, one per (prompt, index), first token from the prompt's last row. */
  private start(p: Prefill): Sample[] {
    const model = this.runner.model;
    const fresh: Sample[] = [];
    if (this.stats)
      for (const { req } of p.jobs)
        this.stats.prompt_tokens += req.prompts.reduce((a, q) => a + q.length, 0) * (p.share ? 1 : req.n);
    for (const nd of p.nodes) {
      for (const v of nd.terminals) {
        const [job, pi, sampleIdx] = p.vOwner[v]!;
        if (!this.jobs.has(job)) continue; // cancelled while its prompt was being prefilled
        const req = job.req;
        const promptLen = p.vPrompts[v]!.length;
        const cap = Math.max(1, Math.min(req.max_tokens, this.nCtx - promptLen));
        const lp = p.terminalLogp.get(nd)!;
        for (const j of sampleIdx) {
          const seg = new Segment(model, cap);
          job.own.segments.push(seg);
          const chain = new Chain(model, [...nd.chain!.segments, seg]);
          job.own.chains.push(chain);
          const s: Sample = {
            job,
            prompt: pi,
            index: j,
            rng: new Rng(deriveSeed(req.seeds[pi]!, j)),
            chain,
            promptLen,
            tokens: [],
            logprobs: [],
            text: '',
            top: req.top_logprobs ? [] : undefined,
          };
          this.advance(s, lp.row, lp.off);
          fresh.push(s);
        }
      }
    }
    return fresh;
  }

  private advance(s: Sample, row: Float32Array, off: number): void {
    const req = s.job.req;
    const tok = sampleToken(row, off, this.V, req.temperature, req.top_p, s.rng);
    if (tok === this.eos && !req.ignore_eos) {
      s.finish = 'eos';
      return;
    }
    s.tokens.push(tok);
    s.logprobs.push(row[off + tok]!);
    s.top?.push(topK(row, off, this.V, req.top_logprobs!));
    const before = s.text.length;
    s.text += this.vocab[tok]!;
    for (const stop of req.stop) {
      if (!stop) continue;
      const at = s.text.indexOf(stop, Math.max(0, before - stop.length + 1));
      if (at >= 0) {
        s.text = s.text.slice(0, req.include_stop ? at + stop.length : at);
        s.finish = 'stop';
        return;
      }
    }
    if (s.tokens.length >= req.max_tokens || s.promptLen + s.tokens.length >= this.nCtx) s.finish = 'length';
  }

  private finish(s: Sample): void {
    const job = s.job;
    const c: Completion = { text: s.text, tokens: s.tokens, logprobs: s.logprobs, finish_reason: s.finish! };
    if (s.top) c.top_logprobs = s.top;
    job.results[s.prompt]![s.index] = c;
    if (--job.left === 0 && this.jobs.has(job)) {
      this.free(job);
      job.done(job.results);
    }
  }

  private drop(job: Job): void {
    if (!this.jobs.has(job)) return;
    this.live = this.live.filter((s) => s.job !== job);
    this.free(job);
  }

  private free(job: Job): void {
    this.jobs.delete(job);
    // a tree nobody waits for any more stops prefilling before its memory goes
    this.prefilling = this.prefilling.filter((p) => p.jobs.some((j) => this.jobs.has(j)));
    unref(job.own);
    unref(job.shared);
  }
}

function unref(m: Memory): void {
  if (--m.refs > 0) return;
  for (const c of m.chains) c.release();
  for (const s of m.segments) s.release();
  m.chains = [];
  m.segments = [];
}
