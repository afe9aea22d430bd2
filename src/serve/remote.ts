// The remote engine: the `Engine` interface over one or several OpenAI-compatible servers (vLLM, SGLang,
// llama.cpp server, Ollama, psrlm serve), so the pipeline drives a server as it drives the embedded model.
//
// - Every call states every sampling parameter, penalties included: servers otherwise fill gaps from the
//   model's generation config (vLLM applies a checkpoint's repetition_penalty, for instance).
// - Seeds: prompt i is sent alone with the seed the embedded engine would give it (opts.seeds[i], else
//   deriveSeed(opts.seed, i)); psrlm serve generates a one-prompt request with seed S from engine seed S,
//   so against psrlm serve the results equal the embedded engine's bit for bit (n=request mode).
// - Calls go through a content-addressed cache (cache.ts) and a single-flight table, then a semaphore
//   (bounded concurrency), the endpoint pool (load spread) and retries with backoff (retry.ts).
// - Scoring uses vLLM's prompt_logprobs or the legacy echo + logprobs, on token ids when a tokenizer is
//   known, and says plainly when the server supports neither.
// - Training is out of scope: a remote engine implements `Engine` only, not `Trainer` (src/engine/types.ts),
//   so code that trains asks for a `Trainer` and cannot be handed one.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { deriveSeed } from '../engine/rng.js';
import { isHFTokenizerFile, loadHFTokenizer, type TextTokenizer } from '../engine/hftokenizer.js';
import { Tokenizer, type TokenizerJSON } from '../engine/tokenizer.js';
import type { Completion, Engine, FinishReason, GenerateOptions, ScoreRequest } from '../engine/types.js';
import { CallCache, callKey } from './cache.js';
import { EndpointPool, requestJSON, Semaphore, type Endpoint } from './pool.js';
import { describe, isRetryable, PermanentError, TransientError, withRetries } from './retry.js';
import { parseRemoteSpec, type RemoteOptions } from './spec.js';

export interface RemoteStats {
  /** generate/logprob calls to the server, as the engine counts them (one per prompt, or per sample with n=split). */
  calls: number;
  cache_hits: number;
  /** Calls answered by an identical call already in flight. */
  shared: number;
  http_attempts: number;
  retries: number;
}

interface Choice {
  index?: unknown;
  text?: unknown;
  finish_reason?: unknown;
  stop_reason?: unknown;
  logprobs?: { tokens?: unknown; token_logprobs?: unknown; top_logprobs?: unknown; text_offset?: unknown } | null;
  prompt_logprobs?: unknown;
}

function loadTokenizer(p: string): TextTokenizer {
  const file = existsSync(p) && statSync(p).isDirectory() ? path.join(p, 'tokenizer.json') : p;
  if (existsSync(file) && isHFTokenizerFile(file)) return loadHFTokenizer(file);
  let json: TokenizerJSON;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as TokenizerJSON;
  } catch (e) {
    throw new Error(
      `remote engine: cannot read the tokenizer '${file}' (${(e as Error).message}); pass tokenizer=<checkpoint ` +
        `dir or tokenizer.json> (psrlm's format, or a Hugging Face tokenizer.json with its tokenizer_config.json)`,
    );
  }
  return new Tokenizer(json);
}

export class RemoteEngine implements Engine {
  readonly name: string;
  readonly stats: RemoteStats = { calls: 0, cache_hits: 0, shared: 0, http_attempts: 0, retries: 0 };
  private readonly pool: EndpointPool;
  private readonly sem: Semaphore;
  private readonly cache: CallCache | undefined;
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly headers: Record<string, string>;
  private closed = false;

  private constructor(
    readonly opts: RemoteOptions,
    readonly model: string,
    private readonly tokenizer: TextTokenizer | undefined,
    /** The server is psrlm serve (it accepts max_tokens 0 for scoring). */
    readonly psrlm: boolean,
    /** The model's context in tokens, when the server lists it (vLLM's and psrlm serve's max_model_len). */
    readonly contextTokens?: number,
  ) {
    this.pool = new EndpointPool(opts.endpoints);
    this.sem = new Semaphore(opts.concurrency);
    this.cache = opts.cache ? CallCache.open(opts.cache, { fsync: opts.fsync }) : undefined;
    this.headers = opts.apiKey ? { Authorization: `Bearer ${opts.apiKey}` } : {};
    this.name = `openai:${model}@${opts.endpoints.join(',')}`;
  }

  /** Connects: lists the models (checking the name), and fetches psrlm serve's tokenizer if none was given. */
  static async open(spec: string | RemoteOptions): Promise<RemoteEngine> {
    const o = typeof spec === 'string' ? parseRemoteSpec(spec) : spec;
    const headers: Record<string, string> = o.apiKey ? { Authorization: `Bearer ${o.apiKey}` } : {};
    const quick = { ...o.retry, retries: Math.min(o.retry.retries, 2) };
    const get = (url: string) =>
      withRetries(() => requestJSON(url, undefined, { headers, timeoutMs: Math.min(o.timeoutMs, 30_000) }), quick);
    const errors: string[] = [];
    let listing:
      { data?: Array<{ id?: unknown; owned_by?: unknown; max_model_len?: unknown; parent?: unknown }> } | undefined;
    let base = '';
    for (const url of o.endpoints) {
      try {
        listing = (await get(`${url}/models`)) as typeof listing;
        base = url;
        break;
      } catch (e) {
        errors.push(`${url}: ${describe(e)}`);
      }
    }
    if (!listing) throw new Error(`remote engine: no endpoint answered GET /models:\n  ${errors.join('\n  ')}`);
    const cards = Array.isArray(listing.data) ? listing.data.filter((m) => typeof m?.id === 'string') : [];
    const ids = cards.map((m) => m.id as string);
    let model = o.model;
    if (model === undefined) {
      if (ids.length !== 1)
        throw new Error(
          `remote engine: ${base} serves ${ids.length ? ids.join(', ') : 'no models'}; name one with ` +
            `?model=NAME in the engine spec`,
        );
      model = ids[0]!;
    } else if (ids.length && !ids.includes(model)) {
      throw new Error(`remote engine: ${base} does not serve the model '${model}'; it serves ${ids.join(', ')}`);
    }
    const card = cards.find((m) => m.id === model);
    const psrlm = card?.owned_by === 'psrlm';
    let tokenizer: TextTokenizer | undefined = o.tokenizer ? loadTokenizer(o.tokenizer) : undefined;
    if (!tokenizer && psrlm) tokenizer = new Tokenizer((await get(`${base}/psrlm/tokenizer`)) as TokenizerJSON);
    // vLLM lists a LoRA adapter with max_model_len null and its base model as `parent`: the base's context
    // is the adapter's (without it the search would not know when a prompt no longer fits)
    const parentCard = typeof card?.parent === 'string' ? cards.find((m) => m.id === card.parent) : undefined;
    const len = typeof card?.max_model_len === 'number' ? card.max_model_len : parentCard?.max_model_len;
    const ctx = typeof len === 'number' ? len : undefined;
    return new RemoteEngine(o, model, tokenizer, psrlm, ctx);
  }

  private needTokenizer(what: string): TextTokenizer {
    if (!this.tokenizer) {
      throw new Error(
        `remote engine ${this.name}: ${what} needs the model's tokenizer, and none is known. ` +
          `psrlm serve endpoints send theirs; ` +
          "for other servers pass tokenizer=<checkpoint dir or tokenizer.json> in the engine spec (psrlm's " +
          'format, or a Hugging Face tokenizer.json with its tokenizer_config.json).',
      );
    }
    return this.tokenizer;
  }

  tokenize(text: string): number[] {
    return this.needTokenizer('tokenize()').encode(text);
  }

  detokenize(ids: number[]): string {
    return this.needTokenizer('detokenize()').decode(ids);
  }

  async generate(prompts: string[], o: GenerateOptions): Promise<Completion[][]> {
    const n = o.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new Error(`generate: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(o.max_tokens) || o.max_tokens < 1)
      throw new Error(`generate: max_tokens must be a positive integer, got ${o.max_tokens}`);
    if (o.seeds && o.seeds.length !== prompts.length)
      throw new Error(`generate: ${o.seeds.length} seeds for ${prompts.length} prompts`);
    const vllm = this.opts.dialect === 'vllm';
    if (!vllm && (o.include_stop || o.ignore_eos)) {
      throw new Error(
        `generate: include_stop and ignore_eos need vLLM's extensions, which dialect=openai does not send; use ` +
          `dialect=vllm`,
      );
    }
    const seeds = o.seeds ?? prompts.map((_, i) => deriveSeed(o.seed ?? 0, i));
    const split = this.opts.nMode === 'split' && n > 1;
    return Promise.all(
      prompts.map(async (p, i) => {
        if (!split) return this.complete(p, n, seeds[i]!, o);
        const one = await Promise.all(
          Array.from({ length: n }, (_, j) => this.complete(p, 1, deriveSeed(seeds[i]!, j), o)),
        );
        return one.map((c) => c[0]!);
      }),
    );
  }

  /** The explicit sampling fields every call carries. */
  private fixedFields(): Record<string, unknown> {
    const f: Record<string, unknown> = { frequency_penalty: 0, presence_penalty: 0 };
    if (this.opts.dialect === 'vllm')
      Object.assign(f, {
        top_k: -1,
        min_p: 0,
        repetition_penalty: 1,
        skip_special_tokens: true,
        spaces_between_special_tokens: false,
      });
    return f;
  }

  private async complete(prompt: string, n: number, seed: number, o: GenerateOptions): Promise<Completion[]> {
    // greedy decoding is deterministic, and vLLM refuses n > 1 with temperature 0 ("n must be 1 when using
    // greedy sampling"): ask once and hand back n copies, as the embedded engine would produce
    if ((o.temperature ?? 1) === 0 && n > 1) {
      const [one] = await this.complete(prompt, 1, seed, o);
      return Array.from({ length: n }, () => ({
        ...one!,
        tokens: one!.tokens.slice(),
        logprobs: one!.logprobs.slice(),
      }));
    }
    const stop = o.stop ?? [];
    const includeStop = o.include_stop ?? false;
    const top = o.top_logprobs ?? 0;
    const body: Record<string, unknown> = {
      model: this.model,
      prompt,
      n,
      temperature: o.temperature ?? 1,
      top_p: o.top_p ?? 1,
      max_tokens: o.max_tokens,
      stop,
      seed,
      logprobs: top,
      ...this.fixedFields(),
    };
    if (this.opts.dialect === 'vllm')
      Object.assign(body, {
        include_stop_str_in_output: includeStop,
        ignore_eos: o.ignore_eos ?? false,
        return_tokens_as_token_ids: true,
      });
    return this.call('/completions', body, (json, url) => this.parseCompletions(json, url, n, stop, includeStop, top));
  }

  private tokenId(s: string): number | undefined {
    const m = /^token_id:(\d+)$/.exec(s);
    if (m) return Number(m[1]);
    const t = this.tokenizer;
    if (!t) return undefined;
    const i = t.tokens.indexOf(s);
    return i >= 0 ? i : undefined;
  }

  private parseCompletions(
    json: unknown,
    url: string,
    n: number,
    stop: string[],
    includeStop: boolean,
    top: number,
  ): Completion[] {
    const j = json as { choices?: Choice[]; error?: unknown };
    if (!Array.isArray(j?.choices))
      throw new TransientError(
        `${url} answered without a choices array${j?.error ? `: ${JSON.stringify(j.error).slice(0, 300)}` : ''}`,
      );
    if (j.choices.length !== n) {
      throw new PermanentError(
        `${url} returned ${j.choices.length} choices for n=${n}; the server does not honour n, so use n=split ` +
          `in the engine spec`,
      );
    }
    const out = new Array<Completion>(n);
    for (const [k, c] of j.choices.entries()) {
      const idx = typeof c.index === 'number' ? c.index : k;
      if (!(idx >= 0 && idx < n) || out[idx])
        throw new TransientError(`${url} returned a choice with index ${String(c.index)} for n=${n}`);
      if (typeof c.text !== 'string') throw new TransientError(`${url} returned a choice without text`);
      const finish = this.finish(c, c.text, stop, includeStop, url);
      const lp = c.logprobs;
      let tokens: number[] = [],
        logprobs: number[] = [];
      if (lp && Array.isArray(lp.tokens) && Array.isArray(lp.token_logprobs)) {
        const ids = (lp.tokens as unknown[]).map((s) => (typeof s === 'string' ? this.tokenId(s) : undefined));
        if (ids.every((x) => x !== undefined)) tokens = ids as number[];
        logprobs = (lp.token_logprobs as unknown[]).map((x) => (typeof x === 'number' ? x : -Infinity));
      }
      // vLLM lists the end-of-sequence token among the generated ones; the engine contract leaves it out
      const eos = this.tokenizer?.eos;
      if (finish === 'eos' && eos !== undefined && tokens.length && tokens[tokens.length - 1] === eos) {
        tokens.pop();
        logprobs.pop();
      }
      const comp: Completion = { text: c.text, tokens, logprobs, finish_reason: finish };
      if (top > 0 && lp && Array.isArray(lp.top_logprobs)) {
        comp.top_logprobs = (lp.top_logprobs as unknown[]).slice(0, logprobs.length).map((d) => {
          const pairs: Array<[number, number]> = [];
          for (const [s, v] of Object.entries((d ?? {}) as Record<string, unknown>)) {
            const id = this.tokenId(s);
            if (id !== undefined && typeof v === 'number') pairs.push([id, v]);
          }
          // vLLM adds the sampled token to the k alternatives; sorting and keeping k gives the true top k
          return pairs.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, top);
        });
      }
      out[idx] = comp;
    }
    return out;
  }

  /** Maps OpenAI's finish_reason (+ vLLM's stop_reason) onto the engine's stop / length / eos. */
  private finish(c: Choice, text: string, stop: string[], includeStop: boolean, url: string): FinishReason {
    const fr = c.finish_reason;
    if (fr === 'length') return 'length';
    if (fr !== 'stop' && fr !== 'eos') {
      if (fr === 'abort' || fr === null || fr === undefined)
        throw new TransientError(`${url} returned an unfinished choice (finish_reason ${String(fr)})`);
      throw new PermanentError(
        `${url} ended a completion with finish_reason '${String(fr)}', which the engine interface cannot express`,
      );
    }
    const sr = c.stop_reason;
    if (typeof sr === 'string') return 'stop';
    if (sr === null || typeof sr === 'number') return 'eos'; // vLLM: null is EOS, a number a stop token id
    // servers without stop_reason: only the text can tell
    if (!stop.some((s) => s)) return 'eos';
    if (includeStop) return stop.some((s) => s && text.endsWith(s)) ? 'stop' : 'eos';
    return 'stop';
  }

  async logprob(requests: ScoreRequest[]): Promise<number[]> {
    return Promise.all(requests.map((r, i) => this.score(r, i)));
  }

  private score(r: ScoreRequest, i: number): Promise<number> {
    const mode =
      this.opts.scoring === 'auto' ? (this.opts.dialect === 'vllm' ? 'prompt_logprobs' : 'echo') : this.opts.scoring;
    const what = `logprob request ${i}`;
    let prompt: string | number[];
    let start: number;
    let seq: number[] | undefined;
    if (this.tokenizer) {
      // token ids, so the prompt/completion boundary is exact and EOS can be appended
      const t = this.tokenizer;
      const p = t.encode(r.prompt),
        c = t.encode(r.completion);
      if (r.eos) c.push(t.eos);
      if (!p.length) throw new Error(`${what}: empty prompt (the model needs at least one prompt token)`);
      if (!c.length) throw new Error(`${what}: empty completion`);
      seq = p.concat(c);
      prompt = seq;
      start = p.length;
    } else {
      if (r.eos) this.needTokenizer(`${what} (eos: true appends the end-of-sequence token, whose id)`);
      if (mode === 'prompt_logprobs')
        this.needTokenizer(
          `${what} with scoring=prompt_logprobs (to find where the completion starts; or use scoring=echo)`,
        );
      if (!r.completion) throw new Error(`${what}: empty completion`);
      prompt = r.prompt + r.completion;
      start = r.prompt.length; // a character offset here
    }
    const body: Record<string, unknown> = {
      model: this.model,
      prompt,
      n: 1,
      temperature: 0,
      top_p: 1,
      max_tokens: this.psrlm ? 0 : 1,
      stop: [],
      seed: 0,
      ...this.fixedFields(),
      ...(mode === 'prompt_logprobs' ? { prompt_logprobs: 0 } : { echo: true, logprobs: 0 }),
    };
    return this.call('/completions', body, (json, url) => {
      const j = json as { choices?: Choice[]; prompt_logprobs?: unknown; usage?: { prompt_tokens?: unknown } };
      const c = Array.isArray(j?.choices) ? j.choices[0] : undefined;
      if (!c) throw new TransientError(`${url} answered without choices`);
      if (mode === 'prompt_logprobs') {
        const arr = c.prompt_logprobs ?? j.prompt_logprobs;
        if (!Array.isArray(arr)) {
          throw new PermanentError(
            `${url} returned no prompt_logprobs: the server does not support vLLM's prompt_logprobs, ` +
              `so it cannot score. ` +
              'Use scoring=echo in the engine spec if it supports echo with logprobs (OpenAI legacy ' +
              'completions), or a server that does (vLLM, psrlm serve).',
          );
        }
        if (arr.length !== seq!.length)
          throw new PermanentError(
            `${url} returned ${arr.length} prompt_logprobs for ${seq!.length} prompt tokens; is tokenizer= the ` +
              `server's tokenizer?`,
          );
        let sum = 0;
        for (let t = start; t < seq!.length; t++) {
          const e = (arr[t] as Record<string, unknown> | null)?.[String(seq![t])];
          const v = typeof e === 'number' ? e : (e as { logprob?: unknown } | undefined)?.logprob;
          if (typeof v !== 'number') throw new TransientError(`${url}: prompt_logprobs[${t}] lacks token ${seq![t]}`);
          sum += v;
        }
        return sum;
      }
      const lp = c.logprobs;
      if (!lp || !Array.isArray(lp.token_logprobs)) {
        throw new PermanentError(
          `${url} returned no logprobs for echo: the server does not support echo with logprobs, so it cannot score. ` +
            'Use scoring=prompt_logprobs (vLLM) or a server that supports one of them.',
        );
      }
      const tl = lp.token_logprobs as Array<number | null>;
      let from = start,
        to: number;
      if (seq) to = seq.length;
      else {
        // text prompt: the completion starts at the first token whose offset is the prompt's length
        const off = Array.isArray(lp.text_offset) ? (lp.text_offset as number[]) : [];
        const nPrompt =
          typeof j.usage?.prompt_tokens === 'number' ? j.usage.prompt_tokens : off.length - (this.psrlm ? 0 : 1);
        from = off.findIndex((x) => x >= start);
        if (from < 0 || off[from] !== start) {
          throw new PermanentError(
            `${url}: a token spans the end of the prompt and the start of the completion, so the completion ` +
              `cannot be scored on its own; pass tokenizer= to score on token ids`,
          );
        }
        to = nPrompt;
      }
      let sum = 0;
      for (let t = from; t < to; t++) {
        const v = tl[t];
        if (typeof v !== 'number') throw new TransientError(`${url}: echo logprobs missing at token ${t}`);
        sum += v;
      }
      return sum;
    });
  }

  /** A call through the cache, the single-flight table, the semaphore, the pool and the retries. */
  private async call<T>(
    urlPath: string,
    body: Record<string, unknown>,
    parse: (json: unknown, url: string) => T,
  ): Promise<T> {
    if (this.closed) throw new Error(`remote engine ${this.name} is closed`);
    this.stats.calls++;
    const key = callKey(urlPath, body);
    const hit = this.cache?.get(key);
    if (hit !== undefined) {
      this.stats.cache_hits++;
      return hit as T;
    }
    const same = this.pending.get(key);
    if (same) {
      this.stats.shared++;
      return same as Promise<T>;
    }
    const run = (async () => {
      await this.sem.acquire();
      try {
        let ep: Endpoint | undefined;
        const value = await withRetries(
          async (attempt) => {
            ep = this.pool.pick(attempt > 0 ? ep : undefined);
            const e = ep;
            e.inflight++;
            e.sent++;
            this.stats.http_attempts++;
            try {
              const v = parse(
                await requestJSON(e.url + urlPath, body, { headers: this.headers, timeoutMs: this.opts.timeoutMs }),
                e.url + urlPath,
              );
              this.pool.succeeded(e);
              return v;
            } catch (err) {
              if (isRetryable(err)) this.pool.failed(e);
              throw err;
            } finally {
              e.inflight--;
            }
          },
          this.opts.retry,
          () => {
            this.stats.retries++;
          },
        );
        this.cache?.put(key, value); // on disk before anyone sees it: a resumed run finds it
        return value;
      } catch (e) {
        throw new Error(`remote engine ${this.name}: POST ${urlPath} failed: ${describe(e)}`, { cause: e });
      } finally {
        this.sem.release();
      }
    })();
    this.pending.set(key, run);
    try {
      return await run;
    } finally {
      this.pending.delete(key);
    }
  }

  /** Calls sent per endpoint (for load-spread checks and logs). */
  endpointStats(): Array<{ url: string; sent: number; failures: number }> {
    return this.pool.endpoints.map((e) => ({ url: e.url, sent: e.sent, failures: e.failures }));
  }

  /** Waits for calls in flight, then closes the cache. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.pending.values()]);
    this.cache?.close();
  }
}
