// The official `openai` npm client against `psrlm serve` on an ephemeral loopback port: completions and
// chat, plain and streamed, n > 1, stop strings, logprobs, echo, errors and the API key. Outputs are
// checked against the embedded engine itself (same checkpoint, same seed), not just for shape.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { renderChat } from '../../src/serve/chat.js';
import { serve } from '../../src/serve/server.js';
import { startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
let ref: EmbeddedEngine;
let client: OpenAI;

before(async () => {
  fx = await startFixture();
  ref = EmbeddedEngine.load(fx.ckpt, { threads: 1 });
  client = new OpenAI({ baseURL: fx.server.url, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
});

after(async () => {
  await ref.close();
  await fx.close();
});

test('models: the served name, owned by psrlm', async () => {
  const page = await client.models.list();
  assert.deepEqual(
    page.data.map((m) => [m.id, m.object, m.owned_by]),
    [['tiny', 'model', 'psrlm']],
  );
  assert.equal((await client.models.retrieve('tiny')).id, 'tiny');
});

test('completions: n=3 with stop strings and logprobs equal the embedded engine for the same seed', async () => {
  const prompt = 'Q: what is 2+2?\nA:';
  const r = await client.completions.create({
    model: 'tiny',
    prompt,
    n: 3,
    max_tokens: 24,
    temperature: 1,
    seed: 1234,
    stop: ['e', '\n'],
    logprobs: 2,
  });
  const want = (
    await ref.generate([prompt], {
      n: 3,
      max_tokens: 24,
      temperature: 1,
      seeds: [1234],
      stop: ['e', '\n'],
      top_logprobs: 2,
    })
  )[0]!;
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, 'tiny');
  assert.ok(Math.abs(r.created - Date.now() / 1000) < 60);
  assert.deepEqual(
    r.choices.map((c) => c.index),
    [0, 1, 2],
  );
  let completionTokens = 0;
  r.choices.forEach((c, j) => {
    const w = want[j]!;
    assert.equal(c.text, w.text);
    assert.equal(c.finish_reason, w.finish_reason === 'length' ? 'length' : 'stop');
    if (j === 0) assert.equal(w.finish_reason, 'stop', 'this seed stops choice 0 at a stop string');
    assert.ok(!c.text.includes('e') && !c.text.includes('\n'), 'stop strings are cut');
    assert.deepEqual(c.logprobs!.token_logprobs, w.logprobs);
    assert.deepEqual(
      c.logprobs!.tokens,
      w.tokens.map((t) => ref.tokenizer.tokens[t]),
    );
    c.logprobs!.top_logprobs!.forEach((d, t) => {
      for (const [id, lp] of w.top_logprobs![t]!) assert.equal(d[ref.tokenizer.tokens[id]!], lp);
    });
    const stopReason = (c as unknown as { stop_reason: string | null }).stop_reason;
    if (w.finish_reason === 'stop') assert.ok(stopReason === 'e' || stopReason === '\n');
    else assert.equal(stopReason, null);
    completionTokens += w.tokens.length;
  });
  assert.deepEqual(r.usage, {
    prompt_tokens: prompt.length,
    completion_tokens: completionTokens,
    total_tokens: prompt.length + completionTokens,
  });
});

test(
  'completions: a list of prompts, token-id prompts, echo with prompt log-probs that add up to ' + 'logprob()',
  async () => {
    const prompts = ['abc', 'Hello there'];
    const r = await client.completions.create({
      model: 'tiny',
      prompt: prompts,
      n: 2,
      max_tokens: 5,
      seed: 9,
      temperature: 0.8,
    });
    assert.deepEqual(
      r.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    const ids = await client.completions.create({
      model: 'tiny',
      prompt: prompts.map((p) => ref.tokenize(p)),
      n: 2,
      max_tokens: 5,
      seed: 9,
      temperature: 0.8,
    });
    assert.deepEqual(
      ids.choices.map((c) => c.text),
      r.choices.map((c) => c.text),
    );
    // echo + logprobs, max_tokens 0: pure scoring of prompt + completion, as OpenAI's legacy API did
    const e = await client.completions.create({
      model: 'tiny',
      prompt: 'The sum is 42',
      max_tokens: 0,
      echo: true,
      logprobs: 0,
    });
    const c = e.choices[0]!;
    assert.equal(c.text, 'The sum is 42');
    assert.equal(c.logprobs!.token_logprobs![0], null);
    const start = 'The sum is'.length;
    let sum = 0;
    for (let t = start; t < c.logprobs!.token_logprobs!.length; t++) sum += c.logprobs!.token_logprobs![t]!;
    assert.equal(sum, (await ref.logprob([{ prompt: 'The sum is', completion: ' 42' }]))[0]);
    assert.deepEqual(
      c.logprobs!.text_offset,
      [...'The sum is 42'].map((_, i) => i),
    );
  },
);

test(
  'chat: the reply equals the embedded engine on the templated prompt; continue_final_message ' + 'continues',
  async () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'What is 3+4?' },
    ];
    const r = await client.chat.completions.create({
      model: 'tiny',
      messages,
      max_tokens: 16,
      seed: 5,
      temperature: 0.9,
      n: 2,
      logprobs: true,
      top_logprobs: 1,
    });
    const prompt = renderChat(messages, true, false).prompt;
    assert.equal(prompt, 'System: Be brief.\nUser: What is 3+4?\nAssistant: ');
    const want = (await ref.generate([prompt], { n: 2, max_tokens: 16, seeds: [5], temperature: 0.9 }))[0]!;
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    r.choices.forEach((c, j) => {
      assert.equal(c.message.role, 'assistant');
      assert.equal(c.message.content, want[j]!.text);
      assert.deepEqual(
        c.logprobs!.content!.map((x) => x.logprob),
        want[j]!.logprobs,
      );
      assert.equal(c.logprobs!.content![0]!.top_logprobs.length, 1);
    });
    assert.equal(r.usage!.prompt_tokens, prompt.length);
    // continue the assistant's own partial message
    const partial = [...messages, { role: 'assistant' as const, content: 'It is' }];
    const cont = await client.chat.completions.create({
      model: 'tiny',
      messages: partial,
      max_tokens: 8,
      seed: 6,
      temperature: 0,
      // @ts-expect-error vLLM extension, passed through in the body
      continue_final_message: true,
      add_generation_prompt: false,
    });
    const w2 = (
      await ref.generate(['System: Be brief.\nUser: What is 3+4?\nAssistant: It is'], {
        max_tokens: 8,
        seeds: [6],
        temperature: 0,
      })
    )[0]![0]!;
    assert.equal(cont.choices[0]!.message.content, w2.text);
  },
);

test('streaming: completions and chat chunks add up to the non-streamed answer, usage last', async () => {
  // stop strings taken from the unstopped text, so a multi-character stop certainly ends choice 0 midway
  const free = await client.completions.create({
    model: 'tiny',
    prompt: 'Once upon a time',
    n: 2,
    max_tokens: 30,
    seed: 77,
    temperature: 1,
    ignore_eos: true,
  } as never);
  const t0 = (free as OpenAI.Completion).choices[0]!.text;
  const args = {
    model: 'tiny',
    prompt: 'Once upon a time',
    n: 2,
    max_tokens: 30,
    seed: 77,
    temperature: 1,
    stop: [t0.slice(6, 9), t0.slice(20, 22)],
    logprobs: 1,
  };
  const full = await client.completions.create(args);
  assert.equal(full.choices[0]!.finish_reason, 'stop');
  assert.ok(full.choices[0]!.text.length <= 6);
  const stream = await client.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
  const texts = ['', ''];
  const finish: Array<string | null> = [null, null];
  const lp = [0, 1].map(() => ({
    tokens: [] as string[],
    token_logprobs: [] as number[],
    text_offset: [] as number[],
  }));
  let usage: unknown;
  let chunks = 0;
  for await (const ch of stream) {
    chunks++;
    if (ch.usage) {
      usage = ch.usage;
      assert.equal(ch.choices.length, 0);
      continue;
    }
    for (const c of ch.choices) {
      assert.equal(finish[c.index], null, 'nothing after finish_reason');
      texts[c.index] += c.text;
      if (c.finish_reason) finish[c.index] = c.finish_reason;
      lp[c.index]!.tokens.push(...c.logprobs!.tokens!);
      lp[c.index]!.token_logprobs.push(...c.logprobs!.token_logprobs!);
      lp[c.index]!.text_offset.push(...c.logprobs!.text_offset!);
    }
  }
  assert.ok(chunks > 4);
  assert.deepEqual(
    texts,
    full.choices.map((c) => c.text),
  );
  assert.deepEqual(
    finish,
    full.choices.map((c) => c.finish_reason),
  );
  assert.deepEqual(
    lp,
    full.choices.map((c) => ({
      tokens: c.logprobs!.tokens,
      token_logprobs: c.logprobs!.token_logprobs,
      text_offset: c.logprobs!.text_offset,
    })),
  );
  assert.deepEqual(usage, full.usage);

  const chatArgs = {
    model: 'tiny',
    messages: [{ role: 'user' as const, content: 'Tell me a story' }],
    max_tokens: 20,
    seed: 3,
    temperature: 1,
  };
  const plain = await client.chat.completions.create(chatArgs);
  const cs = await client.chat.completions.create({ ...chatArgs, stream: true });
  let content = '',
    role = '',
    reason: string | null = null;
  for await (const ch of cs) {
    assert.equal(ch.object, 'chat.completion.chunk');
    const d = ch.choices[0]!;
    if (d.delta.role) role = d.delta.role;
    content += d.delta.content ?? '';
    if (d.finish_reason) reason = d.finish_reason;
  }
  assert.equal(role, 'assistant');
  assert.equal(content, plain.choices[0]!.message.content);
  assert.equal(reason, plain.choices[0]!.finish_reason);
});

test('errors reach the client as OpenAI errors with a status and a message naming the field', async () => {
  await assert.rejects(
    client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 4, temperature: 7 }),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.match(e.message, /temperature.*between 0 and 2, got 7/);
      return true;
    },
  );
  await assert.rejects(client.completions.create({ model: 'gpt-5', prompt: 'x', max_tokens: 4 }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.match(e.message, /model 'gpt-5' does not exist; this server serves 'tiny'/);
    return true;
  });
  await assert.rejects(
    client.completions.create({ model: 'tiny', prompt: 'naïve', max_tokens: 4 }),
    /character "ï".*not in the vocabulary/,
  );
  await assert.rejects(
    client.completions.create({ model: 'tiny', prompt: 'x'.repeat(128), max_tokens: 4 }),
    /128 tokens; the model's context is 128/,
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'tiny', messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }),
    /tool messages are not supported/,
  );
});

test('the API key: required when set, compared exactly', async () => {
  const s = await serve({ engine: fx.engine, model: 'tiny', apiKey: 'sekret' });
  try {
    const good = new OpenAI({ baseURL: s.url, apiKey: 'sekret', maxRetries: 0 });
    const badKey = new OpenAI({ baseURL: s.url, apiKey: 'sekret2', maxRetries: 0 });
    assert.equal((await good.models.list()).data.length, 1);
    await assert.rejects(
      badKey.models.list(),
      (e: unknown) => e instanceof OpenAI.AuthenticationError && /Authorization: Bearer/.test(e.message),
    );
    await assert.rejects(
      badKey.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2 }),
      OpenAI.AuthenticationError,
    );
    const r = await good.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2, seed: 1 });
    assert.equal(r.choices.length, 1);
    const health = await fetch(s.url.replace('/v1', '/health'));
    assert.equal(health.status, 200, '/health needs no key');
  } finally {
    await s.close();
  }
});
