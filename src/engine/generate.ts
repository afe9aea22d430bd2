// Batched sampling with a KV cache and prefix sharing (issue "[1 of 5]": the n candidates of one prompt,
// and many prompts sharing a long prefix, reuse the prefix's cache). The prompts of a call are put in a
// radix tree: each node is a run of tokens shared by all prompts below it and owns one KV segment. Nodes
// are prefilled level by level (a level's rows in as few model calls as fit), then every completion gets
// its own segment chained after its prompt's, and all live completions advance together, one row each.
//
// Each completion draws from its own stream, seeded from (prompt seed, sample index), and every row's
// arithmetic is independent of the batch (infer.ts), so a completion is the same whether its prompt was
// shared, batched with others, or run alone.
//
// `generateSteps` is the same loop as a generator that pauses after every model call and shows the samples
// it advanced, so a caller (the server) can stream tokens and let its event loop run between steps;
// `generateTokens` runs it to the end in one go.
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

interface Sample {
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
  runner: InferRunner, vocab: string[], eos: number, req: TokenRequest, stats?: GenerateStats,
): Completion[][] {
  const steps = generateSteps(runner, vocab, eos, req, stats);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Yields after each model call the samples that call advanced (none during prefill); returns the results. */
export function* generateSteps(
  runner: InferRunner, vocab: string[], eos: number, req: TokenRequest, stats?: GenerateStats,
): Generator<readonly SampleState[], Completion[][], void> {
  const model = runner.model;
  const nCtx = model.cfg.n_ctx;
  const V = model.cfg.vocab_size;
  req.prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty: the embedded model needs at least one prompt token`);
    if (p.length >= nCtx) throw new Error(`prompt ${i} has ${p.length} tokens; the model context is ${nCtx}, leaving no room to generate`);
  });
  // virtual prompts: with sharing, one per prompt (its n samples hang below it); without, one per sample
  const vPrompts: number[][] = [];
  const vOwner: Array<[number, number[]]> = []; // [prompt index, sample indices]
  for (let i = 0; i < req.prompts.length; i++) {
    if (req.share_prefix) {
      vPrompts.push(req.prompts[i]!);
      vOwner.push([i, Array.from({ length: req.n }, (_, j) => j)]);
    } else {
      for (let j = 0; j < req.n; j++) { vPrompts.push(req.prompts[i]!); vOwner.push([i, [j]]); }
    }
  }
  const results: Completion[][] = req.prompts.map(() => new Array<Completion>(req.n));
  const segments: Segment[] = [];
  const chains: Chain[] = [];
  try {
    // 1. prefill the tree level by level
    const nodes: Node[] = [];
    const roots: Node[] = [];
    if (req.share_prefix) {
      buildTree(vPrompts, vPrompts.map((_, i) => i), 0, undefined, nodes);
    } else {
      vPrompts.forEach((p, i) => nodes.push({ tokens: p.slice(), start: 0, parent: undefined, children: [], terminals: [i] }));
    }
    for (const nd of nodes) if (!nd.parent) roots.push(nd);
    const terminalLogp = new Map<Node, { row: Float32Array; off: number }>();
    let level = roots;
    while (level.length) {
      for (const nd of level) {
        const seg = new Segment(model, nd.tokens.length);
        segments.push(seg);
        nd.chain = new Chain(model, [...(nd.parent ? nd.parent.chain!.segments : []), seg]);
        chains.push(nd.chain);
      }
      // rows of this level, in order, cut into calls of at most max_rows
      let rows: InferRow[] = [];
      let want: number[] = [];
      let wantNodes: Node[] = [];
      const flush = () => {
        if (!rows.length) return;
        const out = runner.run(rows, want);
        if (stats) { stats.calls++; stats.prefill_tokens += rows.length; }
        wantNodes.forEach((nd, j) => terminalLogp.set(nd, { row: out, off: j * V }));
        rows = []; want = []; wantNodes = [];
      };
      for (const nd of level) {
        for (let t = 0; t < nd.tokens.length; t++) {
          rows.push({ token: nd.tokens[t]!, pos: nd.start + t, chain: nd.chain!, slot: t });
          if (t === nd.tokens.length - 1 && nd.terminals.length) { want.push(rows.length - 1); wantNodes.push(nd); }
          if (rows.length >= req.max_rows) { flush(); yield []; }
        }
      }
      flush();
      yield [];
      level = level.flatMap((nd) => nd.children);
    }
    if (stats) stats.prompt_tokens += req.prompts.reduce((a, p) => a + p.length, 0) * (req.share_prefix ? 1 : req.n);

    // 2. one sample per (prompt, index), first token from the prompt's final logits
    const live: Sample[] = [];
    const first: Sample[] = [];
    for (const nd of nodes) {
      for (const v of nd.terminals) {
        const [pi, sampleIdx] = vOwner[v]!;
        const promptLen = vPrompts[v]!.length;
        const cap = Math.max(1, Math.min(req.max_tokens, nCtx - promptLen));
        const lp = terminalLogp.get(nd)!;
        for (const j of sampleIdx) {
          const seg = new Segment(model, cap);
          segments.push(seg);
          const chain = new Chain(model, [...nd.chain!.segments, seg]);
          chains.push(chain);
          const s: Sample = {
            prompt: pi, index: j, rng: new Rng(deriveSeed(req.seeds[pi]!, j)), chain, promptLen,
            tokens: [], logprobs: [], text: '', top: req.top_logprobs ? [] : undefined,
          };
          advance(s, lp.row, lp.off);
          if (s.finish) finish(s); else live.push(s);
          first.push(s);
        }
      }
    }
    yield first;

    // 3. decode all live samples together
    function advance(s: Sample, row: Float32Array, off: number): void {
      const tok = sampleToken(row, off, V, req.temperature, req.top_p, s.rng);
      if (tok === eos && !req.ignore_eos) { s.finish = 'eos'; return; }
      s.tokens.push(tok);
      s.logprobs.push(row[off + tok]!);
      s.top?.push(topK(row, off, V, req.top_logprobs!));
      const before = s.text.length;
      s.text += vocab[tok]!;
      for (const stop of req.stop) {
        if (!stop) continue;
        const at = s.text.indexOf(stop, Math.max(0, before - stop.length + 1));
        if (at >= 0) {
          s.text = s.text.slice(0, req.include_stop ? at + stop.length : at);
          s.finish = 'stop';
          return;
        }
      }
      if (s.tokens.length >= req.max_tokens || s.promptLen + s.tokens.length >= nCtx) s.finish = 'length';
    }
    function finish(s: Sample): void {
      const c: Completion = { text: s.text, tokens: s.tokens, logprobs: s.logprobs, finish_reason: s.finish! };
      if (s.top) c.top_logprobs = s.top;
      results[s.prompt]![s.index] = c;
    }
    let active = live;
    while (active.length) {
      const next: Sample[] = [];
      for (let start = 0; start < active.length; start += req.max_rows) {
        const batch = active.slice(start, start + req.max_rows);
        const rows: InferRow[] = batch.map((s) => ({
          token: s.tokens[s.tokens.length - 1]!, pos: s.promptLen + s.tokens.length - 1, chain: s.chain, slot: s.tokens.length - 1,
        }));
        const out = runner.run(rows, rows.map((_, i) => i));
        if (stats) { stats.calls++; stats.decode_tokens += rows.length; }
        batch.forEach((s, i) => {
          advance(s, out, i * V);
          if (s.finish) finish(s); else next.push(s);
        });
        yield batch;
      }
      active = next;
    }
    return results;
  } finally {
    for (const c of chains) c.release();
    for (const s of segments) s.release();
  }
}
