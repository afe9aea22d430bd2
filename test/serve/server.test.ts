// The server's robustness: every malformed body, bad parameter, oversized request and broken HTTP gets a
// 4xx that says what is wrong (never a 5xx, never a crash); concurrent requests decode together without
// changing any result; a full queue answers 429; shutdown finishes the requests in
// flight, in process and as `psrlm serve` under SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Rng } from '../../src/engine/rng.js';
import { serve } from '../../src/serve/server.js';
import { rawRequest, startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
let ref: EmbeddedEngine;

before(async () => {
  fx = await startFixture();
  ref = EmbeddedEngine.load(fx.ckpt, { threads: 1 });
});

after(async () => {
  await ref.close();
  await fx.close();
});

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

test('malformed bodies and bad parameters get 400s that name the problem', async () => {
  const c = `${fx.server.url}/completions`,
    ch = `${fx.server.url}/chat/completions`;
  const cases: Array<[string, string, RegExp]> = [
    [c, '', /body is empty/],
    [c, 'not json', /not valid JSON/],
    [c, '[1, 2]', /must be a JSON object, got an array/],
    [c, '"x"', /must be a JSON object, got string/],
    [c, '{"prompt": 5}', /'prompt' must be/],
    [c, '{"prompt": []}', /empty array/],
    [c, '{"prompt": [1, "a"]}', /not a mix/],
    [c, '{"prompt": [[1, 2], [999]], "max_tokens": 2}', /token id 999; ids must be integers in \[0, 99\)/],
    [c, '{"prompt": "", "max_tokens": 3}', /the prompt is empty/],
    [c, '{"prompt": "x", "n": 0}', /'n' must be between 1 and 64, got 0/],
    [c, '{"prompt": "x", "n": 2.5}', /'n' must be an integer/],
    [
      c,
      JSON.stringify({ prompt: Array.from({ length: 17 }, () => 'a'), n: 64, max_tokens: 2 }),
      /asks for 1088 completions \(17 prompt\(s\) × n=64\); this server allows 1024/,
    ],
    [c, '{"prompt": "x", "max_tokens": -1}', /'max_tokens' must be between 0 and 65536/],
    [c, '{"prompt": "x", "max_tokens": 0}', /only allowed with echo or prompt_logprobs/],
    [c, '{"prompt": "x", "top_p": 0}', /'top_p' must be in \(0, 1\]/],
    [c, '{"prompt": "x", "temperature": "hot"}', /'temperature' must be a number/],
    [c, '{"prompt": "x", "stop": [1]}', /'stop' must be a string or an array of strings/],
    [c, JSON.stringify({ prompt: 'x', stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }), /17 strings; at most 16/],
    [c, '{"prompt": "x", "logprobs": true}', /true\/false is the chat API's form/],
    [c, '{"prompt": "x", "logprobs": 21}', /'logprobs' must be between 0 and 20/],
    [c, '{"prompt": "x", "seed": 1.5}', /'seed' must be an integer/],
    [c, '{"prompt": "x", "frequency_penalty": 0.5}', /not supported.*no penalties/],
    [c, '{"prompt": "x", "logit_bias": {"5": 1}}', /'logit_bias' is not supported/],
    [c, '{"prompt": "x", "best_of": 3}', /'best_of' is not supported/],
    [c, '{"prompt": "x", "stream_options": {"include_usage": true}}', /only allowed when stream is true/],
    [c, '{"prompt": "x", "echo": "yes"}', /'echo' must be true or false/],
    [c, '{"prompt": "x", "model": 5}', /'model' must be a string/],
    [c, '{"prompt": "x", "prompt_logprobs": -1}', /'prompt_logprobs' must be between 0 and 20/],
    [c, '['.repeat(20000) + ']'.repeat(20000), /not valid JSON|must be a JSON object/],
    [c, '{"prompt": "\u0000\u00ff"}', /Bad control character/],
    [c, '{"prompt": "\\u0000\\u00ff"}', /character "\\u0000" \(U\+0000\) at offset 0 is not in the vocabulary/],
    [ch, '{"messages": "hi"}', /'messages' must be a non-empty array/],
    [
      ch,
      '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}',
      /text only/,
    ],
    [ch, '{"messages": [{"role": "wizard", "content": "x"}]}', /'messages\[0\].role' must be/],
    [
      ch,
      '{"messages": [{"role": "user", "content": "x"}], "continue_final_message": true}',
      /last message to be from the assistant/,
    ],
    [ch, '{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}', /needs logprobs: true/],
    [ch, '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 3, "max_completion_tokens": 4}', /both set/],
    [ch, '{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}', /no tool calling/],
  ];
  for (const [url, body, re] of cases) {
    const r = await post(url, body);
    const text = await r.text();
    assert.equal(r.status, 400, `${body.slice(0, 80)} -> ${r.status} ${text}`);
    const j = JSON.parse(text) as { error: { message: string; type: string } };
    assert.equal(j.error.type, 'invalid_request_error');
    assert.match(j.error.message, re, body.slice(0, 80));
  }
  // routes and methods
  assert.equal((await fetch(`${fx.server.url}/embeddings`, { method: 'POST', body: '{}' })).status, 404);
  const m = await fetch(`${fx.server.url}/completions`);
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'POST');
  // __proto__ in a body is an ordinary key, not a way to set fields
  const proto = await post(
    `${fx.server.url}/completions`,
    '{"__proto__": {"stream": true}, "prompt": "x", "max_tokens": 2, "seed": 1}',
  );
  assert.equal(proto.status, 200);
  assert.equal(((await proto.json()) as { object: string }).object, 'text_completion');
});

test('random corruptions of a valid body never give a 5xx, and the server stays up', async () => {
  const valid = JSON.stringify({
    model: 'tiny',
    prompt: ['ab', 'cd'],
    n: 2,
    max_tokens: 3,
    temperature: 0.5,
    stop: ['x'],
    seed: 3,
    logprobs: 1,
    echo: true,
  });
  const rng = new Rng(2024);
  const bytes = Buffer.from(valid);
  const statuses = new Map<number, number>();
  for (let i = 0; i < 150; i++) {
    const b = Buffer.from(bytes);
    const kind = i % 3;
    if (kind === 0) for (let k = 0; k < 3; k++) b[rng.int(b.length)] = rng.int(256);
    const body =
      kind === 1
        ? b.subarray(0, rng.int(b.length))
        : kind === 2
          ? Buffer.from(valid.replace(/\d/g, () => String.fromCharCode(33 + rng.int(90))))
          : b;
    const r = await post(`${fx.server.url}/completions`, body.toString('latin1'));
    await r.arrayBuffer();
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.ok(
      r.status === 200 || (r.status >= 400 && r.status < 500),
      `corruption ${i} gave ${r.status}: ${body.toString('latin1')}`,
    );
  }
  assert.ok((statuses.get(400) ?? 0) > 50, JSON.stringify([...statuses]));
  // broken HTTP itself
  const reply = await new Promise<string>((resolve) => {
    const s = connect(fx.server.port, '127.0.0.1', () => s.write('GARBAGE / NOT-HTTP\r\n\r\n'));
    let data = '';
    s.on('data', (d) => {
      data += d.toString();
    });
    s.on('close', () => resolve(data));
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.equal((await fetch(`${fx.server.url}/models`)).status, 200);
});

test('streaming: the prompt part (echo, prompt_logprobs) comes first, then the text, then [DONE]', async () => {
  const body = { prompt: 'Hi there', max_tokens: 6, seed: 2, prompt_logprobs: 1, stream: true };
  const plain = (await (await post(`${fx.server.url}/completions`, { ...body, stream: false })).json()) as {
    choices: Array<{ text: string; prompt_logprobs: unknown }>;
  };
  for (const echo of [false, true]) {
    const r = await post(`${fx.server.url}/completions`, { ...body, echo });
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    const events = (await r.text())
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.replace(/^data: /, ''));
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map(
      (e) =>
        JSON.parse(e) as {
          choices: Array<{ text: string; prompt_logprobs?: unknown; finish_reason: string | null }>;
        },
    );
    assert.deepEqual(chunks[0]!.choices[0]!.prompt_logprobs, plain.choices[0]!.prompt_logprobs);
    assert.equal(chunks[0]!.choices[0]!.text, echo ? 'Hi there' : '');
    assert.equal(chunks.map((c) => c.choices[0]!.text).join(''), (echo ? 'Hi there' : '') + plain.choices[0]!.text);
    assert.ok(chunks.at(-1)!.choices[0]!.finish_reason);
  }
});

test('request size limit: 413 before parsing', async () => {
  const s = await serve({ engine: fx.engine, model: 'tiny', limits: { max_body_bytes: 1000 } });
  try {
    const r = await rawRequest(`${s.url}/completions`, 'POST', JSON.stringify({ prompt: 'x'.repeat(2000) }), {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 413);
    assert.match(r.text, /2013 bytes; this server accepts at most 1000/);
    // chunked, no Content-Length: caught while reading
    const chunked = await rawRequest(`${s.url}/completions`, 'POST', JSON.stringify({ prompt: 'y'.repeat(5000) }), {
      'transfer-encoding': 'chunked',
    });
    assert.equal(chunked.status, 413);
  } finally {
    await s.close();
  }
});

test('concurrent requests decode together and still equal the embedded engine one by one', async () => {
  const before = { ...fx.server.batcher.stats };
  const jobs = Array.from({ length: 12 }, (_, i) => ({
    prompt: i % 3 === 0 ? 'Shared prefix: A' : `Shared prefix: ${'BCDEFGHIJKLM'[i]}`,
    seed: 100 + i,
    max_tokens: i % 2 ? 10 : 14,
  }));
  const answers = await Promise.all(
    jobs.map(async (j) => {
      // the default skip_special_tokens (true, as in vLLM) gives the engine's own text, where special
      // tokens render as nothing
      const r = await post(`${fx.server.url}/completions`, {
        model: 'tiny',
        prompt: j.prompt,
        n: 2,
        max_tokens: j.max_tokens,
        temperature: 1,
        seed: j.seed,
        logprobs: 0,
      });
      assert.equal(r.status, 200);
      return (await r.json()) as { choices: Array<{ text: string; logprobs: { token_logprobs: number[] } }> };
    }),
  );
  const after = fx.server.batcher.stats;
  assert.equal(after.requests - before.requests, 12);
  assert.ok(after.max_live > 1, 'requests decoded together');
  for (const [i, j] of jobs.entries()) {
    const want = (
      await ref.generate([j.prompt], { n: 2, max_tokens: j.max_tokens, temperature: 1, seeds: [j.seed] })
    )[0]!;
    assert.deepEqual(
      answers[i]!.choices.map((c) => c.text),
      want.map((w) => w.text),
    );
    assert.deepEqual(
      answers[i]!.choices.map((c) => c.logprobs.token_logprobs),
      want.map((w) => w.logprobs),
    );
  }
  // skip_special_tokens: false puts a sampled <|pad|> back into the text where it was drawn
  const withSpecial = await Promise.all(
    jobs.map(
      async (j) =>
        (await (
          await post(`${fx.server.url}/completions`, {
            prompt: j.prompt,
            n: 2,
            max_tokens: j.max_tokens,
            temperature: 1,
            seed: j.seed,
            skip_special_tokens: false,
          })
        ).json()) as { choices: Array<{ text: string }> },
    ),
  );
  const k = withSpecial.findIndex((a) => a.choices.some((c) => c.text.includes('<|pad|>')));
  assert.ok(k >= 0, 'one of these seeds samples the pad token');
  assert.deepEqual(
    withSpecial[k]!.choices.map((c) => c.text.replaceAll('<|pad|>', '')),
    answers[k]!.choices.map((c) => c.text),
  );
});

test('a full queue answers 429 with Retry-After; a client that goes away does not disturb the rest', async () => {
  // 8 samples decode at a time, 2 requests may wait: of 8 requests of 8 samples some must be refused
  const s = await serve({ engine: fx.engine, model: 'tiny', max_queue: 2, max_batch_samples: 8 });
  try {
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(`${s.url}/completions`, { prompt: `p${i}`, max_tokens: 60, n: 8, seed: i, temperature: 1 + i * 0.01 }),
      ),
    );
    const codes = rs.map((r) => r.status);
    await Promise.all(rs.map((r) => r.arrayBuffer()));
    assert.ok(codes.includes(429) && codes.includes(200), codes.join(','));
    assert.equal(rs.find((r) => r.status === 429)!.headers.get('retry-after'), '1');
    // a streaming client that leaves after the first chunk
    const ac = new AbortController();
    const r = await fetch(`${s.url}/completions`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'leaving', max_tokens: 100, n: 4, stream: true, seed: 1 }),
      signal: ac.signal,
    });
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort();
    const ok = await post(`${s.url}/completions`, { prompt: 'still here', max_tokens: 3, seed: 1 });
    assert.equal(ok.status, 200);
  } finally {
    await s.close();
  }
});

test('close() lets running requests finish, refuses new ones, and returns', async () => {
  const s = await serve({ engine: fx.engine, model: 'tiny' });
  const running = post(`${s.url}/completions`, {
    prompt: 'long one',
    max_tokens: 100,
    n: 48,
    seed: 2,
    temperature: 1,
    ignore_eos: true,
  });
  while (s.batcher.live === 0) await new Promise((r) => setTimeout(r, 2));
  const closing = s.close();
  const r = await running;
  assert.equal(r.status, 200);
  const j = (await r.json()) as { choices: Array<{ finish_reason: string }>; usage: { completion_tokens: number } };
  assert.equal(j.choices.length, 48);
  assert.ok(j.choices.every((c) => c.finish_reason === 'length'));
  assert.equal(j.usage.completion_tokens, 4800);
  await closing;
  await assert.rejects(fetch(`${s.url}/models`), /fetch failed/);
});

test('psrlm serve: prints its URL, serves, and exits 0 on SIGTERM after finishing the request in flight', async () => {
  const main = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
  const child = spawn(process.execPath, [main, 'serve', '--model', fx.ckpt, '--port', '0', '--threads', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
        if (m) resolve(m[1]!);
      });
      setTimeout(() => reject(new Error(`no URL printed; stderr: ${stderr}`)), 15_000).unref();
    });
    const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
    assert.equal(models.data[0]!.id, 'tiny');
    const inflight = post(`${url}/completions`, { prompt: 'bye', max_tokens: 120, n: 32, seed: 4, ignore_eos: true });
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { choices: unknown[] }).choices.length, 32);
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: finishing running requests/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
