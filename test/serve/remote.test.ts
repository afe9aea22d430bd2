// The remote engine: against psrlm serve its generations and scores equal the embedded engine's bit for
// bit; against a server without psrlm's extras (a stub here) it sends every sampling parameter and fails
// with messages that say what the server lacks; spec parsing, the call cache, retry classification and
// load spreading over several endpoints.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { openEngine } from '../../src/serve/registry.js';
import { deriveSeed } from '../../src/engine/rng.js';
import type { GenerateOptions, Trainer } from '../../src/engine/types.js';
import { CallCache, callKey, canonicalJSON } from '../../src/serve/cache.js';
import { RemoteEngine } from '../../src/serve/remote.js';
import {
  backoffMs,
  HttpError,
  isRetryable,
  PermanentError,
  retryAfter,
  TransientError,
} from '../../src/serve/retry.js';
import { parseRemoteSpec } from '../../src/serve/spec.js';
import { deadPort, startFaultProxy, startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
let ref: EmbeddedEngine;
let tmp: string;

before(async () => {
  fx = await startFixture();
  ref = EmbeddedEngine.load(fx.ckpt, { threads: 1 });
  tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-remote-'));
});

after(async () => {
  await ref.close();
  await fx.close();
  rmSync(tmp, { recursive: true, force: true });
});

const PROMPTS = ['Q: 12+30=?\nA:', 'Hello', 'Q: 12+30=?\nA:', 'The end.'];

test(
  'remote equals embedded bit for bit for the same seeds: texts, tokens, log-probs, finish reasons, ' + 'scores',
  async () => {
    const remote = (await openEngine(`openai:${fx.server.url}?concurrency=6`)) as RemoteEngine;
    try {
      assert.equal(remote.model, 'tiny');
      assert.ok(remote.psrlm);
      const cases: GenerateOptions[] = [
        { n: 3, temperature: 1, max_tokens: 20, seed: 5, stop: ['a', '\n'], top_logprobs: 3 },
        { n: 2, temperature: 0.7, top_p: 0.9, max_tokens: 30, seeds: [1, 2, 3, 4], stop: ['e'], include_stop: true },
        { temperature: 0, max_tokens: 12 },
        { n: 2, temperature: 1.3, max_tokens: 40, seed: 9, ignore_eos: true },
      ];
      for (const o of cases)
        assert.deepEqual(await remote.generate(PROMPTS, o), await ref.generate(PROMPTS, o), JSON.stringify(o));
      // the last one is 129 tokens: one more than the context, the longest the engine can score
      const reqs = [
        { prompt: 'Q: 1+1=', completion: '2', eos: true },
        { prompt: 'a', completion: 'bcd' },
        { prompt: 'x'.repeat(100), completion: 'y'.repeat(28), eos: true },
      ];
      assert.deepEqual(await remote.logprob(reqs), await ref.logprob(reqs));
      assert.deepEqual(remote.tokenize('Hi 2+2'), ref.tokenize('Hi 2+2'));
      assert.equal(remote.detokenize([40, 41, 0]), ref.detokenize([40, 41, 0]));
    } finally {
      await remote.close();
    }
    // the legacy echo route scores the same, and a tokenizer given by path works as the fetched one
    const echo = await openEngine(`openai:${fx.server.url}?scoring=echo&tokenizer=${encodeURIComponent(fx.ckpt)}`);
    try {
      const reqs = [{ prompt: 'The answer is', completion: ' 7.', eos: true }];
      assert.deepEqual(await echo.logprob(reqs), await ref.logprob(reqs));
    } finally {
      await echo.close();
    }
  },
);

test('n=split: n one-sample calls, seeded (prompt seed, j), deterministic', async () => {
  const remote = await RemoteEngine.open(parseRemoteSpec(`openai:${fx.server.url}?n=split`));
  try {
    const o = { n: 3, temperature: 1, max_tokens: 10, seed: 4 };
    const a = await remote.generate(PROMPTS.slice(0, 2), o);
    assert.equal(remote.stats.calls, 6);
    assert.deepEqual(await remote.generate(PROMPTS.slice(0, 2), o), a);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        // the server turns a one-prompt request with seed S into engine seed S, sample index 0
        const want = await ref.generate([PROMPTS[i]!], {
          temperature: 1,
          max_tokens: 10,
          seeds: [deriveSeed(deriveSeed(4, i), j)],
        });
        assert.deepEqual(a[i]![j], want[0]![0]);
      }
    }
  } finally {
    await remote.close();
  }
});

test('a remote engine is an Engine only: without training methods it cannot be passed as a Trainer', async () => {
  const remote = await RemoteEngine.open(`openai:${fx.server.url}`);
  try {
    for (const m of ['trainSFT', 'trainDPO', 'save']) assert.equal(m in remote, false, `RemoteEngine has ${m}`);
    // @ts-expect-error: a RemoteEngine is not a Trainer (the build fails here if it becomes one)
    const trainer: Trainer = remote;
    assert.ok(trainer);
  } finally {
    await remote.close();
  }
  await assert.rejects(
    RemoteEngine.open(`openai:${fx.server.url}?model=llama`),
    /does not serve the model 'llama'; it serves tiny/,
  );
});

/** A bare OpenAI-style server: no stop_reason, no prompt_logprobs, no tokenizer, one choice whatever n. */
async function stubServer(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; server: Server }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') {
        res.end(
          JSON.stringify({
            object: 'list',
            data: [
              { id: 'stub', object: 'model', owned_by: 'someone' },
              { id: 'other', object: 'model' },
            ],
          }),
        );
        return;
      }
      const b = JSON.parse(data) as Record<string, unknown>;
      bodies.push(b);
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'text_completion',
          choices: [{ index: 0, text: 'hi!', finish_reason: 'stop', logprobs: null }],
          usage: {},
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies, server };
}

test('against a plain server: every sampling parameter is sent, and missing features fail clearly', async () => {
  const stub = await stubServer();
  try {
    await assert.rejects(RemoteEngine.open(`openai:${stub.url}`), /serves stub, other; name one with \?model=NAME/);
    const vllm = await RemoteEngine.open(`openai:${stub.url}?model=stub`);
    const [[c]] = await vllm.generate(['x'], { max_tokens: 3 });
    assert.deepEqual(c, { text: 'hi!', tokens: [], logprobs: [], finish_reason: 'eos' });
    const [[s]] = await vllm.generate(['x'], { max_tokens: 3, stop: ['?'] });
    assert.equal(s!.finish_reason, 'stop', 'without stop_reason, a stop that was asked for is assumed');
    const sent = stub.bodies[0]!;
    for (const k of [
      'model',
      'prompt',
      'n',
      'temperature',
      'top_p',
      'max_tokens',
      'stop',
      'seed',
      'frequency_penalty',
      'presence_penalty',
      'top_k',
      'min_p',
      'repetition_penalty',
      'skip_special_tokens',
      'include_stop_str_in_output',
    ]) {
      assert.ok(k in sent, `the call states ${k}`);
    }
    assert.deepEqual(
      [sent.temperature, sent.top_p, sent.seed, sent.repetition_penalty, sent.top_k],
      [1, 1, deriveSeed(0, 0), 1, -1],
    );
    assert.throws(
      () => vllm.tokenize('x'),
      new RegExp(
        String.raw`needs the model's tokenizer.*tokenizer=<checkpoint dir or tokenizer.json>.*` +
          String.raw`psrlm's format, or a Hugging Face tokenizer\.json with its tokenizer_config\.json`,
      ),
    );
    await assert.rejects(
      vllm.logprob([{ prompt: 'a', completion: 'b' }]),
      /scoring=prompt_logprobs.*needs the model's tokenizer/,
    );
    await assert.rejects(vllm.generate(['x'], { max_tokens: 3, n: 2 }), /returned 1 choices for n=2.*use n=split/);
    await vllm.close();
    const withTok = await RemoteEngine.open(`openai:${stub.url}?model=stub&tokenizer=${encodeURIComponent(fx.ckpt)}`);
    await assert.rejects(
      withTok.logprob([{ prompt: 'a', completion: 'b' }]),
      /returned no prompt_logprobs: the server does not support vLLM's prompt_logprobs.*scoring=echo/,
    );
    await withTok.close();
    const openai = await RemoteEngine.open(`openai:${stub.url}?model=stub&dialect=openai&n=split&scoring=echo`);
    stub.bodies.length = 0;
    const two = await openai.generate(['x'], { max_tokens: 3, n: 2 });
    assert.equal(two[0]!.length, 2);
    assert.ok(stub.bodies.every((b) => !('top_k' in b) && !('include_stop_str_in_output' in b) && b.n === 1));
    await assert.rejects(
      openai.generate(['x'], { max_tokens: 3, include_stop: true }),
      /need vLLM's extensions.*dialect=vllm/,
    );
    await assert.rejects(
      openai.logprob([{ prompt: 'a', completion: 'b' }]),
      /returned no logprobs for echo: the server does not support echo with logprobs/,
    );
    await openai.close();
  } finally {
    stub.server.close();
  }
});

test('engine specs: several endpoints, options, defaults and clear errors', () => {
  const o = parseRemoteSpec(
    'openai:http://127.0.0.1:8000/v1,openai:http://localhost:8001?model=m&concurrency=3,' +
      'http://127.0.0.1:8002/api/v1/?timeout=2.5&n=split',
    {},
  );
  assert.deepEqual(o.endpoints, [
    'http://127.0.0.1:8000/v1',
    'http://localhost:8001/v1',
    'http://127.0.0.1:8002/api/v1',
  ]);
  assert.deepEqual(
    [o.model, o.concurrency, o.timeoutMs, o.nMode, o.dialect, o.scoring, o.apiKey],
    ['m', 3, 2500, 'split', 'vllm', 'auto', undefined],
  );
  assert.equal(parseRemoteSpec('openai:http://h:1/v1', { PSRLM_API_KEY: 'k1', OPENAI_API_KEY: 'k2' }).apiKey, 'k1');
  assert.equal(parseRemoteSpec('openai:http://h:1/v1?key_env=MY_KEY', { MY_KEY: 'k3' }).apiKey, 'k3');
  assert.throws(() => parseRemoteSpec('openai:http://h:1/v1?key_env=NOPE', {}), /environment variable NOPE is not set/);
  assert.throws(
    () => parseRemoteSpec('openai:http://h:1/v1?temperature=0', {}),
    /unknown option 'temperature'. Options: model, concurrency/,
  );
  assert.throws(
    () => parseRemoteSpec('openai:http://h:1/v1?concurrency=0', {}),
    /concurrency=0 is not an integer >= 1/,
  );
  assert.throws(() => parseRemoteSpec('openai:http://a:1?model=x,http://b:1?model=y', {}), /'model' is given twice/);
  assert.throws(() => parseRemoteSpec('openai:localhost:8000', {}), /must be an http/);
  assert.throws(() => parseRemoteSpec('openai:', {}), /names no endpoint/);
  assert.throws(() => parseRemoteSpec('openai:http://h:1?n=many', {}), /n=many; expected one of request, split/);
});

test(
  'call cache: canonical keys, reopen, torn last line cut, damaged lines skipped; a second run sends ' + 'nothing',
  async () => {
    assert.equal(canonicalJSON({ b: 1, a: [{ d: 2, c: 'x' }], u: undefined }), '{"a":[{"c":"x","d":2}],"b":1}');
    assert.equal(callKey('/completions', { a: 1, b: 2 }), callKey('/completions', { b: 2, a: 1 }));
    assert.notEqual(callKey('/completions', { a: 1 }), callKey('/chat/completions', { a: 1 }));
    const file = path.join(tmp, 'unit.jsonl');
    const k1 = callKey('/x', { i: 1 }),
      k2 = callKey('/x', { i: 2 }),
      k3 = callKey('/x', { i: 3 });
    let c = CallCache.open(file);
    c.put(k1, { v: 'one\nline' });
    c.put(k2, [1, 2]);
    c.put(k1, 'ignored: first value stays');
    c.close();
    appendFileSync(file, `${k3}\t{"torn": tr`); // a process killed mid-append
    c = CallCache.open(file);
    assert.equal(c.size, 2);
    assert.deepEqual(c.get(k1), { v: 'one\nline' });
    assert.equal(c.get(k3), undefined);
    c.put(k3, 3);
    c.close();
    assert.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 3);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\t\[1,2\]/, '\t[1,2'));
    c = CallCache.open(file);
    assert.equal(c.get(k2), undefined, 'a damaged value is a miss');
    assert.equal(c.get(k3), 3);
    c.close();

    const spec = `openai:${fx.server.url}?cache=${encodeURIComponent(path.join(tmp, 'calls.jsonl'))}`;
    const o = { n: 2, temperature: 1, max_tokens: 8, seeds: [7, 8, 7, 9] }; // prompts 0 and 2 are the same call
    const reqs = [{ prompt: 'ab', completion: 'cd' }];
    const first = await RemoteEngine.open(spec);
    const a = await first.generate(PROMPTS, o);
    const s1 = await first.logprob(reqs);
    assert.equal(first.stats.shared, 1, 'the repeated prompt rode on the identical call in flight');
    await first.close();
    const second = await RemoteEngine.open(spec);
    assert.deepEqual(await second.generate(PROMPTS, o), a);
    assert.deepEqual(await second.logprob(reqs), s1);
    assert.equal(second.stats.http_attempts, 0);
    assert.equal(second.stats.cache_hits, 5);
    await second.close();
  },
);

test('retry rules: what is transient, backoff bounds, Retry-After', () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.ok(isRetryable(new HttpError(s, 'u', 'm')), String(s));
  for (const s of [400, 401, 403, 404, 413, 422]) assert.ok(!isRetryable(new HttpError(s, 'u', 'm')), String(s));
  assert.ok(isRetryable(new TransientError('bad json')));
  assert.ok(!isRetryable(new PermanentError('no prompt_logprobs')));
  assert.ok(isRetryable(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })));
  assert.ok(isRetryable(Object.assign(new Error('x'), { name: 'TimeoutError' })));
  assert.ok(!isRetryable(new Error('a bug')));
  const p = { retries: 5, base_ms: 100, max_ms: 1000 };
  for (let a = 1; a <= 8; a++) {
    const bound = Math.min(1000, 100 * 2 ** (a - 1));
    assert.equal(
      backoffMs(a, p, undefined, () => 0),
      bound / 2,
    );
    assert.equal(
      backoffMs(a, p, undefined, () => 1),
      bound,
    );
  }
  assert.equal(
    backoffMs(1, p, 700, () => 0),
    700,
  );
  assert.equal(
    backoffMs(1, p, 5000, () => 0),
    1000,
  );
  assert.equal(retryAfter('2'), 2000);
  assert.equal(retryAfter(null), undefined);
});

test('load spreads over endpoints, and a dead endpoint only costs retries', async () => {
  const upstream = fx.server.url.replace('/v1', '');
  const p1 = await startFaultProxy(upstream, () => 'ok');
  const p2 = await startFaultProxy(upstream, () => 'ok');
  const dead = `http://127.0.0.1:${await deadPort()}/v1`;
  try {
    const both = await RemoteEngine.open(`openai:${p1.url},${p2.url}?concurrency=4`);
    const o = { n: 1, temperature: 1, max_tokens: 6, seeds: Array.from({ length: 16 }, (_, i) => i) };
    const prompts = Array.from({ length: 16 }, (_, i) => `prompt ${i}`);
    assert.deepEqual(await both.generate(prompts, o), await ref.generate(prompts, o));
    const [a, b] = both.endpointStats();
    assert.ok(a!.sent >= 4 && b!.sent >= 4, JSON.stringify(both.endpointStats()));
    await both.close();
    const withDead = await RemoteEngine.open(`openai:${dead},${p1.url}?concurrency=4&backoff=0.01`);
    assert.deepEqual(await withDead.generate(prompts, o), await ref.generate(prompts, o));
    const [d, g] = withDead.endpointStats();
    assert.ok(d!.sent > 0 && d!.sent === d!.failures, JSON.stringify(withDead.endpointStats()));
    assert.ok(g!.sent >= 16);
    await withDead.close();
    await assert.rejects(
      RemoteEngine.open(`openai:${dead}?retries=1&backoff=0.01`),
      /no endpoint answered GET \/models:\n.*ECONNREFUSED/,
    );
  } finally {
    await p1.close();
    await p2.close();
  }
});
