// Request validation for the OpenAI-compatible server: turns an untrusted JSON body into a typed request,
// or an `ApiError` (a 4xx status and a message naming the field, what it got and what it accepts). Every
// field the server reads is checked here, so the handlers and the engine only ever see sane values and a
// malformed body can never reach the model. Parameters the engine cannot honour (penalties, logit bias,
// tools, beam search...) are refused with a message instead of being silently ignored; fields that change
// nothing (user, metadata...) are accepted and ignored, as OpenAI's own clients send some of them.
import { Tokenizer } from '../engine/tokenizer.js';

/** An error with an HTTP status, sent to the client in OpenAI's `{error: {...}}` shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  get type(): string {
    if (this.status === 401) return 'authentication_error';
    if (this.status === 404) return 'not_found_error';
    if (this.status === 429) return 'rate_limit_error';
    if (this.status >= 500) return 'server_error';
    return 'invalid_request_error';
  }
}

/** Request size and parameter limits (the `psrlm serve` flags set the first few). */
export interface Limits {
  /** Largest request body in bytes. */
  max_body_bytes: number;
  /** Prompts in one completions request. */
  max_prompts: number;
  max_n: number;
  /** prompts × n in one request. */
  max_samples: number;
  /** Largest max_tokens accepted (generation also ends at the model's context). */
  max_tokens: number;
  max_stop: number;
  max_stop_chars: number;
  /** Largest logprobs / top_logprobs / prompt_logprobs. */
  max_logprobs: number;
  max_messages: number;
}

export const DEFAULT_LIMITS: Limits = {
  max_body_bytes: 4 << 20,
  max_prompts: 256,
  max_n: 64,
  max_samples: 1024,
  max_tokens: 1 << 16,
  max_stop: 16,
  max_stop_chars: 256,
  max_logprobs: 20,
  max_messages: 256,
};

/** Sampling parameters shared by both endpoints, resolved to what the engine takes. */
export interface Sampling {
  n: number;
  temperature: number;
  top_p: number;
  /** Undefined: up to the end of the model's context. 0 (only with echo/prompt_logprobs): score only. */
  max_tokens: number | undefined;
  stop: string[];
  include_stop: boolean;
  ignore_eos: boolean;
  /** Undefined: the server draws a random seed for the request. */
  seed: number | undefined;
  skip_special_tokens: boolean;
  /** vLLM's prompt_logprobs: null, or the number of alternatives per prompt position. */
  prompt_logprobs: number | null;
  stream: boolean;
  include_usage: boolean;
}

export interface CompletionRequest extends Sampling {
  kind: 'completion';
  model: string | undefined;
  prompts: Array<string | number[]>;
  /** null: no logprobs; k: token log-probs with the k likeliest alternatives. */
  logprobs: number | null;
  echo: boolean;
  return_token_ids: boolean;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest extends Sampling {
  kind: 'chat';
  model: string | undefined;
  messages: ChatMessage[];
  logprobs: boolean;
  top_logprobs: number;
  continue_final_message: boolean;
  add_generation_prompt: boolean;
  echo: boolean;
}

type Body = Record<string, unknown>;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
};
const bad = (param: string, msg: string): ApiError => new ApiError(400, `'${param}' ${msg}`, param);

/** Parses the body of a POST: a JSON object, or a 400 saying what is wrong with it. */
export function parseBody(raw: Buffer): Body {
  if (raw.length === 0)
    throw new ApiError(400, 'the request body is empty; send a JSON object (Content-Type: application/json)');
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new ApiError(400, `the request body is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ApiError(400, `the request body must be a JSON object, got ${typeName(v)}`);
  return v as Body;
}

function optBool(b: Body, k: string, dflt: boolean): boolean {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw bad(k, `must be true or false, got ${show(v)}`);
  return v;
}

function optInt(b: Body, k: string, lo: number, hi: number): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(k, `must be an integer, got ${show(v)}`);
  if (v < lo || v > hi) throw bad(k, `must be between ${lo} and ${hi}, got ${v}`);
  return v;
}

function optNum(b: Body, k: string, ok: (x: number) => boolean, range: string): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(k, `must be a number, got ${show(v)}`);
  if (!ok(v)) throw bad(k, `must be ${range}, got ${v}`);
  return v;
}

/** Fields the engine cannot honour: refused unless they hold their no-op value. */
function refuseUnsupported(b: Body): void {
  const zero = (k: string, what: string) => {
    const v = b[k];
    if (v !== undefined && v !== null && v !== 0)
      throw bad(k, `is not supported by this server (${what}); leave it out or set it to 0`);
  };
  zero('frequency_penalty', 'no penalties');
  zero('presence_penalty', 'no penalties');
  zero('min_p', 'no min-p sampling');
  zero('min_tokens', 'no minimum length');
  if (b.repetition_penalty !== undefined && b.repetition_penalty !== null && b.repetition_penalty !== 1) {
    throw bad('repetition_penalty', 'is not supported by this server; leave it out or set it to 1');
  }
  if (b.top_k !== undefined && b.top_k !== null && b.top_k !== -1 && b.top_k !== 0) {
    throw bad('top_k', 'is not supported by this server (top-p only); leave it out or set it to -1');
  }
  const empty = (k: string, what: string) => {
    const v = b[k];
    if (v === undefined || v === null) return;
    if (
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0)
    )
      return;
    throw bad(k, `is not supported by this server (${what})`);
  };
  empty('logit_bias', 'no logit bias');
  empty('stop_token_ids', 'generation stops at the end-of-sequence token and at stop strings only');
  empty('tools', 'no tool calling');
  empty('functions', 'no function calling');
  for (const k of [
    'suffix',
    'guided_json',
    'guided_regex',
    'guided_choice',
    'guided_grammar',
    'chat_template',
    'tool_choice',
    'function_call',
  ]) {
    if (b[k] !== undefined && b[k] !== null && !(k.endsWith('choice') && b[k] === 'none'))
      throw bad(k, 'is not supported by this server');
  }
  if (b.use_beam_search === true) throw bad('use_beam_search', 'is not supported by this server (sampling only)');
  const rf = b.response_format as { type?: unknown } | undefined | null;
  if (rf !== undefined && rf !== null && !(typeof rf === 'object' && rf.type === 'text')) {
    throw bad('response_format', 'is not supported by this server (plain text only)');
  }
}

function sampling(b: Body, lim: Limits, promptCount: number, maxTokensKey: string): Sampling {
  refuseUnsupported(b);
  const n = optInt(b, 'n', 1, lim.max_n) ?? 1;
  if (promptCount * n > lim.max_samples) {
    throw bad(
      'n',
      `asks for ${promptCount * n} completions (${promptCount} prompt(s) × n=${n}); this server ` +
        `allows ${lim.max_samples} per request`,
    );
  }
  const bestOf = b.best_of;
  if (bestOf !== undefined && bestOf !== null && bestOf !== n)
    throw bad('best_of', `is not supported (no ranking of samples); leave it out or set it equal to n`);
  let stop: string[] = [];
  const st = b.stop;
  if (typeof st === 'string') stop = [st];
  else if (Array.isArray(st)) {
    if (!st.every((x) => typeof x === 'string')) throw bad('stop', 'must be a string or an array of strings');
    stop = st as string[];
  } else if (st !== undefined && st !== null)
    throw bad('stop', `must be a string or an array of strings, got ${typeName(st)}`);
  if (stop.length > lim.max_stop) throw bad('stop', `has ${stop.length} strings; at most ${lim.max_stop} are allowed`);
  for (const s of stop)
    if (s.length > lim.max_stop_chars)
      throw bad('stop', `has a string of ${s.length} characters; at most ${lim.max_stop_chars} are allowed`);
  const stream = optBool(b, 'stream', false);
  const so = b.stream_options;
  let include_usage = false;
  if (so !== undefined && so !== null) {
    if (!stream) throw bad('stream_options', 'is only allowed when stream is true');
    if (typeof so !== 'object' || Array.isArray(so))
      throw bad('stream_options', `must be an object, got ${typeName(so)}`);
    include_usage = optBool(so as Body, 'include_usage', false);
  }
  const seed = optInt(b, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return {
    n,
    temperature: optNum(b, 'temperature', (x) => x >= 0 && x <= 2, 'between 0 and 2') ?? 1,
    top_p:
      optNum(
        b,
        'top_p',
        (x) => x > 0 && x <= 1,
        'in (0, 1] (0 would keep no token; use temperature 0 for greedy decoding)',
      ) ?? 1,
    max_tokens: optInt(b, maxTokensKey, 0, lim.max_tokens),
    stop,
    include_stop: optBool(b, 'include_stop_str_in_output', false),
    ignore_eos: optBool(b, 'ignore_eos', false),
    seed,
    skip_special_tokens: optBool(b, 'skip_special_tokens', true),
    prompt_logprobs: optInt(b, 'prompt_logprobs', 0, lim.max_logprobs) ?? null,
    stream,
    include_usage,
  };
}

function modelField(b: Body): string | undefined {
  const m = b.model;
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'string') throw bad('model', `must be a string, got ${typeName(m)}`);
  return m;
}

/** POST /v1/completions. */
export function parseCompletion(b: Body, lim: Limits): CompletionRequest {
  const p = b.prompt;
  let prompts: Array<string | number[]>;
  const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.every((t) => typeof t === 'number');
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else if (Array.isArray(p) && p.length > 0 && isIds(p)) prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every(isIds)) prompts = p as number[][];
  else if (p === undefined || p === null)
    throw bad('prompt', 'is required: a string, an array of strings, an array of token ids, or an array of those');
  else if (Array.isArray(p) && p.length === 0) throw bad('prompt', 'is an empty array; send at least one prompt');
  else
    throw bad(
      'prompt',
      'must be a string, an array of strings, an array of token ids, or an array of token-id arrays (not a mix)',
    );
  if (prompts.length > lim.max_prompts)
    throw bad('prompt', `has ${prompts.length} prompts; at most ${lim.max_prompts} per request are allowed`);
  const lp = b.logprobs;
  if (typeof lp === 'boolean')
    throw bad(
      'logprobs',
      'must be an integer (the number of alternatives per token) in the completions API; true/false is the chat ' +
        "API's form",
    );
  const s = sampling(b, lim, prompts.length, 'max_tokens');
  const req: CompletionRequest = {
    ...s,
    kind: 'completion',
    model: modelField(b),
    prompts,
    logprobs: optInt(b, 'logprobs', 0, lim.max_logprobs) ?? null,
    echo: optBool(b, 'echo', false),
    return_token_ids: optBool(b, 'return_tokens_as_token_ids', false),
  };
  if (req.max_tokens === 0 && !req.echo && req.prompt_logprobs === null) {
    throw bad(
      'max_tokens',
      'is 0, which generates nothing; it is only allowed with echo or prompt_logprobs (scoring a prompt)',
    );
  }
  if (req.stream && req.max_tokens === 0) throw bad('stream', 'is not supported with max_tokens 0 (nothing to stream)');
  return req;
}

function contentText(c: unknown, where: string): string {
  if (typeof c === 'string') return c;
  if (c === null || c === undefined) return '';
  if (Array.isArray(c)) {
    return c
      .map((part, j) => {
        const pt = part as { type?: unknown; text?: unknown };
        if (typeof part !== 'object' || part === null || pt.type !== 'text' || typeof pt.text !== 'string') {
          throw bad(`${where}.content[${j}]`, `must be {"type": "text", "text": "..."}; this server takes text only`);
        }
        return pt.text;
      })
      .join('');
  }
  throw bad(`${where}.content`, `must be a string or an array of text parts, got ${typeName(c)}`);
}

/** POST /v1/chat/completions. */
export function parseChat(b: Body, lim: Limits): ChatRequest {
  const ms = b.messages;
  if (!Array.isArray(ms) || ms.length === 0) throw bad('messages', 'must be a non-empty array of {role, content}');
  if (ms.length > lim.max_messages)
    throw bad('messages', `has ${ms.length} messages; at most ${lim.max_messages} are allowed`);
  const messages: ChatMessage[] = ms.map((m, i) => {
    const where = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      throw bad(where, `must be an object {role, content}, got ${typeName(m)}`);
    const mm = m as Body;
    let role = mm.role;
    if (role === 'developer') role = 'system';
    if (role !== 'system' && role !== 'user' && role !== 'assistant') {
      throw bad(
        `${where}.role`,
        `must be "system", "developer", "user" or "assistant", got ${show(role)} (tool messages are not supported)`,
      );
    }
    if (
      mm.tool_calls !== undefined &&
      mm.tool_calls !== null &&
      !(Array.isArray(mm.tool_calls) && mm.tool_calls.length === 0)
    ) {
      throw bad(`${where}.tool_calls`, 'is not supported by this server (no tool calling)');
    }
    return { role, content: contentText(mm.content, where) };
  });
  if (
    b.max_tokens !== undefined &&
    b.max_tokens !== null &&
    b.max_completion_tokens !== undefined &&
    b.max_completion_tokens !== null &&
    b.max_tokens !== b.max_completion_tokens
  ) {
    throw bad('max_completion_tokens', 'and max_tokens are both set, to different values; send one of them');
  }
  const key =
    b.max_completion_tokens !== undefined && b.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const s = sampling(b, lim, 1, key);
  if (s.max_tokens === 0) throw bad(key, 'must be at least 1');
  const logprobs = optBool(b, 'logprobs', false);
  const top = optInt(b, 'top_logprobs', 0, lim.max_logprobs);
  if (top !== undefined && top > 0 && !logprobs) throw bad('top_logprobs', 'needs logprobs: true');
  const cont = optBool(b, 'continue_final_message', false);
  const agpGiven = b.add_generation_prompt !== undefined && b.add_generation_prompt !== null;
  const agp = optBool(b, 'add_generation_prompt', !cont);
  if (cont) {
    if (messages[messages.length - 1]!.role !== 'assistant') {
      throw bad('continue_final_message', 'needs the last message to be from the assistant (the message to continue)');
    }
    if (agpGiven && agp)
      throw bad(
        'add_generation_prompt',
        'cannot be true together with continue_final_message (the reply would start a new message)',
      );
  }
  return {
    ...s,
    kind: 'chat',
    model: modelField(b),
    messages,
    logprobs,
    top_logprobs: top ?? 0,
    continue_final_message: cont,
    add_generation_prompt: agp,
    echo: optBool(b, 'echo', false),
  };
}

/** Encodes a prompt (text or ids) for the model, or a 400 naming the prompt and what is wrong. */
export function encodePrompt(tok: Tokenizer, p: string | number[], where: string): number[] {
  if (typeof p !== 'string') {
    const V = tok.vocabSize;
    for (const t of p) {
      if (!Number.isInteger(t) || t < 0 || t >= V)
        throw new ApiError(400, `${where} has token id ${t}; ids must be integers in [0, ${V})`, 'prompt');
    }
    return p;
  }
  try {
    return tok.encode(p);
  } catch (e) {
    throw new ApiError(400, `${where}: ${(e as Error).message}`, 'prompt');
  }
}
