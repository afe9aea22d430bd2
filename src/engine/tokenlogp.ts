// Per-token log-probabilities of whole token sequences, position by position: what an OpenAI-compatible
// server reports for `echo` with `logprobs` and for vLLM's `prompt_logprobs` (the log-prob of each
// prompt token given the ones before it, its rank, and the likeliest alternatives).
//
// The sequences are prefilled through the inference forward (infer.ts) with every row's log-softmax kept.
// Its per-row arithmetic is the training forward's, so each value here equals, bit for bit, the term that
// `EmbeddedEngine.logprob` sums for the same position; a client that adds these up in order gets exactly
// the embedded engine's score.
import { Chain, Segment, type InferRow, type InferRunner } from './infer.js';
import { rankOf, topK } from './sampler.js';

export interface TokenLogprob {
  /** log p(token t | tokens before t). */
  logprob: number;
  /** 1 + the number of tokens the model found strictly likelier. */
  rank: number;
  /** The `top` likeliest [token id, log-prob] pairs at this position, likeliest first. */
  top: Array<[number, number]>;
}

/**
 * For each sequence, entries for positions 1..len-1 (position 0 has no context, so no entry). Inputs are
 * positions 0..len-2, so a sequence may be one token longer than the context, as in training.
 */
export function tokenLogprobs(runner: InferRunner, seqs: number[][], top: number, maxRows: number): TokenLogprob[][] {
  const model = runner.model;
  const { n_ctx: nCtx, vocab_size: V } = model.cfg;
  seqs.forEach((s, i) => {
    if (s.length - 1 > nCtx)
      throw new Error(
        `sequence ${i} has ${s.length} tokens; scoring it needs ${s.length - 1} positions but the model context ` +
          `is ${nCtx}`,
      );
    for (const t of s)
      if (!Number.isInteger(t) || t < 0 || t >= V)
        throw new Error(`sequence ${i}: token id ${t} is outside the vocabulary (size ${V})`);
  });
  const out: TokenLogprob[][] = seqs.map(() => []);
  const segments: Segment[] = [];
  const chains: Chain[] = [];
  try {
    let rows: InferRow[] = [];
    let owners: Array<[number, number]> = []; // [sequence, position of the predicted token]
    const flush = () => {
      if (!rows.length) return;
      const lp = runner.run(
        rows,
        rows.map((_, i) => i),
      );
      owners.forEach(([si, t], r) => {
        const id = seqs[si]![t]!;
        out[si]!.push({ logprob: lp[r * V + id]!, rank: rankOf(lp, r * V, V, id), top: topK(lp, r * V, V, top) });
      });
      rows = [];
      owners = [];
    };
    seqs.forEach((s, si) => {
      if (s.length < 2) return;
      const seg = new Segment(model, s.length - 1);
      segments.push(seg);
      const chain = new Chain(model, [seg]);
      chains.push(chain);
      for (let t = 0; t < s.length - 1; t++) {
        rows.push({ token: s[t]!, pos: t, chain, slot: t });
        owners.push([si, t + 1]);
        if (rows.length >= maxRows) flush();
      }
    });
    flush();
    return out;
  } finally {
    for (const c of chains) c.release();
    for (const s of segments) s.release();
  }
}
