// `npm run bench:serve [-- --json] [--preset small] [--seconds 4] [--threads 2] [--quick]`: measures
// `psrlm serve` and the remote engine on this machine, in this run.
//
// 1. Ceiling: the same workload in process, one EmbeddedEngine.generate call for 32 prompts.
// 2. Server: `psrlm serve` in a child process on a loopback port; closed-loop clients (1, 8, 32 at a time)
//    each send one request after another (one prompt, max_tokens 32, ignore_eos, a distinct prompt and
//    seed each) for a fixed time; requests/s, completion tokens/s, latency p50/p95, and requests per engine
//    call as the server batches them. Streaming: time to first token against time to the last.
// 3. Client overhead: a stub server that answers at once with a fixed completion; per request, plain
//    fetch + JSON.parse against RemoteEngine.generate (no cache; with a cache, miss and hit), interleaved
//    call by call; the median paired difference is the remote engine's own cost per request.
// The last line with --json is one JSON object.
import { closedLoop, type Level } from './load.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { countParams, modelConfig } from '../src/engine/config.js';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import { DEMO_PRESET, preset } from '../src/engine/presets.js';
import { Tokenizer } from '../src/engine/tokenizer.js';
import { RemoteEngine } from '../src/serve/remote.js';
import { parseRemoteSpec } from '../src/serve/spec.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: DEMO_PRESET },
    seconds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
  },
});
const log = (s: string) => (values.json ? process.stderr : process.stdout).write(s + '\n');
const SECONDS = Number(values.seconds ?? (values.quick ? 1.5 : 4));
const MAX_TOKENS = 32;
const LEVELS = [1, 8, 32];
const prompt = (i: number) =>
  `Problem ${i}: a shop sells ${i % 97} pens at ${(i * 7) % 13} dollars each. Total?\nStep 1:`;

const cfg = { ...preset(values.preset!) };
const tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-bench-serve-'));
const ckpt = path.join(tmp, values.preset!);
const threads = values.threads!;
const made = EmbeddedEngine.create(cfg, Tokenizer.ascii(), 1, { threads: Number(threads) });
await made.save(ckpt);
const params = countParams(modelConfig({ ...cfg, vocab_size: Tokenizer.ascii().vocabSize }));
log(
  `model: preset ${values.preset} (${(params / 1e6).toFixed(2)}M parameters), engine ` +
    `threads ${threads}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}`,
);

// 1. in-process ceiling
made.generateSync([prompt(0)], { max_tokens: 4, seed: 0 });
let t = performance.now();
const batch = await made.generate(
  Array.from({ length: 32 }, (_, i) => prompt(i)),
  { max_tokens: MAX_TOKENS, temperature: 1, seed: 1, ignore_eos: true },
);
const ceilS = (performance.now() - t) / 1000;
const ceiling = {
  prompts: 32,
  tokens_per_s: Math.round(batch.flat().reduce((a, c) => a + c.tokens.length, 0) / ceilS),
};
await made.close();
log(`in-process ceiling: 32 prompts x ${MAX_TOKENS} tokens in one generate call: ${ceiling.tokens_per_s} tokens/s`);

// 2. psrlm serve in a child process
const main = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const child = spawn(process.execPath, [main, 'serve', '--model', ckpt, '--port', '0', '--threads', threads], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    const m = /on (http:\/\/\S+\/v1)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.on('exit', (code) => reject(new Error(`psrlm serve exited with ${code}`)));
});

async function level(c: number): Promise<Level> {
  return closedLoop(
    url,
    (i) => ({
      model: values.preset,
      prompt: prompt(i),
      max_tokens: MAX_TOKENS,
      temperature: 1,
      seed: i,
      ignore_eos: true,
    }),
    c,
    SECONDS,
  );
}

const levels: Level[] = [];
try {
  await level(2); // warm-up (JIT, connections)
  for (const c of LEVELS) {
    const r = await level(c);
    levels.push(r);
    log(
      `psrlm serve, ${c} concurrent: ${r.requests_per_s} requests/s, ${r.tokens_per_s} tokens/s, latency ` +
        `p50 ${r.p50_ms} ms, p95 ${r.p95_ms} ms (${r.requests} requests)`,
    );
  }
} finally {
  child.kill('SIGTERM');
}
await new Promise((r) => child.on('exit', r));

// streaming: first token against last, for one long request on an otherwise idle server
const child2 = spawn(process.execPath, [main, 'serve', '--model', ckpt, '--port', '0', '--threads', threads], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url2 = await new Promise<string>((resolve) => {
  let out = '';
  child2.stdout.on('data', (d) => {
    out += d;
    const m = /on (http:\/\/\S+\/v1)/.exec(out);
    if (m) resolve(m[1]!);
  });
});
let stream: { first_token_ms: number; last_token_ms: number; chunks: number };
try {
  const s = performance.now();
  const r = await fetch(`${url2}/completions`, {
    method: 'POST',
    body: JSON.stringify({ prompt: prompt(1), max_tokens: 200, n: 8, seed: 1, stream: true, ignore_eos: true }),
  });
  const reader = r.body!.getReader();
  let first = 0,
    chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!first) first = performance.now() - s;
    chunks += (new TextDecoder().decode(value).match(/^data: /gm) ?? []).length;
  }
  stream = {
    first_token_ms: Math.round(first * 10) / 10,
    last_token_ms: Math.round((performance.now() - s) * 10) / 10,
    chunks,
  };
  log(
    `streaming (n=8, 200 tokens each): first chunk after ${stream.first_token_ms} ms, last ` +
      `after ${stream.last_token_ms} ms, ${chunks} events`,
  );
} finally {
  child2.kill('SIGTERM');
}
await new Promise((r) => child2.on('exit', r));

// 3. the remote engine's own cost per request, against a stub that answers at once
const canned = JSON.stringify({
  id: 'cmpl-x',
  object: 'text_completion',
  created: 0,
  model: 'stub',
  choices: [
    {
      index: 0,
      text: 'x'.repeat(MAX_TOKENS),
      finish_reason: 'length',
      stop_reason: null,
      logprobs: {
        tokens: Array.from({ length: MAX_TOKENS }, (_, i) => `token_id:${40 + (i % 20)}`),
        token_logprobs: Array.from({ length: MAX_TOKENS }, (_, i) => -1.5 - i / 100),
        top_logprobs: Array.from({ length: MAX_TOKENS }, () => ({})),
        text_offset: Array.from({ length: MAX_TOKENS }, (_, i) => i),
      },
    },
  ],
  usage: { prompt_tokens: 60, completion_tokens: MAX_TOKENS, total_tokens: 60 + MAX_TOKENS },
});
const stub = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/v1/models' ? '{"object":"list","data":[{"id":"stub","object":"model"}]}' : canned);
  });
});
await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
const N = values.quick ? 400 : 2000;
const body = (i: number) =>
  JSON.stringify({
    model: 'stub',
    prompt: prompt(i),
    n: 1,
    temperature: 1,
    top_p: 1,
    max_tokens: MAX_TOKENS,
    stop: [],
    seed: i,
    logprobs: 0,
  });
const plain = await RemoteEngine.open(parseRemoteSpec(`openai:${stubUrl}?model=stub&concurrency=1`));
const cached = await RemoteEngine.open(
  parseRemoteSpec(
    `openai:${stubUrl}?model=stub&concurrency=1&cache=${encodeURIComponent(path.join(tmp, 'calls.jsonl'))}`,
  ),
);
const gen = (e: RemoteEngine, i: number) =>
  e.generate([prompt(i)], { max_tokens: MAX_TOKENS, temperature: 1, seed: i });
const modes: Record<string, (i: number) => Promise<unknown>> = {
  raw: async (i) =>
    (
      await fetch(`${stubUrl}/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body(i),
      })
    ).json(),
  remote: (i) => gen(plain, i),
  miss: (i) => gen(cached, 1e7 + i),
  hit: (i) => gen(cached, 2e7 + (i % 50)),
};
const times: Record<string, number[]> = { raw: [], remote: [], miss: [], hit: [] };
for (let i = -100; i < N; i++) {
  // interleaved, so drift in the machine's load hits every mode alike; the first 100 rounds warm up
  for (const [m, fn] of Object.entries(modes)) {
    const s0 = performance.now();
    await fn(i + 100);
    if (i >= 0) times[m]!.push((performance.now() - s0) * 1000);
  }
}
await plain.close();
await cached.close();
stub.close();
const med = (a: number[]) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)]!;
};
const pairedMed = (a: number[], b: number[]) => med(a.map((x, i) => x - b[i]!));
const overhead = {
  raw_fetch_us: Math.round(med(times.raw!)),
  remote_engine_us: Math.round(med(times.remote!)),
  overhead_us: Math.round(pairedMed(times.remote!, times.raw!)),
  cache_miss_us: Math.round(med(times.miss!)),
  cache_overhead_us: Math.round(pairedMed(times.miss!, times.remote!)),
  cache_hit_us: Math.round(med(times.hit!) * 10) / 10,
};
log(
  `client overhead per request (stub server, ${N} interleaved calls per mode, medians): plain ` +
    `fetch+parse ${overhead.raw_fetch_us} µs, ` +
    `RemoteEngine.generate ${overhead.remote_engine_us} µs (own cost ${overhead.overhead_us} µs); with the call ` +
    `cache: miss ${overhead.cache_miss_us} µs ` +
    `(own cost ${overhead.cache_overhead_us} µs), hit ${overhead.cache_hit_us} µs`,
);
rmSync(tmp, { recursive: true, force: true });

const result = {
  bench: 'serve',
  preset: values.preset,
  params,
  threads: Number(threads),
  cpus: cpus().length,
  load_average: Math.round(loadavg()[0]! * 100) / 100,
  node: process.version,
  seconds_per_level: SECONDS,
  request: { prompt_chars: prompt(0).length, max_tokens: MAX_TOKENS, n: 1, ignore_eos: true },
  ceiling_in_process: ceiling,
  server: Object.fromEntries(levels.map((l) => [String(l.concurrency), l])),
  streaming: stream,
  client_overhead: overhead,
};
if (values.json) console.log(JSON.stringify(result));
