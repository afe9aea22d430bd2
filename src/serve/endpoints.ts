// The two generation endpoints, from a validated request to an OpenAI-shaped answer: /v1/completions and
// /v1/chat/completions, plain or streamed as server-sent events. They encode and check the prompts (so
// nothing the engine would reject reaches a shared engine call), hand generation and prompt scoring to the
// batcher, and shape the results (shapes.ts).
//
// Seeds: every prompt of a request with `seed` S is generated with engine seed S, so completion j of a
// prompt draws from the stream (S, j), exactly as EmbeddedEngine.generate([prompt], {seeds: [S]}) does;
// this is vLLM's rule too (one seed for every prompt of a request). Without `seed` the server draws one.
//
// Streaming holds back the last (longest stop string − 1) characters of a sample until it finishes, so
// text already sent is never cut by a stop string completed later.
import { randomBytes } from 'node:crypto';
import type { SampleState } from '../engine/generate.js';
import type { TokenLogprob } from '../engine/tokenlogp.js';
import type { Tokenizer } from '../engine/tokenizer.js';
import type { Completion, GenerateOptions } from '../engine/types.js';
import type { Batcher } from './batcher.js';
import { renderChat } from './chat.js';
import {
  ApiError,
  encodePrompt,
  type ChatRequest,
  type CompletionRequest,
  type Limits,
  type Sampling,
} from './protocol.js';
import {
  chatLogprobs,
  completionLogprobs,
  finishReason,
  generatedEntries,
  newId,
  now,
  piece,
  promptEntries,
  promptLogprobs,
  stopReason,
  usage,
  visibleText,
  type LpEntry,
  type VocabView,
} from './shapes.js';

export interface EndpointContext {
  batcher: Batcher;
  tokenizer: Tokenizer;
  vocab: VocabView;
  nCtx: number;
  model: string;
  limits: Limits;
}

/** Where a streamed answer goes (the HTTP response, as server-sent events). */
export interface StreamSink {
  start(): void;
  send(chunk: unknown): void;
  end(): void;
}

const EMPTY: Completion = { text: '', tokens: [], logprobs: [], finish_reason: 'length' };

function checkModel(ctx: EndpointContext, m: string | undefined): void {
  if (m !== undefined && m !== ctx.model) {
    throw new ApiError(
      404,
      `the model '${m}' does not exist; this server serves '${ctx.model}' (see GET /v1/models)`,
      'model',
      'model_not_found',
    );
  }
}

function checkLength(ctx: EndpointContext, ids: number[], generating: boolean, where: string): void {
  if (ids.length === 0)
    throw new ApiError(400, `${where} is empty; the model needs at least one prompt token`, 'prompt');
  if (generating && ids.length >= ctx.nCtx) {
    throw new ApiError(
      400,
      `${where} has ${ids.length} tokens; the model's context is ${ctx.nCtx} tokens, which leaves no room to ` +
        `generate. Shorten the prompt.`,
      'prompt',
    );
  }
  if (!generating && ids.length - 1 > ctx.nCtx) {
    throw new ApiError(
      400,
      `${where} has ${ids.length} tokens; scoring it needs ${ids.length - 1} positions but the model's context ` +
        `is ${ctx.nCtx}`,
      'prompt',
    );
  }
}

const drawSeed = (): number => randomBytes(4).readUInt32LE(0);

/** The engine options of a request: every prompt gets the request's seed. */
function engineOptions(
  ctx: EndpointContext,
  r: Sampling,
  top: number,
  seed: number,
  prompts: number,
): GenerateOptions & { seeds: number[] } {
  // without max_tokens: up to the end of the context (the engine stops there with finish_reason "length")
  return {
    n: r.n,
    temperature: r.temperature,
    top_p: r.top_p,
    max_tokens: r.max_tokens ?? ctx.nCtx,
    stop: r.stop,
    include_stop: r.include_stop,
    ignore_eos: r.ignore_eos,
    top_logprobs: top,
    seeds: new Array<number>(prompts).fill(seed),
  };
}

/** Tracks what has been streamed of one choice and computes the next delta. */
class ChoiceStream {
  /** Characters of text sent. */
  chars = 0;
  /** Tokens sent, and where the next one starts in the text. */
  tokens = 0;
  tokenChars = 0;
  done = false;
  constructor(
    private readonly ctx: EndpointContext,
    private readonly skip: boolean,
    private readonly holdBack: number,
  ) {}

  /** The text and token entries not yet sent that are safe to send now; `offset`: the first entry's text offset. */
  next(
    s: SampleState,
    top: ReadonlyArray<Array<[number, number]>> | undefined,
  ): { text: string; entries: LpEntry[]; offset: number } {
    const visible = visibleText(this.ctx.vocab, s.tokens, s.text, this.skip);
    const safe = s.finish ? visible.length : Math.max(this.chars, visible.length - this.holdBack);
    const text = visible.slice(this.chars, safe);
    this.chars = Math.max(this.chars, safe);
    const entries = generatedEntries(s, top, this.tokens);
    const offset = this.tokenChars;
    for (const e of entries) this.tokenChars += piece(this.ctx.vocab, e.id, this.skip).length;
    this.tokens = s.tokens.length;
    return { text, entries, offset };
  }
}

export async function completions(
  ctx: EndpointContext,
  req: CompletionRequest,
  signal: AbortSignal,
  sink?: StreamSink,
): Promise<unknown> {
  checkModel(ctx, req.model);
  const generating = req.max_tokens !== 0;
  const ids = req.prompts.map((p, i) => {
    const where = req.prompts.length > 1 ? `prompt ${i}` : 'the prompt';
    const e = encodePrompt(ctx.tokenizer, p, where);
    checkLength(ctx, e, generating, where);
    return e;
  });
  const seed = req.seed ?? drawSeed();
  const k = req.logprobs;
  const params = engineOptions(ctx, req, k ?? 0, seed, ids.length);
  const scoreTop = Math.max(req.echo && k !== null ? k : -1, req.prompt_logprobs ?? -1);
  const skip = req.skip_special_tokens;
  const v = ctx.vocab;
  const echoText = ids.map((e, i) =>
    typeof req.prompts[i] === 'string' ? (req.prompts[i] as string) : e.map((t) => piece(v, t, skip)).join(''),
  );
  const id = newId('cmpl');
  const created = now();
  const n = req.n;
  const base = { id, object: 'text_completion', created, model: ctx.model };
  const promptTokens = ids.reduce((a, e) => a + e.length, 0);

  if (!sink) {
    const [lps, gen] = await Promise.all([
      scoreTop >= 0 ? ctx.batcher.score(ids, scoreTop, signal) : undefined,
      generating ? ctx.batcher.generate(ids, params, undefined, signal) : undefined,
    ]);
    let completionTokens = 0;
    const choices = [];
    for (let i = 0; i < ids.length; i++) {
      for (let j = 0; j < n; j++) {
        const c = gen ? gen[i]![j]! : EMPTY;
        completionTokens += c.tokens.length;
        const text = visibleText(v, c.tokens, c.text, skip);
        let logprobs = null;
        if (k !== null) {
          const entries = [
            ...(req.echo ? promptEntries(ids[i]!, lps![i]!) : []),
            ...generatedEntries(c, c.top_logprobs),
          ];
          logprobs = completionLogprobs(v, entries, 0, skip, req.return_token_ids);
        }
        const choice: Record<string, unknown> = {
          index: i * n + j,
          text: (req.echo ? echoText[i] : '') + text,
          logprobs,
          finish_reason: finishReason(c),
          stop_reason: stopReason(v, c, req.stop, req.include_stop),
        };
        if (req.prompt_logprobs !== null)
          choice.prompt_logprobs = promptLogprobs(
            v,
            ids[i]!,
            lps![i]!.map((t) => ({ ...t, top: t.top.slice(0, req.prompt_logprobs!) })),
          );
        choices.push(choice);
      }
    }
    return { ...base, choices, usage: usage(promptTokens, completionTokens) };
  }

  // streaming
  const lps = scoreTop >= 0 ? await ctx.batcher.score(ids, scoreTop, signal) : undefined;
  sink.start();
  if (req.echo || req.prompt_logprobs !== null) {
    // the prompt's part first: its text (echo), its log-probs (echo + logprobs), prompt_logprobs
    ids.forEach((e, i) => {
      for (let j = 0; j < n; j++) {
        const logprobs =
          req.echo && k !== null
            ? completionLogprobs(v, promptEntries(e, lps![i]!), 0, skip, req.return_token_ids)
            : null;
        const choice: Record<string, unknown> = {
          index: i * n + j,
          text: req.echo ? echoText[i] : '',
          logprobs,
          finish_reason: null,
          stop_reason: null,
        };
        if (req.prompt_logprobs !== null)
          choice.prompt_logprobs = promptLogprobs(
            v,
            e,
            lps![i]!.map((t) => ({ ...t, top: t.top.slice(0, req.prompt_logprobs!) })),
          );
        sink.send({ ...base, choices: [choice], usage: null });
      }
    });
  }
  const hold = Math.max(0, ...req.stop.map((s) => s.length - 1));
  const streams = ids.map((_, i) => Array.from({ length: n }, () => new ChoiceStream(ctx, skip, hold)));
  let completionTokens = 0;
  await ctx.batcher.generate(
    ids,
    params,
    (i, s) => {
      const st = streams[i]![s.index]!;
      if (st.done) return;
      const d = st.next(s, s.top);
      const offset = (req.echo ? echoText[i]!.length : 0) + d.offset;
      const finished = s.finish !== undefined;
      if (!d.text && !d.entries.length && !finished) return;
      const c = snapshot(s);
      sink.send({
        ...base,
        choices: [
          {
            index: i * n + s.index,
            text: d.text,
            logprobs: k !== null ? completionLogprobs(v, d.entries, offset, skip, req.return_token_ids) : null,
            finish_reason: finished ? finishReason(c) : null,
            stop_reason: finished ? stopReason(v, c, req.stop, req.include_stop) : null,
          },
        ],
        usage: null,
      });
      if (finished) {
        st.done = true;
        completionTokens += s.tokens.length;
      }
    },
    signal,
  );
  if (req.include_usage) sink.send({ ...base, choices: [], usage: usage(promptTokens, completionTokens) });
  sink.end();
  return undefined;
}

export async function chat(
  ctx: EndpointContext,
  req: ChatRequest,
  signal: AbortSignal,
  sink?: StreamSink,
): Promise<unknown> {
  checkModel(ctx, req.model);
  const rendered = renderChat(req.messages, req.add_generation_prompt, req.continue_final_message);
  const where = 'the chat prompt (the messages in the chat template)';
  const ids = encodePrompt(ctx.tokenizer, rendered.prompt, where);
  checkLength(ctx, ids, true, where);
  const seed = req.seed ?? drawSeed();
  const top = req.logprobs ? req.top_logprobs : 0;
  const params = engineOptions(ctx, req, top, seed, 1);
  const skip = req.skip_special_tokens;
  const v = ctx.vocab;
  const prefix = req.echo ? rendered.continued : '';
  const id = newId('chatcmpl');
  const created = now();
  const base = {
    id,
    object: sink ? 'chat.completion.chunk' : 'chat.completion',
    created,
    model: ctx.model,
    system_fingerprint: null,
  };
  const plp = req.prompt_logprobs;
  const scored = plp !== null ? await ctx.batcher.score([ids], plp, signal) : undefined;
  const promptLp = scored ? { prompt_logprobs: promptLogprobs(v, ids, scored[0]! as TokenLogprob[]) } : {};

  if (!sink) {
    const gen = (await ctx.batcher.generate([ids], params, undefined, signal))[0]!;
    const choices = gen.map((c, j) => ({
      index: j,
      message: {
        role: 'assistant',
        content: prefix + visibleText(v, c.tokens, c.text, skip),
        refusal: null,
        tool_calls: [],
      },
      logprobs: req.logprobs ? { content: chatLogprobs(v, generatedEntries(c, c.top_logprobs)), refusal: null } : null,
      finish_reason: finishReason(c),
      stop_reason: stopReason(v, c, req.stop, req.include_stop),
    }));
    const completionTokens = gen.reduce((a, c) => a + c.tokens.length, 0);
    return { ...base, choices, usage: usage(ids.length, completionTokens), ...promptLp };
  }

  sink.start();
  for (let j = 0; j < req.n; j++) {
    sink.send({
      ...base,
      choices: [{ index: j, delta: { role: 'assistant', content: prefix }, logprobs: null, finish_reason: null }],
      usage: null,
      ...(j === 0 ? promptLp : {}),
    });
  }
  const hold = Math.max(0, ...req.stop.map((s) => s.length - 1));
  const streams = Array.from({ length: req.n }, () => new ChoiceStream(ctx, skip, hold));
  let completionTokens = 0;
  await ctx.batcher.generate(
    [ids],
    params,
    (_i, s) => {
      const st = streams[s.index]!;
      if (st.done) return;
      const d = st.next(s, s.top);
      const finished = s.finish !== undefined;
      if (!d.text && !d.entries.length && !finished) return;
      const c = snapshot(s);
      sink.send({
        ...base,
        choices: [
          {
            index: s.index,
            delta: d.text || !finished ? { content: d.text } : {},
            logprobs: req.logprobs ? { content: chatLogprobs(v, d.entries), refusal: null } : null,
            finish_reason: finished ? finishReason(c) : null,
            stop_reason: finished ? stopReason(v, c, req.stop, req.include_stop) : null,
          },
        ],
        usage: null,
      });
      if (finished) {
        st.done = true;
        completionTokens += s.tokens.length;
      }
    },
    signal,
  );
  if (req.include_usage) sink.send({ ...base, choices: [], usage: usage(ids.length, completionTokens) });
  sink.end();
  return undefined;
}

/** A streamed sample as a Completion so far (finish reason 'length' until it has one). */
function snapshot(s: SampleState): Completion {
  return {
    text: s.text,
    tokens: s.tokens as number[],
    logprobs: s.logprobs as number[],
    finish_reason: s.finish ?? 'length',
  };
}
