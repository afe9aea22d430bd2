// The response shapes of the OpenAI API (and the vLLM fields the pipeline reads), built from engine
// results: completion and chat objects, their streaming chunks, the two log-prob formats (the legacy
// completions one and the chat one), vLLM's prompt_logprobs, usage, and error bodies. Kept apart from the
// HTTP code so the shapes can be read against OpenAI's reference in one place.
import { randomBytes } from 'node:crypto';
import type { TokenLogprob } from '../engine/tokenlogp.js';
import type { Completion } from '../engine/types.js';
import type { ApiError } from './protocol.js';

/** The tokenizer as the shapes need it: the string of every id, and which ids are special. */
export interface VocabView {
  tokens: readonly string[];
  special: ReadonlySet<number>;
}

export const newId = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`;
export const now = (): number => Math.floor(Date.now() / 1000);

/** JSON has no -Infinity; vLLM sends -9999 for an impossible token, and so do we. */
const fin = (x: number): number => (Number.isFinite(x) ? x : -9999);

/** A token's text in the output: special tokens vanish with skip_special_tokens (vLLM's default). */
export function piece(v: VocabView, id: number, skip: boolean): string {
  return skip && v.special.has(id) ? '' : v.tokens[id]!;
}

/**
 * The text as sent. The engine's text is its tokens' strings cut at a stop string, with special tokens
 * rendering as nothing (src/engine/tokenizer.ts `pieces`); skip_special_tokens: false puts the special
 * tokens' strings back where they were sampled.
 */
export function visibleText(v: VocabView, tokens: readonly number[], text: string, skip: boolean): string {
  if (skip || !tokens.some((t) => v.special.has(t))) return text;
  let out = '',
    pos = 0;
  for (const t of tokens) {
    if (v.special.has(t)) {
      out += v.tokens[t]!;
      continue;
    }
    if (pos >= text.length) break;
    const s = v.tokens[t]!;
    out += s.slice(0, text.length - pos);
    pos += s.length;
  }
  return out;
}

export function finishReason(c: Completion): 'stop' | 'length' {
  return c.finish_reason === 'length' ? 'length' : 'stop';
}

/** vLLM's stop_reason: the stop string that ended the completion; null when it ended otherwise. */
export function stopReason(v: VocabView, c: Completion, stops: string[], includeStop: boolean): string | null {
  if (c.finish_reason !== 'stop') return null;
  const full = c.tokens.map((t) => v.tokens[t]!).join('');
  for (const s of stops) {
    if (!s) continue;
    if (includeStop ? c.text.endsWith(s) : full.startsWith(s, c.text.length)) return s;
  }
  return stops.find((s) => s) ?? null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const usage = (prompt: number, completion: number): Usage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

/** One position for the completions log-prob format: the token, its log-prob, its alternatives. */
export interface LpEntry {
  id: number;
  logprob: number | null;
  top: Array<[number, number]> | null;
}

export function promptEntries(ids: number[], lps: TokenLogprob[]): LpEntry[] {
  return ids.map((id, t) =>
    t === 0 ? { id, logprob: null, top: null } : { id, logprob: lps[t - 1]!.logprob, top: lps[t - 1]!.top },
  );
}

export function generatedEntries(
  c: { tokens: readonly number[]; logprobs: readonly number[] },
  top: ReadonlyArray<Array<[number, number]>> | undefined,
  from = 0,
): LpEntry[] {
  const out: LpEntry[] = [];
  for (let i = from; i < c.tokens.length; i++)
    out.push({ id: c.tokens[i]!, logprob: c.logprobs[i]!, top: top?.[i] ?? [] });
  return out;
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: Array<number | null>;
  top_logprobs: Array<Record<string, number> | null>;
  text_offset: number[];
}

/**
 * The legacy completions format. As in vLLM, each position's alternatives also hold the chosen token, so
 * logprobs: 0 gives the chosen tokens' log-probs alone. `offset` is where the first token starts in the text.
 */
export function completionLogprobs(
  v: VocabView,
  entries: LpEntry[],
  offset: number,
  skip: boolean,
  asIds: boolean,
): CompletionLogprobs {
  const name = (id: number) => (asIds ? `token_id:${id}` : v.tokens[id]!);
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const e of entries) {
    out.tokens.push(name(e.id));
    out.token_logprobs.push(e.logprob === null ? null : fin(e.logprob));
    if (e.top === null || e.logprob === null) out.top_logprobs.push(null);
    else {
      const d: Record<string, number> = {};
      for (const [id, lp] of e.top) d[name(id)] = fin(lp);
      d[name(e.id)] = fin(e.logprob);
      out.top_logprobs.push(d);
    }
    out.text_offset.push(offset);
    offset += piece(v, e.id, skip).length;
  }
  return out;
}

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

export function chatLogprobs(v: VocabView, entries: LpEntry[]): ChatTokenLogprob[] {
  const bytes = (s: string) => [...Buffer.from(s, 'utf8')];
  return entries.map((e) => ({
    token: v.tokens[e.id]!,
    logprob: fin(e.logprob ?? 0),
    bytes: bytes(v.tokens[e.id]!),
    top_logprobs: (e.top ?? []).map(([id, lp]) => ({
      token: v.tokens[id]!,
      logprob: fin(lp),
      bytes: bytes(v.tokens[id]!),
    })),
  }));
}

export type PromptLogprob = Record<string, { logprob: number; rank: number; decoded_token: string }> | null;

/** vLLM's prompt_logprobs: null for the first token, then the actual token and the top alternatives by id. */
export function promptLogprobs(v: VocabView, ids: number[], lps: TokenLogprob[]): PromptLogprob[] {
  return ids.map((id, t) => {
    if (t === 0) return null;
    const e = lps[t - 1]!;
    const d: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
    e.top.forEach(([alt, lp], i) => {
      let rank = 1;
      for (let j = 0; j < i; j++) if (e.top[j]![1] > lp) rank++;
      d[String(alt)] = { logprob: fin(lp), rank, decoded_token: v.tokens[alt]! };
    });
    d[String(id)] = { logprob: fin(e.logprob), rank: e.rank, decoded_token: v.tokens[id]! };
    return d;
  });
}

export function errorBody(e: ApiError): {
  error: { message: string; type: string; param: string | null; code: string | number | null };
} {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code ?? e.status } };
}
